import type { Command } from 'commander';
import type { Core } from '../core/index.js';
import { runDoctor } from '../core/doctor/doctor.js';
import { slackChecks } from '../core/slack/checks.js';
import { slackAppManifest } from '../core/slack/manifest.js';
import { printDoctorReport } from './doctor-output.js';
import { printJson } from './output.js';

type OpenCore = () => Promise<Core>;

const SETUP_STEPS = `Create the app: https://api.slack.com/apps → Create New App → From an app manifest → pick the workspace → paste this JSON.
Then: Install to Workspace; copy the Bot User OAuth Token (xoxb-…) and run \`hpc-relay secrets set slack-bot-token\`;
Basic Information → App-Level Tokens → Generate (scope connections:write); copy it (xapp-…) and run \`hpc-relay secrets set slack-app-token\`;
\`hpc-relay config set slack.allowedUsers '["U…your member ID…"]'\`, \`hpc-relay config set slack.enabled true\`, then \`hpc-relay slack test\`.
`;

export function registerSlackCommands(program: Command, open: OpenCore): void {
  const slack = program.command('slack').description('Set up the Slack app: print its manifest, test tokens, scopes and event delivery.');

  slack
    .command('manifest')
    .option('--name <name>', 'the app’s name in Slack', 'HPC Relay')
    .option('--follow-threads', 'also read channel threads the bot was mentioned in (adds the message.channels and message.groups events)')
    .description('Print the Slack app manifest (JSON on stdout, setup steps on stderr).')
    .action((opts: { name: string; followThreads?: boolean }) => {
      printJson(slackAppManifest({ name: opts.name, followThreads: opts.followThreads === true }));
      if (process.stderr.isTTY) process.stderr.write(`\n${SETUP_STEPS}`);
    });

  slack
    .command('test')
    .option('--json', 'print {"ok", "checks": [{"id", "ok", "warning", "message", "fix"}]}')
    .option('--no-events', 'skip the event round trip (it posts one DM to the first allowed user)')
    .description('Check the Slack setup: auth.test with the bot token, apps.connections.open with the app token, the scopes, and that events arrive; exit 1 when any fails.')
    .action(async (opts: { json?: boolean; events: boolean }) => {
      const core = await open();
      try {
        const report = await runDoctor(slackChecks({ settings: core.settings, secrets: core.secrets, logger: core.logger }, { events: opts.events }));
        printDoctorReport(report, opts.json);
        if (!opts.json && !core.settings.settings().slack.enabled) process.stdout.write('note: slack.enabled is false; run `hpc-relay config set slack.enabled true` to start the gateway with the app or `hpc-relay daemon`.\n');
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await core.close();
      }
    });
}
