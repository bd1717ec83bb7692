import { describe, expect, it } from 'vitest';
import { outputPathsArgv, parseOutputPaths, parseOutputPathsByJob } from '../../main/core/slurm/scontrol-parser.js';

// Lines as `scontrol -o show job` prints them on the testbed (SLURM fills in %A/%a/%j itself).
const TASK = 'JobId=2792 ArrayJobId=2791 ArrayTaskId=1 JobName=wrap UserId=relay(1001) JobState=RUNNING Reason=None WorkDir=/home/relay StdErr=/home/relay/err-2791_1.txt StdIn=/dev/null StdOut=/home/relay/out 2791_1.txt Power=';
const SINGLE = 'JobId=2793 JobName=wrap JobState=COMPLETED WorkDir=/home/relay StdErr=/home/relay/slurm-2793.out StdIn=/dev/null StdOut=/home/relay/slurm-2793.out';

describe('where a job submitted elsewhere writes its output (scontrol)', () => {
  it('asks for one job key, as argv; anything else is refused before it reaches the cluster', () => {
    expect(outputPathsArgv('2791_1')).toEqual(['scontrol', '-o', 'show', 'job', '2791_1']);
    expect(() => outputPathsArgv('1; rm -rf ~')).toThrow(/not a job key/);
  });

  it('reads StdOut and StdErr (a path with a space included); StdErr defaults to StdOut', () => {
    expect(parseOutputPaths(`${TASK}\n`)).toEqual({ stdout: '/home/relay/out 2791_1.txt', stderr: '/home/relay/err-2791_1.txt' });
    expect(parseOutputPaths(SINGLE)).toEqual({ stdout: '/home/relay/slurm-2793.out', stderr: '/home/relay/slurm-2793.out' });
    expect(parseOutputPaths('JobId=5 StdOut=/x/o.txt')).toEqual({ stdout: '/x/o.txt', stderr: '/x/o.txt' });
  });

  it('nothing it can use: no job line, a relative or missing StdOut', () => {
    expect(parseOutputPaths('')).toBeNull();
    expect(parseOutputPaths('slurm_load_jobs error: Invalid job id specified')).toBeNull();
    expect(parseOutputPaths('JobId=5 StdOut=(null)')).toBeNull();
    expect(parseOutputPaths('JobId=5 StdOut=relative.out')).toBeNull();
  });

  it('by job key, for an array asked by its base id: each started task; the folded record of its pending tasks names none', () => {
    const folded = 'JobId=2791 ArrayJobId=2791 ArrayTaskId=2-5%1 JobName=wrap JobState=PENDING Reason=JobArrayTaskLimit StdErr=/home/relay/err-2791_4294967294.txt StdOut=/home/relay/out 2791_4294967294.txt';
    const found = parseOutputPathsByJob([TASK, folded, SINGLE, 'slurm_load_jobs error: Invalid job id specified', 'JobId=9 StdOut=relative.out', ''].join('\n'));
    expect([...found.entries()]).toEqual([
      ['2791_1', { stdout: '/home/relay/out 2791_1.txt', stderr: '/home/relay/err-2791_1.txt' }],
      ['2793', { stdout: '/home/relay/slurm-2793.out', stderr: '/home/relay/slurm-2793.out' }],
    ]);
    expect(parseOutputPathsByJob('')).toEqual(new Map());
  });
});
