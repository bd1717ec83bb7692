// Proves the testbed itself (test/testbed/up.sh): a real sshd on loopback that lets the test
// user in with the generated key, pinned host key, and a SLURM cluster behind it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { opensshArgs } from '../testbed/ssh-kit.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';

const execFileAsync = promisify(execFile);

/** Run a command on the testbed with the system OpenSSH client (argv array, no local shell). */
async function sshRun(tb: TestbedInfo, remoteCommand: string): Promise<string> {
  const args = [
    ...opensshArgs(tb),
    '-o', 'ConnectTimeout=10',
    `${tb.user}@${tb.host}`,
    remoteCommand,
  ];
  const { stdout } = await execFileAsync('ssh', args, { timeout: 30_000 });
  return stdout;
}

describe('testbed', () => {
  const tb = inject('testbed');

  it('describes a loopback cluster with two partitions', () => {
    expect(tb.host).toBe('127.0.0.1');
    expect(tb.clusterName).toBe('relaytest');
    expect(tb.partitions).toEqual(['gpu_normal', 'gpu_dev']);
  });

  it('lists both partitions over real ssh, the default marked with *', async () => {
    const out = await sshRun(tb, 'sinfo -h -o %P');
    const listed = out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(listed).toContain(`${tb.defaultPartition}*`);
    expect(listed).toContain('gpu_normal*');
    expect(listed).toContain('gpu_dev');
    expect(listed).toHaveLength(2);
  });

  it('rejects a host key that is not pinned', async () => {
    // Same login, empty known_hosts: StrictHostKeyChecking=yes must refuse.
    await expect(sshRun({ ...tb, knownHostsFile: '/dev/null' }, 'true')).rejects.toThrow(/Host key verification failed/);
  });
});
