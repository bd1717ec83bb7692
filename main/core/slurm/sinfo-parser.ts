import { RelayError } from '../errors.js';

export interface Partition {
  name: string;
  isDefault: boolean;
  available: boolean;
  /** SLURM's time limit text, e.g. `1:00:00`, `infinite`. */
  timeLimit: string;
  nodes: number;
}

/** The sinfo argv whose output parsePartitions reads: one line per partition, `|`-separated. */
export const SINFO_PARTITIONS_ARGV = ['sinfo', '--noheader', '--format=%P|%a|%l|%D'] as const;

export function parsePartitions(stdout: string): Partition[] {
  const byName = new Map<string, Partition>();
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [p, avail, limit, nodes] = line.split('|');
    if (!p || avail === undefined || limit === undefined || nodes === undefined || !/^\d+$/.test(nodes)) {
      throw new RelayError('SLURM_PARSE', `sinfo printed a line HPC Relay cannot read: ${JSON.stringify(line.slice(0, 120))}.`, { fix: 'Check that `sinfo` works on the login node; report this line if it does.' });
    }
    const isDefault = p.endsWith('*');
    const name = isDefault ? p.slice(0, -1) : p;
    const prev = byName.get(name);
    if (prev) prev.nodes += Number(nodes);
    else byName.set(name, { name, isDefault, available: avail === 'up', timeLimit: limit, nodes: Number(nodes) });
  }
  return [...byName.values()];
}
