/**
 * The secret scan that closes `npm test` can fail: a planted test secret in a log, in a database
 * or in a message an emulator recorded makes scripts/secret-scan.mjs exit 1. And the emulators
 * really record what the relay sends (not the tokens they were called with).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { reply, startAnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { defaultRecordingFile } from '../helpers/hostile-recordings.js';
import { TEST_HOMES_ROOT } from '../helpers/temp-home.js';

const SCAN = path.join(REPO_ROOT, 'scripts', 'secret-scan.mjs');
const roots: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

/** A root outside the suite's own test homes, so the real scan never sees the planted secrets. */
function tempRoot(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'hpc-relay-scan-test-'));
  roots.push(r);
  return r;
}

function put(root: string, rel: string, content: string | Buffer): string {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

function scan(root: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCAN], { env: { ...process.env, HPC_RELAY_TEST_HOMES: root }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/secret-scan.mjs', () => {
  it('passes a root whose files hold no test secret, and says what it read', () => {
    const root = tempRoot();
    put(root, 'core-abc/settings.json', '{"slack":{"enabled":true},"note":"xoxb-[redacted]"}');
    put(root, 'slack-emulator/1-2.jsonl', `${JSON.stringify({ kind: 'api', method: 'chat.postMessage', params: { text: 'pong' } })}\n`);
    put(root, 'anthropic-emulator/1-3.jsonl', `${JSON.stringify({ kind: 'request', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })}\n`);
    const r = scan(root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`3 files under ${root} (1 recorded Slack messages, 1 Anthropic request bodies) hold none of the 4 test secrets`);
  });

  it.each(Object.entries(TEST_SECRETS))('fails on the %s secret in a log file', (_name, secret) => {
    const root = tempRoot();
    const log = put(root, 'core-abc/logs/hpc-relay.log', `{"msg":"connected","detail":"with ${secret} in it"}\n`);
    const r = scan(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${log} contains the test secret ${secret.slice(0, 8)}…`);
  });

  it('fails on a secret in a binary database file', () => {
    const root = tempRoot();
    const db = put(root, 'core-abc/hpc-relay.db', Buffer.concat([Buffer.from([0, 1, 2, 0xff]), Buffer.from(TEST_SECRETS.slackApp), Buffer.from([0, 0])]));
    const r = scan(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(db);
  });

  it('fails on a secret in a recorded Slack message even when the JSON escapes it', () => {
    const root = tempRoot();
    // "-" written as \u002d: the raw line does not contain the secret, its decoded text does.
    const escaped = TEST_SECRETS.slackBot.replace(/-/g, '\\u002d');
    const line = `{"kind":"api","method":"chat.postMessage","params":{"text":"token is ${escaped}"}}`;
    expect(line).not.toContain(TEST_SECRETS.slackBot);
    const p = put(root, 'slack-emulator/99-1234.jsonl', `${line}\n`);
    const r = scan(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:1 (Slack message) contains the test secret`);
  });

  it('fails on a secret inside an Anthropic request body (JSON inside the JSON line)', () => {
    const root = tempRoot();
    // The body's own JSON spells the spaces \u0020: only decoding it twice finds the passphrase.
    const secret = TEST_SECRETS.passphrase;
    const body = JSON.stringify({ messages: [{ role: 'user', content: `my passphrase is ${secret}` }] }).replace(secret, secret.replace(/ /g, '\\u0020'));
    const p = put(root, 'anthropic-emulator/99-1.jsonl', `${JSON.stringify({ kind: 'request', body })}\n`);
    expect(fs.readFileSync(p, 'utf8')).not.toContain(TEST_SECRETS.passphrase);
    const r = scan(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(Anthropic request body) contains the test secret');
  });
});

describe('the emulators record what the relay sends, for the scan', () => {
  it('Slack: each Web API call and response_url post is appended as it happens; the token is not', async () => {
    const root = tempRoot();
    const recordFile = path.join(root, 'slack-emulator', 'test.jsonl');
    const emu = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp, recordFile });
    cleanups.push(() => emu.close());
    expect(emu.recordFile).toBe(recordFile);
    const client = new webApi.WebClient(TEST_SECRETS.slackBot, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } });
    await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'job 42 finished' });
    // Recorded at once, not at close.
    const lines = fs.readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([{ kind: 'api', method: 'chat.postMessage', status: 200, params: { channel: 'C0GENERAL01', text: 'job 42 finished' } }]);
    expect(scan(root).code).toBe(0);

    // A message that leaks a token is caught.
    await client.chat.postMessage({ channel: 'C0GENERAL01', text: `oops ${TEST_SECRETS.slackApp}` });
    const r = scan(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${recordFile}:2 (Slack message)`);
  });

  it('Slack: a response_url answer is recorded too', async () => {
    const root = tempRoot();
    const recordFile = path.join(root, 'slack-emulator', 'test.jsonl');
    const emu = await startSlackEmulator({ recordFile });
    cleanups.push(() => emu.close());
    const d = emu.sendSlashCommand({ text: 'ping' });
    // No client is connected: post to the command's response_url as the relay would.
    const res = await fetch(String(d.payload.response_url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `answer with ${TEST_SECRETS.anthropic}` }) });
    expect(res.status).toBe(200);
    expect(fs.readFileSync(recordFile, 'utf8')).toContain('"kind":"response_url"');
    expect(scan(root).code).toBe(1);
  });

  it('Anthropic: each request body is appended; the API key (a header) is not', async () => {
    const root = tempRoot();
    const recordFile = path.join(root, 'anthropic-emulator', 'test.jsonl');
    const emu = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic, recordFile });
    cleanups.push(() => emu.close());
    emu.enqueue(reply.text('hello'), reply.text('hello'));
    const client = new Anthropic({ baseURL: emu.url, apiKey: TEST_SECRETS.anthropic, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'how is job 42?' }] });
    expect(fs.readFileSync(recordFile, 'utf8')).toContain('how is job 42?');
    expect(scan(root).code).toBe(0);
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: `key ${TEST_SECRETS.slackBot}` }] });
    expect(scan(root).code).toBe(1);
  });

  it('by default they record under the test homes root the closing scan reads', async () => {
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    expect(emu.recordFile).toBe(defaultRecordingFile('slack-emulator', emu.url));
    expect(emu.recordFile?.startsWith(path.join(TEST_HOMES_ROOT, 'slack-emulator', `${process.pid}-`))).toBe(true);
    const anthropic = await startAnthropicEmulator();
    cleanups.push(() => anthropic.close());
    expect(anthropic.recordFile?.startsWith(path.join(TEST_HOMES_ROOT, 'anthropic-emulator', `${process.pid}-`))).toBe(true);
  });
});
