import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSacct, type SacctJob } from '../../main/core/slurm/sacct-parser.js';
import { bumpMemory, bumpTime, classify, decide, exceptionSignature, type FailureClass, type SweepState, type TriageMode } from '../../main/core/slurm/triage.js';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'slurm');
const sample = (name: string) => fs.readFileSync(path.join(dir, 'triage', name), 'utf8');
const recorded = parseSacct(fs.readFileSync(path.join(dir, 'sacct-mixed.txt'), 'utf8')).filter((r): r is SacctJob => r.kind === 'job');
const acct = (key: string) => recorded.find((r) => r.key === key)!;

describe('triage: classify from recorded sacct lines and log tails', () => {
  it.each([
    // [what, sacct state/exit, log sample, class]
    ['COMPLETED (testbed job 24)', acct('24'), null, 'completed'],
    ['FAILED 3:0 (testbed job 25)', acct('25'), 'exit3.err', 'failed'],
    ['TIMEOUT (testbed job 26) with its DUE TO TIME LIMIT line', acct('26'), 'timeout.out', 'timeout'],
    ['CANCELLED by 1001 (testbed job 27)', acct('27'), null, 'cancelled'],
    ['OverMemoryKill: FAILED 0:9 + "Exceeded job memory limit" (testbed job 29)', acct('29'), 'host-oom-overmemorykill.out', 'host-oom'],
    ['OUT_OF_MEMORY from cgroup accounting', { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125 }, 'host-oom-cgroup.err', 'host-oom'],
    ['OUT_OF_MEMORY with no log at all', { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125 }, null, 'host-oom'],
    ['FAILED with torch CUDA out of memory', { state: 'FAILED', exitCode: 1, signal: 0 }, 'cuda-oom.err', 'cuda-oom'],
    ['NODE_FAIL', { state: 'NODE_FAIL', exitCode: 0, signal: 0 }, null, 'infrastructure'],
    ['PREEMPTED', { state: 'PREEMPTED', exitCode: 0, signal: 0 }, null, 'infrastructure'],
    ['FAILED with a Python traceback', { state: 'FAILED', exitCode: 1, signal: 0 }, 'exception-task3.err', 'exception'],
  ] as const)('%s -> %s', (_what, a, log, expected) => {
    const c = classify({ state: a.state, exitCode: a.exitCode, signal: a.signal, logText: log ? sample(log) : '' });
    expect(c.failureClass).toBe(expected);
  });

  it('the FAILED 0:9 OverMemoryKill job without its output file is only "failed": the log is what tells OOM apart', () => {
    expect(classify({ state: 'FAILED', exitCode: 0, signal: 9, logText: '' }).failureClass).toBe('failed');
  });

  it('gives two tasks failing on one bug the same signature, and another bug a different one', () => {
    const a = exceptionSignature(sample('exception-task3.err'));
    expect(a).toBe("KeyError: 'resnet-#-wide'");
    expect(exceptionSignature(sample('exception-task7.err'))).toBe(a);
    expect(exceptionSignature(sample('exception-other.err'))).toBe("ModuleNotFoundError: No module named 'torchvision'");
    expect(exceptionSignature('plain failure\n')).toBeNull();
    expect(exceptionSignature("terminate called after throwing an instance of 'std::bad_alloc'\n")).toBe('std::bad_alloc');
  });
});

const fresh: SweepState = { halted: false, actedOn: new Set(), sameSignatureFailures: 1 };
const res = { reqMemBytes: 100 * 2 ** 20, timeLimitSec: 60 };

describe('triage: decide', () => {
  it.each([
    // [class, mode, sweep, action, changes]
    ['host-oom', 'remediate', fresh, 'bump-mem', { mem: '150M' }],
    ['host-oom', 'notify', fresh, 'notify', undefined],
    ['host-oom', 'remediate', { ...fresh, actedOn: new Set<FailureClass>(['host-oom']) }, 'notify', undefined],
    ['timeout', 'remediate', fresh, 'bump-time', { time: '00:02:00' }],
    ['timeout', 'notify', fresh, 'notify', undefined],
    ['timeout', 'remediate', { ...fresh, actedOn: new Set<FailureClass>(['timeout']) }, 'notify', undefined],
    ['timeout', 'remediate', { ...fresh, actedOn: new Set<FailureClass>(['host-oom']) }, 'bump-time', { time: '00:02:00' }],
    ['cuda-oom', 'remediate', fresh, 'notify', undefined],
    ['infrastructure', 'remediate', fresh, 'resubmit', undefined],
    ['infrastructure', 'notify', fresh, 'notify', undefined],
    ['exception', 'remediate', fresh, 'notify', undefined],
    ['exception', 'notify', { ...fresh, sameSignatureFailures: 2 }, 'halt', undefined],
    ['exception', 'remediate', { ...fresh, sameSignatureFailures: 3 }, 'halt', undefined],
    ['host-oom', 'remediate', { ...fresh, halted: true }, 'notify', undefined],
    ['completed', 'remediate', fresh, 'none', undefined],
    ['cancelled', 'remediate', fresh, 'none', undefined],
    ['failed', 'remediate', fresh, 'notify', undefined],
  ] as const)('%s in %s mode (%o) -> %s', (fc, mode, sweep, action, changes) => {
    const d = decide({ failureClass: fc, signature: fc === 'exception' ? "KeyError: 'x'" : null }, mode as TriageMode, sweep, res);
    expect(d.action).toBe(action);
    expect(d.changes).toEqual(changes);
    expect(d.reason).toMatch(/\.$/);
  });

  it('explains why nothing was done, and that CUDA OOM is not a host memory problem', () => {
    expect(decide({ failureClass: 'host-oom', signature: null }, 'notify', fresh, res).reason).toMatch(/triage\.mode is notify.*--mem=150M/);
    expect(decide({ failureClass: 'cuda-oom', signature: null }, 'remediate', fresh, res).reason).toMatch(/more host memory does not help/);
    expect(decide({ failureClass: 'host-oom', signature: null }, 'remediate', fresh, { reqMemBytes: null, timeLimitSec: null }).action).toBe('notify');
  });

  it('bumps by 50%, rounded up to whole megabytes and minutes', () => {
    expect(bumpMemory(8 * 2 ** 30)).toBe('12G');
    expect(bumpMemory(100 * 2 ** 20)).toBe('150M');
    expect(bumpMemory(2 ** 30 + 1)).toBe('1537M');
    expect(bumpTime(3600)).toBe('01:30:00');
    expect(bumpTime(61)).toBe('00:02:00');
    expect(bumpTime(86400)).toBe('1-12:00:00');
  });
});
