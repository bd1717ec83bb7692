import { describe, expect, it } from 'vitest';
import { ApprovalBroker } from '../../main/core/slack/approvals.js';
import { ManualClock } from '../fakes/manual-clock.js';


describe('ApprovalBroker', () => {
  it('runs the action once on approve; the id is unguessable and single-use', async () => {
    const clock = new ManualClock();
    const b = new ApprovalBroker(clock);
    let runs = 0;
    const a = b.open({ summary: 'cancel job 7', requestedBy: 'U1', onApprove: async (by) => { runs++; return `done by ${by}.`; } });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b.open({ summary: 'x', requestedBy: 'U1' }).id).not.toBe(a.id);
    const [first, second] = await Promise.all([b.decide(a.id, true, 'U2'), b.decide(a.id, true, 'U2')]);
    expect(first).toEqual({ kind: 'done', approved: true, text: 'Approved by <@U2>: cancel job 7. done by U2.' });
    expect(second).toEqual({ kind: 'already', by: 'U2', approved: true });
    expect(runs).toBe(1);
    expect(await a.outcome).toEqual({ approved: true, by: 'U2' });
  });

  it('expires after its TTL: a late click is refused and nothing runs', async () => {
    const clock = new ManualClock();
    const b = new ApprovalBroker(clock);
    let runs = 0;
    const a = b.open({ summary: 'cancel job 7', requestedBy: 'U1', ttlMs: 60_000, onApprove: async () => { runs++; return ''; } });
    clock.advance(60_001);
    expect(await a.outcome).toEqual({ approved: false, by: null, reason: 'expired' });
    expect(await b.decide(a.id, true, 'U1')).toEqual({ kind: 'already', by: null, approved: null });
    expect(runs).toBe(0);
  });

  it('a failing action is reported in the outcome text, malformed and unknown ids are refused, shutdown resolves the rest', async () => {
    const b = new ApprovalBroker(new ManualClock());
    const a = b.open({ summary: 'cancel job 8', requestedBy: 'U1', onApprove: async () => { throw new Error('scancel: <error> job already done'); } });
    expect(await b.decide(a.id, true, 'U1')).toEqual({ kind: 'done', approved: true, text: 'Approved by <@U1>: cancel job 8. It failed: scancel: &lt;error&gt; job already done' });
    expect(await b.decide('short', true, 'U1')).toEqual({ kind: 'unknown' });
    expect(await b.decide('A'.repeat(22), true, 'U1')).toEqual({ kind: 'unknown' });
    const c = b.open({ summary: 'resubmit', requestedBy: 'U1' });
    b.closeAll();
    expect(await c.outcome).toEqual({ approved: false, by: null, reason: 'stopped' });
    expect(b.isPending(c.id)).toBe(false);
  });
});
