import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { TRUNCATION_MARKER } from '../../main/core/cluster/ssh-session.js';
import { isRelayError } from '../../main/core/errors.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { ScriptedPrompt, testbedCore, testbedSettings } from '../helpers/testbed-core.js';
import { killServerSide } from '../testbed/ssh-kit.js';

const tb = inject('testbed');
const cores: Core[] = [];
function core(...args: Parameters<typeof testbedCore>[1][]): Core {
  const c = testbedCore(tb, args[0]);
  cores.push(c);
  return c;
}
afterEach(async () => { await Promise.all(cores.splice(0).map((c) => c.close())); });

describe('the core over real SSH to the testbed (ssh2 -> OpenSSH -> SLURM)', () => {
  it('lists the partitions with sinfo through the cluster service', async () => {
    const parts = await core().cluster().partitions();
    expect(parts.map((p) => p.name).sort()).toEqual(['gpu_dev', 'gpu_normal']);
    expect(parts.find((p) => p.isDefault)?.name).toBe('gpu_normal');
    expect(parts.find((p) => p.name === 'gpu_dev')?.timeLimit).toBe('1:00:00');
  });

  it('passes hostile arguments to the remote program verbatim: no marker file appears', async () => {
    const dir = makeHome('marker');
    fs.chmodSync(dir, 0o777);
    const marker = path.join(dir, 'pwned');
    const hostile = [`'$(touch ${marker})'; rm -rf x`, `$(touch ${marker})`, `\`touch ${marker}\``, `a\nb; touch ${marker}`, '&& touch ' + marker];
    const r = await core().cluster().exec(['printf', '%s\\0', ...hostile]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(hostile);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('multiplexes many commands over one connection: one handshake for 30 commands', async () => {
    const c = core();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.cluster().exec(['echo', String(i)])));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(c.cluster().ssh.handshakes).toBe(1);
  });

  it('reports exit codes and signals, caps output with a marker, and times out', async () => {
    const c = core();
    const fail = await c.cluster().exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(fail).toMatchObject({ code: 3, stderr: 'oops\n' });
    const big = await c.cluster().exec(['head', '-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 });
    expect(big.truncated).toBe(true);
    expect(big.stdout.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(big.stdout.length).toBe(1000 + TRUNCATION_MARKER.length);
    await expect(c.cluster().exec(['sleep', '30'], { timeoutMs: 1500 })).rejects.toThrow(/longer than 2 s/);
    await expect(c.cluster().run(['sh', '-c', 'echo no such thing >&2; exit 2'])).rejects.toThrow(/`sh` failed on the cluster \(exit 2\): no such thing/);
  });

  it('asks before trusting an unknown host key, with its SHA256 fingerprint, and adds it only on yes', async () => {
    const kh = path.join(makeHome('kh'), 'known_hosts');
    const no = new ScriptedPrompt(() => null);
    const err = await core({ prompt: no, settings: { 'cluster.knownHostsFile': kh } }).cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_HOSTKEY_UNKNOWN')).toBe(true);
    expect(no.asked[0]?.message).toMatch(/fingerprint is SHA256:[A-Za-z0-9+/]{43}/);
    expect(fs.existsSync(kh)).toBe(false);

    const yes = new ScriptedPrompt((q) => (q.kind === 'confirm' ? 'yes' : null));
    await core({ prompt: yes, settings: { 'cluster.knownHostsFile': kh } }).cluster().ssh.connect();
    expect(fs.readFileSync(kh, 'utf8')).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
    const again = new ScriptedPrompt(() => null);
    await core({ prompt: again, settings: { 'cluster.knownHostsFile': kh } }).cluster().partitions();
    expect(again.asked).toHaveLength(0);
  });

  it('refuses a changed host key without asking, and says why it matters', async () => {
    const kh = path.join(makeHome('kh'), 'known_hosts');
    const real = fs.readFileSync(tb.knownHostsFile, 'utf8').split('\n').find((l) => l.includes('ssh-ed25519'))!;
    const [hostField] = real.split(' ');
    fs.writeFileSync(kh, `${hostField} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0+XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n`);
    const p = new ScriptedPrompt(() => 'yes');
    const err = await core({ prompt: p, settings: { 'cluster.knownHostsFile': kh } }).cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_HOSTKEY_CHANGED')).toBe(true);
    expect((err as Error).message).toMatch(/CHANGED.*intercepting.*refuses to connect/);
    expect(p.asked).toHaveLength(0);
  });

  it('names the methods it tried when login fails', async () => {
    const err = await core({ settings: { 'cluster.user': 'nobody' } }).cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_AUTH_FAILED')).toBe(true);
    // The testbed offers only publickey, so keyboard-interactive and password are not attempted.
    expect((err as Error).message).toMatch(/refused every login method tried \(key [^)]*relay_ed25519\)\. Check cluster\.user/);
  });

  it('reconnects on the next command after the server kills the session', async () => {
    const c = core();
    expect((await c.cluster().exec(['echo', 'before'])).stdout).toBe('before\n');
    await killServerSide(c.cluster().ssh);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.cluster().ssh.connected).toBe(false);
    expect((await c.cluster().exec(['echo', 'after'])).stdout).toBe('after\n');
    expect(c.cluster().ssh.handshakes).toBe(2);
  });

  it('hpc-relay doctor --json passes the SSH and SLURM checks, and exec runs one command', async () => {
    const home = makeHome('cli-cluster');
    for (const [k, v] of Object.entries(testbedSettings(tb))) {
      const r = await runCli(['config', 'set', k, typeof v === 'string' ? v : JSON.stringify(v)], { home });
      expect(r.code, r.stderr).toBe(0);
    }
    const doc = await runCli(['doctor', '--json'], { home });
    const report = JSON.parse(doc.stdout) as { checks: { id: string; ok: boolean; message: string }[] };
    expect(report.checks.find((c) => c.id === 'ssh.connect')).toMatchObject({ ok: true });
    expect(report.checks.find((c) => c.id === 'slurm.sinfo')?.message).toMatch(/gpu_normal \(default\), gpu_dev/);
    // The login node is this machine: the clocks agree.
    expect(report.checks.find((c) => c.id === 'cluster.clock')).toMatchObject({ ok: true, message: 'The clocks agree (within 2 s).' });
    expect(report.checks.find((c) => c.id === 'llm.key')).toMatchObject({ ok: true, message: expect.stringContaining('commands only') });
    const ex = await runCli(['exec', '--', 'printf', '%s', 'a;b $(x)'], { home });
    expect(ex).toMatchObject({ code: 0, stdout: 'a;b $(x)' });
    const ex3 = await runCli(['exec', '--', 'sh', '-c', 'exit 3'], { home });
    expect(ex3.code).toBe(3);
  });
});
