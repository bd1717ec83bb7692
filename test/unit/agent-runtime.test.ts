import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentFor, makeAgentServiceFactory } from '../../main/core/agent/runtime.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { cronServiceFor } from '../../main/core/cron/cron-runtime.js';
import { createCore, type Core } from '../../main/core/index.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import type { FinalizeResult } from '../../main/core/store/job-store.js';
import { reply, startAnthropicEmulator, type AnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { ScriptedPrompt } from '../helpers/testbed-core.js';
import { makeHome } from '../helpers/temp-home.js';
import { denyAll, RecordingPoster, RecordingServices } from './agent-harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(): Promise<{ core: Core; emu: AnthropicEmulator; home: string }> {
  const emu = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
  const home = makeHome('agent-runtime');
  const registry = new SecretRegistry();
  const core = createCore({
    home, configStore: new FileConfigStore(home), keychain: null, keychainError: 'none in this test', env: { HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic },
    registry, logger: createMemoryLogger(), prompt: new ScriptedPrompt(),
  });
  // Never contacted: the agent's cluster services are replaced; the job service is only an event source here.
  for (const [k, v] of Object.entries({ 'cluster.host': 'hpc.invalid', 'llm.enabled': true, 'llm.baseUrl': emu.url, 'llm.model': 'claude-sonnet-4-6' })) core.settings.set(k, v);
  cleanups.push(async () => { await core.close(); await emu.close(); });
  return { core, emu, home };
}

function final(jobId: string): FinalizeResult {
  return { job: { jobKey: jobId, state: 'COMPLETED', exitCode: 0, signal: 0, elapsedSec: 61, name: 'hpc-relay-cnn_train' }, decision: { action: 'notify' }, transition: {} } as unknown as FinalizeResult;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the agent runtime service (app and daemon)', () => {
  it('declines without a cluster; otherwise job ends from the job service reach the one shared agent, until it stops', async () => {
    const { core, emu } = await setup();
    const services = new RecordingServices();
    const poster = new RecordingPoster();
    core.settings.unset('cluster.host');
    expect(await makeAgentServiceFactory({ poster: () => poster })(core)).toBeNull();
    core.settings.set('cluster.host', 'hpc.invalid');
    const svc = await makeAgentServiceFactory({ poster: () => poster, services: () => services })(core);
    if (!svc) throw new Error('the agent service declined');
    await svc.start();
    const agent = agentFor(core);
    expect(agentFor(core)).toBe(agent);

    emu.enqueue(reply.toolUse('submit_job', { template: 'cnn_train', params: { epochs: 2 } }), reply.text('ok'), reply.text('Done: val_acc 0.44. Next: 10 epochs.'));
    const r = await agent.ask('train the CNN for 2 epochs', { conversationId: 'slack:C1:1.1', where: { channelId: 'C1', threadTs: '1.1' }, approver: denyAll() });
    const jobId = r.submitted[0]?.jobId ?? '';
    services.logs.set(jobId, 'epoch=2 val_acc=0.44\n');
    core.jobs().tracker.emit('final', final(jobId));
    await until('the summary', () => poster.posts.length === 1);
    expect(poster.posts[0]).toEqual({ where: { channelId: 'C1', threadTs: '1.1' }, text: `Job ${jobId} ended (COMPLETED). Done: val_acc 0.44. Next: 10 epochs.` });
    expect(emu.messageRequests).toHaveLength(3);

    await svc.stop();
    emu.enqueue(reply.toolUse('submit_job', { template: 'cnn_train', params: { epochs: 3 } }), reply.text('ok'));
    const second = await agent.ask('and 3 epochs', { conversationId: 'slack:C1:1.2', where: { channelId: 'C1', threadTs: '1.2' }, approver: denyAll() });
    core.jobs().tracker.emit('final', final(second.submitted[0]?.jobId ?? ''));
    await new Promise((res) => setTimeout(res, 50));
    expect(emu.messageRequests).toHaveLength(5);
    expect(poster.posts).toHaveLength(1);
  });

  it('gives cron\'s prompt monitors the agent as their runner', async () => {
    const { core, emu, home } = await setup();
    const svc = await makeAgentServiceFactory({ poster: () => new RecordingPoster(), services: () => new RecordingServices() })(core);
    await svc?.start();
    cleanups.push(async () => { await svc?.stop(); });
    const out = path.join(home, 'monitor.txt');
    const m = await cronServiceFor(core).create({ schedule: 'every 5m', kind: 'prompt', prompt: 'how are my jobs?', to: `file:${out}` });
    emu.enqueue(reply.text('Two jobs running, both healthy.'));
    const run = await cronServiceFor(core).runNow(m.id);
    expect(run.outcome).toBe('ok');
    expect(fs.readFileSync(out, 'utf8')).toContain('Two jobs running, both healthy.');
    expect(JSON.stringify(emu.messageRequests[0]?.body?.messages)).toContain('how are my jobs?');
  });
});
