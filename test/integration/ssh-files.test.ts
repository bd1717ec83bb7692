// The remote working directory and SFTP on the shared connection, against the testbed's real
// OpenSSH (sftp-server): remoteDir() default, configured and refused; writeFile/readFile; the
// doctor's cluster.remoteDir check.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import type { Core } from '../../main/core/index.js';
import { isRelayError } from '../../main/core/errors.js';
import { makeHome } from '../helpers/temp-home.js';
import { RecordingPrompt, coreWith, killServerSide } from '../testbed/ssh-kit.js';

const tb = inject('testbed');
const cores: Core[] = [];
afterEach(async () => { await Promise.all(cores.splice(0).map((c) => c.close())); });

const tag = crypto.randomBytes(4).toString('hex');
/** Remote directories this file creates under relay's home, removed at the end. */
const made: string[] = [];

function core(over: Record<string, unknown> = {}): Core {
  const c = coreWith(makeHome('ssh-files'), {
    prompt: new RecordingPrompt(),
    settings: {
      'cluster.host': tb.host,
      'cluster.port': tb.port,
      'cluster.user': tb.user,
      'cluster.identityFile': tb.identityFile,
      'cluster.knownHostsFile': tb.knownHostsFile,
      'cluster.sshConfigFile': '/nonexistent/ssh_config',
      ...over,
    },
  });
  cores.push(c);
  return c;
}

async function remoteHome(cluster: ClusterService): Promise<string> {
  return (await cluster.run(['printenv', 'HOME'])).trim();
}

afterAll(async () => {
  if (made.length === 0) return;
  const c = core();
  await c.cluster().run(['rm', '-rf', '--', ...made]);
  await c.close();
});

describe('the remote working directory', () => {
  it('defaults to $HOME/hpc-relay (no /scratch on the testbed), creates it, and the doctor check passes', async () => {
    const c = core();
    const cluster = c.cluster();
    const home = await remoteHome(cluster);
    const hasScratch = (await cluster.exec(['test', '-d', '/scratch'])).code === 0;
    const expected = hasScratch ? `/scratch/${tb.user}/hpc-relay` : `${home}/hpc-relay`;
    expect(await cluster.remoteDir()).toBe(expected);
    expect((await cluster.exec(['test', '-d', expected, '-a', '-w', expected])).code).toBe(0);

    const report = await c.doctor();
    expect(report.checks.find((x) => x.id === 'cluster.remoteDir')).toMatchObject({ ok: true, message: `${expected} exists and is writable.` });
  });

  it('creates a configured directory verbatim, shell metacharacters and all, expanding only a leading $HOME', async () => {
    const name = `hpc-relay-test-${tag} it's "odd" $(touch pwned-${tag}) ;x`;
    const cluster = core({ 'cluster.remoteDir': `$HOME/${name}` }).cluster();
    const home = await remoteHome(cluster);
    made.push(`${home}/${name}`);
    expect(await cluster.remoteDir()).toBe(`${home}/${name}`);
    expect((await cluster.exec(['test', '-d', `${home}/${name}`])).code).toBe(0);
    expect((await cluster.exec(['sh', '-c', `ls -a "$HOME" | grep -c pwned-${tag} || true`])).stdout.trim()).toBe('1'); // only the dir's own name
  });

  it('says REMOTE_DIR_NOT_WRITABLE, with the fix, when the directory cannot be created or written', async () => {
    const cannotCreate = core({ 'cluster.remoteDir': '/root/hpc-relay' });
    const e1 = await cannotCreate.cluster().remoteDir().catch((e: unknown) => e);
    expect(isRelayError(e1, 'REMOTE_DIR_NOT_WRITABLE')).toBe(true);
    expect((e1 as Error).message).toMatch(/The remote directory \/root\/hpc-relay could not be created \(mkdir: .*Permission denied\)\. Set cluster\.remoteDir/);

    const notWritable = core({ 'cluster.remoteDir': '/usr' });
    const e2 = await notWritable.cluster().remoteDir().catch((e: unknown) => e);
    expect(isRelayError(e2, 'REMOTE_DIR_NOT_WRITABLE')).toBe(true);
    expect((e2 as Error).message).toMatch(/The remote directory \/usr is not writable \(.*Permission denied\)/);

    const check = (await notWritable.doctor()).checks.find((x) => x.id === 'cluster.remoteDir');
    expect(check).toMatchObject({ ok: false });
    expect(check?.fix).toMatch(/cluster\.remoteDir/);
  });
});

