import { describe, expect, it } from 'vitest';
import { formatDoctorReport } from '../../main/cli/doctor-output.js';
import { runDoctor } from '../../main/core/doctor/doctor.js';

describe('doctor output', () => {
  it('marks a passed check with a warning as ⚠ and shows its fix; a clean pass hides the fix', async () => {
    const report = await runDoctor([
      { id: 'a', title: 'SSH', run: async () => ({ ok: true, message: 'connected', fix: 'never shown' }) },
      { id: 'b', title: 'Accounting', run: async () => ({ ok: true, warning: true, message: 'accounting is off', fix: 'enable slurmdbd' }) },
      { id: 'c', title: 'Slack', run: async () => ({ ok: false, message: 'no token', fix: 'hpc-relay secrets set slack-bot-token' }) },
    ]);
    const text = formatDoctorReport(report);
    expect(text.split('\n')).toEqual([
      '✓ SSH: connected',
      '⚠ Accounting: accounting is off',
      '    fix: enable slurmdbd',
      '✗ Slack: no token',
      '    fix: hpc-relay secrets set slack-bot-token',
      '2/3 checks passed (1 with a warning), 1 failed.',
      '',
    ]);
    expect(report.checks.map((c) => c.warning)).toEqual([false, true, false]);
  });

  it('sums up an all-green report', async () => {
    const report = await runDoctor([{ id: 'a', title: 'SSH', run: async () => ({ ok: true, message: 'connected' }) }]);
    expect(formatDoctorReport(report)).toBe('✓ SSH: connected\n1/1 checks passed.\n');
  });
});
