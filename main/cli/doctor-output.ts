import type { DoctorReport } from '../core/doctor/doctor.js';
import { printJson } from './output.js';

/** The lines `hpc-relay doctor` and `slack test` print: ✓ passed, ⚠ passed with something to read, ✗ failed. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    const mark = !c.ok ? '✗' : c.warning ? '⚠' : '✓';
    lines.push(`${mark} ${c.title}: ${c.message}`);
    if (c.fix && (!c.ok || c.warning)) lines.push(`    fix: ${c.fix}`);
  }
  const warnings = report.checks.filter((c) => c.ok && c.warning).length;
  const failed = report.checks.filter((c) => !c.ok).length;
  const total = report.checks.length;
  lines.push(`${total - failed}/${total} checks passed${warnings ? ` (${warnings} with a warning)` : ''}${failed ? `, ${failed} failed` : ''}.`);
  return `${lines.join('\n')}\n`;
}

/** Prints a doctor report as text or JSON (`warning` is true for a passed check worth reading). */
export function printDoctorReport(report: DoctorReport, json: boolean | undefined): void {
  if (json) printJson({ ok: report.ok, checks: report.checks.map(({ id, ok, warning, message, fix }) => ({ id, ok, warning, message, fix })) });
  else process.stdout.write(formatDoctorReport(report));
}
