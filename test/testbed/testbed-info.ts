// What test/testbed/up.sh writes to <stateDir>/testbed.json, and how tests receive it:
//   import { inject } from 'vitest';
//   const testbed = inject('testbed');   // typed as TestbedInfo via the augmentation below

/** Connection and cluster facts about the running testbed. */
export interface TestbedInfo {
  /** sshd address: always loopback. */
  host: string;
  port: number;
  /** Unprivileged login user on the "cluster". */
  user: string;
  /** Private ed25519 key (no passphrase) for `user`. */
  identityFile: string;
  /** known_hosts holding the testbed sshd host key(s), e.g. `[127.0.0.1]:2222 ssh-ed25519 …`. */
  knownHostsFile: string;
  /** SLURM ClusterName (what sacct/sacctmgr report). */
  clusterName: string;
  /** Partition names, default first. */
  partitions: string[];
  /** The partition marked Default=YES (listed with `*` by sinfo). */
  defaultPartition: string;
  /** SLURM account the test user's jobs are accounted under. */
  account: string;
  /** The single compute node (short hostname). */
  nodeName: string;
  /** Testbed state dir (keys, logs, pid files, testbed.json). */
  stateDir: string;
  /**
   * A bastion sshd on `host` for ProxyJump (same `user` and `identityFile`, host key in
   * `knownHostsFile`). It only forwards to the login sshd at `host:port`; commands run on it print
   * a fixed line instead. Absent in testbed.json written before it existed.
   */
  bastionPort?: number;
  /** A second ed25519 identity for `user`, encrypted with a passphrase; authorized like the first. */
  encryptedIdentityFile?: string;
  /** File holding that key's passphrase (test-only: never log or print its content). */
  encryptedIdentityPassphraseFile?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

export const DEFAULT_TESTBED_DIR = '/var/tmp/hpc-relay-testbed';

/** The state dir up.sh uses: `$HPC_RELAY_TESTBED_DIR` or /var/tmp/hpc-relay-testbed. */
export function testbedDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['HPC_RELAY_TESTBED_DIR'];
  return dir !== undefined && dir !== '' ? dir : DEFAULT_TESTBED_DIR;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validate parsed testbed.json; throws naming the first bad field. */
export function parseTestbedInfo(raw: unknown, source = 'testbed.json'): TestbedInfo {
  if (!isRecord(raw)) throw new Error(`${source}: expected a JSON object`);
  const str = (key: keyof TestbedInfo): string => {
    const v = raw[key];
    if (typeof v !== 'string' || v === '') throw new Error(`${source}: "${key}" must be a non-empty string`);
    return v;
  };
  const port = raw['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${source}: "port" must be a TCP port number`);
  }
  const partitions = raw['partitions'];
  if (!Array.isArray(partitions) || partitions.length === 0 || !partitions.every((p) => typeof p === 'string')) {
    throw new Error(`${source}: "partitions" must be a non-empty array of strings`);
  }
  const parts = partitions as string[];
  const defaultPartition = typeof raw['defaultPartition'] === 'string' ? raw['defaultPartition'] : parts[0];
  return {
    host: str('host'),
    port,
    user: str('user'),
    identityFile: str('identityFile'),
    knownHostsFile: str('knownHostsFile'),
    clusterName: str('clusterName'),
    partitions: parts,
    defaultPartition: defaultPartition ?? '',
    account: typeof raw['account'] === 'string' ? raw['account'] : '',
    nodeName: str('nodeName'),
    stateDir: str('stateDir'),
    ...optionalFields(raw, source),
  };
}

/** The fields later testbeds added: checked when present, left out when absent. */
function optionalFields(raw: Record<string, unknown>, source: string): Partial<TestbedInfo> {
  const out: Partial<TestbedInfo> = {};
  const bastionPort = raw['bastionPort'];
  if (bastionPort !== undefined) {
    if (typeof bastionPort !== 'number' || !Number.isInteger(bastionPort) || bastionPort <= 0 || bastionPort > 65535) {
      throw new Error(`${source}: "bastionPort" must be a TCP port number`);
    }
    out.bastionPort = bastionPort;
  }
  for (const key of ['encryptedIdentityFile', 'encryptedIdentityPassphraseFile'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new Error(`${source}: "${key}" must be a non-empty string`);
    out[key] = v;
  }
  return out;
}
