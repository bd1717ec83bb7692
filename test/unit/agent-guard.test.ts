import { describe, expect, it } from 'vitest';
import { classifyCommand } from '../../main/core/agent/guard.js';

describe('approval guard: which remote commands are read-only', () => {
  it.each([
    [['squeue', '--me']],
    [['sinfo', '-s']],
    [['sacct', '-j', '123', '-X', '-P']],
    [['scontrol', 'show', 'job', '123']],
    [['scontrol', '-d', '-o', 'show', 'node']],
    [['sacctmgr', '-P', 'show', 'assoc', 'where', 'user=ada']],
    [['ls', '-la', '/scratch/ada']],
    [['cat', '/scratch/ada/run/metrics.csv']],
    [['head', '-n', '20', 'log.out']],
    [['tail', '-n', '50', 'slurm-1.out']],
    [['tail', '-c', '4000', '--', 'slurm-1.out']],
    [['grep', '-r', 'val_acc', '/scratch/ada/run']],
    [['find', '/scratch/ada', '-name', '*.out', '-mtime', '-1']],
    [['du', '-sh', '/scratch/ada']],
    [['df', '-h']],
    [['quota', '-s']],
    [['nvidia-smi']],
    [['nvidia-smi', '--query-gpu=name,memory.used', '--format=csv']],
    [['nvidia-smi', '-i', '0', '-q']],
    [['wc', '-l', 'metrics.csv']],
    [['date', '+%s']],
    [['hostname', '-f']],
    [['lfs', 'quota', '-u', 'ada', '/scratch']],
    // Shell syntax in an argument is literal text: argv is quoted once, no shell interprets it.
    [['cat', 'x; rm -rf ~']],
    [['grep', 'foo', '>', '/etc/passwd']],
  ])('%j runs without approval', (argv) => {
    expect(classifyCommand(argv)).toEqual({ readOnly: true });
  });

  it.each([
    [['rm', '-rf', '~'], 'not on the read-only list'],
    [['sh', '-c', 'squeue'], 'not on the read-only list'],
    [['bash', '-lc', 'ls'], 'not on the read-only list'],
    [['scancel', '123'], 'not on the read-only list'],
    [['sbatch', 'job.sh'], 'not on the read-only list'],
    [['/usr/bin/ls'], 'path'],
    [['./ls'], 'path'],
    [['scontrol', 'update', 'JobId=1', 'TimeLimit=10'], 'scontrol show'],
    [['scontrol', 'requeue', '1'], 'scontrol show'],
    [['scontrol'], 'scontrol show'],
    [['sacctmgr', 'modify', 'user', 'ada', 'set', 'maxjobs=1'], 'sacctmgr show'],
    [['sacctmgr', 'list', 'user', 'delete'], 'changes accounts'],
    [['find', '.', '-name', '*.tmp', '-delete'], '-delete'],
    [['find', '.', '-exec', 'rm', '{}', ';'], '-exec'],
    [['find', '.', '-execdir', 'sh', '-c', 'x', ';'], '-execdir'],
    [['find', '.', '-fprint', '/tmp/out'], '-fprint'],
    [['tail', '-f', 'slurm-1.out'], 'never ends'],
    [['tail', '-nf', '5', 'x'], 'never ends'],
    [['tail', '--follow=name', 'x'], 'never ends'],
    [['nvidia-smi', '-r'], 'query options'],
    [['nvidia-smi', '-pm', '1'], 'query options'],
    [['nvidia-smi', '--gpu-reset'], 'query options'],
    [['nvidia-smi', '-f', '/tmp/x'], 'writes a file'],
    [['date', '-s', '2020-01-01'], 'set the clock'],
    [['hostname', 'evil'], 'set the host name'],
    [['lfs', 'setstripe', '-c', '4', 'dir'], 'lfs quota'],
    [['awk', 'BEGIN{system("id")}'], 'not on the read-only list'],
    [['sed', '-i', 's/a/b/', 'f'], 'not on the read-only list'],
    [['env', 'rm', '-rf', '~'], 'not on the read-only list'],
    [[], 'no program'],
  ])('%j needs approval (%s)', (argv, why) => {
    const v = classifyCommand(argv);
    expect(v.readOnly).toBe(false);
    if (!v.readOnly) expect(v.reason).toContain(why);
  });

  it('does not treat inherited object keys as programs', () => {
    expect(classifyCommand(['constructor']).readOnly).toBe(false);
    expect(classifyCommand(['toString']).readOnly).toBe(false);
  });
});
