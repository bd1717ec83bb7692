import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerminalApprover } from '../../main/core/agent/approvers.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { reply, startAnthropicEmulator, toolResultsIn, type AnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { runCli } from '../helpers/cli.js';
import { ScriptedPrompt } from '../helpers/testbed-core.js';
import { makeHome } from '../helpers/temp-home.js';

/** `hpc-relay ask` and `hpc-relay usage` as a separate process, against the Anthropic emulator. */
let emu: AnthropicEmulator;
beforeAll(async () => {
  emu = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
});
afterAll(async () => {
  await emu.close();
});

function agentHome(): string {
  const home = makeHome('agent-cli');
  new FileConfigStore(home).write({ llm: { enabled: true, baseUrl: emu.url, model: 'claude-sonnet-4-6' } });
  return home;
}

const withKey = { HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic };

describe('hpc-relay usage / ask', () => {
  it('usage on a fresh home: nothing spent, the budget and the model', async () => {
    const r = await runCli(['usage', '--json'], { home: makeHome('agent-cli') });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ monthUsd: 0, budgetUsd: 20, calls: 0, conversations: 0, model: 'claude-sonnet-5-5', pricedAs: 'sonnet', fallbackPrice: false, byConversation: [] });
    const text = await runCli(['usage'], { home: makeHome('agent-cli') });
    expect(text.stdout).toMatch(/^Agent spending, \w+ \d{4}: \$0\.00 of \$20\.00 \(\$20\.00 left\)\n/);
  });

  it('ask without an API key says how to enable the agent (exit 1) and calls no model', async () => {
    const before = emu.messageRequests.length;
    const r = await runCli(['ask', 'train the CNN'], { home: makeHome('agent-cli') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hpc-relay: The agent is off and has no Anthropic API key, so I can only run commands (`help` lists them). To enable it: `hpc-relay secrets set anthropic-api-key`, then `hpc-relay config set llm.enabled true`.\n');
    expect(emu.messageRequests.length).toBe(before);
  });

  it('ask answers, records the spend, and usage shows it', async () => {
    const home = agentHome();
    emu.enqueue({ kind: 'text', text: 'You have no jobs running.', usage: { input_tokens: 3000, output_tokens: 50 } });
    const r = await runCli(['ask', '--json', '--thread', 'lab', 'anything', 'running?'], { home, env: withKey });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, text: 'You have no jobs running.', submitted: [], modelCalls: 1, conversation: 'cli:lab' });
    expect(emu.messageRequests.at(-1)?.body?.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'anything running?' }] }]);
    const u = await runCli(['usage', '--json'], { home });
    expect(JSON.parse(u.stdout)).toMatchObject({ calls: 1, inputTokens: 3000, outputTokens: 50, conversations: 1, byConversation: [{ conversationId: 'cli:lab', calls: 1 }] });
    expect(JSON.parse(u.stdout).monthUsd).toBeCloseTo((3000 * 3 + 50 * 15) / 1e6, 10);
  });

  it('an action needing approval is refused when there is no terminal to ask', async () => {
    const home = agentHome();
    emu.enqueue(reply.toolUse('cancel_job', { job_id: '12' }), (req) => reply.text(`Could not: ${String(toolResultsIn(req.body)[0]?.content)}`));
    const r = await runCli(['ask', 'cancel job 12'], { home, env: withKey });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Could not: Not done: this needs a person's approval (cancelling changes the cluster), and the approval was not possible here (nobody can approve from this place).");
  });
});

describe('TerminalApprover', () => {
  const ask = { summary: 'Run `rm -rf ~/x` on the login node', detail: "rm -rf '~/x'", reason: 'it may change something: `rm` is not on the read-only list', tool: 'run_remote_command', conversationId: 'cli:t' };

  it('shows the exact action and why, and maps y / anything else to approve / deny', async () => {
    const yes = new ScriptedPrompt(() => 'yes');
    expect(await new TerminalApprover(yes).request(ask)).toEqual({ approved: true, by: 'terminal user' });
    expect(yes.asked[0]).toMatchObject({ kind: 'confirm', title: 'Approve agent action' });
    expect(yes.asked[0]?.message).toContain("rm -rf '~/x'");
    expect(yes.asked[0]?.message).toContain('`rm` is not on the read-only list');
    expect(await new TerminalApprover(new ScriptedPrompt(() => null)).request(ask)).toEqual({ approved: false, by: null, reason: 'denied' });
    const unasked = new ScriptedPrompt(() => 'yes');
    expect(await new TerminalApprover(unasked, () => false).request(ask)).toEqual({ approved: false, by: null, reason: 'unavailable' });
    expect(unasked.asked).toEqual([]);
  });
});