describe('SFTP on the shared connection', () => {
  it('writes a script with an exact mode, replaces it atomically, reads it back in ranges, on one handshake', async () => {
    const cluster = core({ 'cluster.remoteDir': `$HOME/hpc-relay-sftp-${tag}` }).cluster();
    const dir = await cluster.remoteDir();
    made.push(dir);
    const script = `${dir}/job.sh`;

    await cluster.writeFile(script, '#!/bin/bash\necho old\n', 0o700);
    await cluster.writeFile(script, '#!/bin/bash\necho "from sftp"\n', 0o755);
    expect((await cluster.run(['stat', '-c', '%a', script])).trim()).toBe('755');
    expect((await cluster.run([script])).trim()).toBe('from sftp');
    expect((await cluster.run(['ls', '-A', dir])).trim()).toBe('job.sh'); // no temporary files left

    const big = crypto.randomBytes(150_000);
    await cluster.writeFile(`${dir}/big.bin`, big);
    expect((await cluster.run(['stat', '-c', '%a %s', `${dir}/big.bin`])).trim()).toBe('644 150000');
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const r = await cluster.readFile(`${dir}/big.bin`, { offset, maxBytes: 40_000 });
      expect(r.size).toBe(150_000);
      parts.push(r.data);
      offset = r.nextOffset;
      if (r.eof) break;
    }
    expect(parts.map((p) => p.length)).toEqual([40_000, 40_000, 40_000, 30_000]);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    expect(await cluster.readFile(`${dir}/big.bin`, { offset: 150_000 })).toMatchObject({ size: 150_000, nextOffset: 150_000, eof: true });

    const [a, b] = await Promise.all([cluster.ssh.sftp(), cluster.ssh.sftp()]);
    expect(a).toBe(b);
    expect(cluster.ssh.handshakes).toBe(1);
  });

  it('names a missing file or directory with REMOTE_FILE_NOT_FOUND', async () => {
    const cluster = core().cluster();
    const missing = `/tmp/hpc-relay-missing-${tag}`;
    const e1 = await cluster.readFile(`${missing}/log.txt`).catch((e: unknown) => e);
    expect(isRelayError(e1, 'REMOTE_FILE_NOT_FOUND')).toBe(true);
    expect((e1 as Error).message).toContain(`Reading ${missing}/log.txt on the cluster failed: no such file or directory.`);
    const e2 = await cluster.writeFile(`${missing}/job.sh`, 'x').catch((e: unknown) => e);
    expect(isRelayError(e2, 'REMOTE_FILE_NOT_FOUND')).toBe(true);
    const e3 = await cluster.writeFile('/usr/job.sh', 'x').catch((e: unknown) => e);
    expect(isRelayError(e3, 'REMOTE_FILE_FAILED')).toBe(true);
    expect((e3 as Error).message).toContain('permission denied');
  });

  it('reads again after the server killed the connection', async () => {
    const cluster = core({ 'cluster.remoteDir': `$HOME/hpc-relay-sftp2-${tag}` }).cluster();
    const dir = await cluster.remoteDir();
    made.push(dir);
    await cluster.writeFile(`${dir}/out.log`, 'line 1\n');
    await killServerSide(cluster);
    await new Promise((r) => setTimeout(r, 300));
    expect((await cluster.readFile(`${dir}/out.log`)).data.toString()).toBe('line 1\n');
    expect(cluster.ssh.handshakes).toBe(2);
    expect(fs.existsSync(dir)).toBe(true); // the testbed shares this machine's filesystem
  });
});
