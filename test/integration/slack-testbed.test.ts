/**
 * The whole pipe for real: a DM in the Slack emulator → the relay's Bolt gateway → the command
 * layer → a JobsApi over the ClusterService → ssh2 → the testbed's sshd → SLURM → the reply in the
 * DM. And hostile text: shell syntax typed in Slack reaches the cluster as literal data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { ClusterJobs } from '../fakes/slack-cluster-jobs.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { ApiCall, SlackEmulator } from '../fakes/slack-emulator.js';
import { makeHome } from '../helpers/temp-home.js';
import { testbedCore } from '../helpers/testbed-core.js';

const tb = inject('testbed');

const ECHO_ARGS = `#!/bin/sh
# Prints each argument on its own line, exactly as received.
for a in "$@"; do printf 'ARG[%s]\\n' "$a"; done
echo done
`;
const TICKER = `#!/bin/sh
i=1
while [ $i -le 200 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done
`;

let core: Core;
let emu: SlackEmulator;
let gw: SlackGateway;
let jobs: ClusterJobs;
let remote: string;
const cleanup: Array<() => Promise<unknown>> = [];

async function sh(argv: string[], stdin?: string): Promise<string> {
  return core.cluster().run(argv, { timeoutMs: 30_000, ...(stdin !== undefined ? { stdin } : {}) });
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const replies = (): ApiCall[] => emu.callsTo('chat.postMessage');
async function dm(text: string, match: (reply: string) => boolean, ms = 30_000): Promise<string> {
  const before = replies().length;
  emu.sendDirectMessage({ text });
  const call = await emu.waitFor(() => replies().slice(before).find((c) => match(String(c.params.text))), ms, `a reply to ${JSON.stringify(text.slice(0, 60))}`);
  return String(call.params.text);
}

beforeAll(async () => {
  core = testbedCore(tb);
  cleanup.push(() => core.close());
  const home = (await sh(['printenv', 'HOME'])).trim();
  remote = `${home}/hpc-relay-slack-it`;
  await sh(['mkdir', '-p', remote]);
  await sh(['sh', '-c', 'cat > "$1" && chmod 755 "$1"', 'sh', `${remote}/echo_args.sh`], ECHO_ARGS);
  await sh(['sh', '-c', 'cat > "$1" && chmod 755 "$1"', 'sh', `${remote}/ticker.sh`], TICKER);
  jobs = new ClusterJobs(() => core.cluster(), { outDir: remote, scripts: { echo_args: `${remote}/echo_args.sh`, ticker: `${remote}/ticker.sh` } });
  emu = await startSlackEmulator();
  cleanup.push(() => emu.close());
  gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
    allowedUsers: () => [emu.defaultUserId], ports: { jobs }, registry: core.registry,
  });
  cleanup.push(() => gw.stop());
  await gw.start();
});

afterAll(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

describe('Slack → real cluster (testbed)', () => {
  it('DM status and tail: the answer comes from squeue and the job’s output over the SSH session', async () => {
    const submitted = await dm('submit ticker', (t) => t.startsWith('Submitted'));
    const jobId = /as job (\d+)/.exec(submitted)?.[1];
    expect(jobId).toMatch(/^\d+$/);
    cleanup.push(() => sh(['scancel', jobId!]).catch(() => undefined));

    const status = await dm('status', (t) => t.includes(jobId!));
    expect(status).toMatch(new RegExp(`${jobId}\\s+(RUNNING|PENDING)\\s+\\S+.*slack-ticker`));

    // Wait for a few lines of output, then tail them from Slack.
    await until(async () => ((await jobs.tail(jobId!, 5).catch(() => undefined))?.lines.length ?? 0) >= 3 ? true : undefined, 60_000, 'ticker output');
    const tail = await dm(`tail ${jobId} 3`, (t) => t.startsWith('Last'));
    expect(tail).toMatch(new RegExp(`^Last 3 lines of job ${jobId} from \`${remote}/${jobId}\\.out\`:`));
    expect(tail).toMatch(/```tick \d+\ntick \d+\ntick \d+```$/);

    // And cancel through the approval button.
    emu.sendDirectMessage({ text: `cancel ${jobId}` });
    const ask = await emu.waitForCall('chat.postMessage', (c) => String(c.params.text).startsWith('Approval needed: cancel job'));
    const value = ((ask.params.blocks as Array<{ type: string; elements?: Array<{ value: string }> }>).find((b) => b.type === 'actions')?.elements ?? [])[0]!.value;
    emu.sendButtonClick({ actionId: 'hpc_approve', value, messageTs: String(ask.response.ts) });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).endsWith(`Job ${jobId} is cancelled.`), 30_000);
    const state = await until(async () => {
      const out = await sh(['sacct', '-j', jobId!, '-X', '-n', '-P', '-o', 'State']);
      return /CANCELLED/.test(out) ? out.trim() : undefined;
    }, 30_000, 'the job to be cancelled');
    expect(state).toMatch(/^CANCELLED/);
  });

  it('shell metacharacters typed in Slack reach the job literally; no marker file appears', async () => {
    const dir = makeHome('slack-marker');
    fs.chmodSync(dir, 0o777);
    const marker = path.join(dir, 'pwned');
    // As Slack delivers it: & < > arrive escaped (&amp; &lt; &gt;); the parser undoes that.
    const values = {
      a: `$(touch ${marker})`,
      b: `\`touch ${marker}\``,
      c: `x; touch ${marker}`,
      d: `|| touch ${marker} && echo`,
      e: `'; touch ${marker}; '`,
      f: `> ${marker}`,
      g: 'ünïcødé = with = signs',
    };
    const slackText = `submit echo_args a='${values.a}' b="${values.b}" c="${values.c}" d="${values.d.replace(/&/g, '&amp;')}" e="${values.e}" f="${values.f.replace(/>/g, '&gt;')}" g="${values.g}"`;
    const submitted = await dm(slackText, (t) => t.startsWith('Submitted') || t.includes('failed'));
    expect(submitted).toMatch(/^Submitted `echo_args` as job \d+/);
    const jobId = /as job (\d+)/.exec(submitted)![1]!;
    const out = await until(async () => {
      const text = await sh(['cat', `${remote}/${jobId}.out`]).catch(() => '');
      return text.includes('done') ? text : undefined;
    }, 90_000, 'the echo_args job to finish');
    expect(out.split('\n').filter((l) => l.startsWith('ARG['))).toEqual(Object.entries(values).map(([k, v]) => `ARG[${k}=${v}]`));
    expect(fs.existsSync(marker)).toBe(false);

    // Hostile text that is no valid command never reaches the cluster at all.
    const before = jobs.commands.length;
    for (const text of [`tail 1;touch ${marker}`, `status; touch ${marker}`, `cancel $(touch ${marker})`, `tail 1\ntouch ${marker}`]) {
      const answer = await dm(text, () => true);
      expect(answer.split('\n')).toHaveLength(1);
    }
    expect(jobs.commands.length).toBe(before);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
