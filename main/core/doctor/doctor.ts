import { describeError, isRelayError } from '../errors.js';

export interface CheckResult {
  ok: boolean;
  message: string;
  fix?: string;
  /** Passed, with something the user should know (accounting off, a check that could not run now): shown with its fix. */
  warning?: boolean;
}

export interface DoctorCheck {
  id: string;
  title: string;
  run(): Promise<CheckResult>;
}

export interface CheckReport {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix: string | null;
  /** ok, but worth reading (see CheckResult.warning). */
  warning: boolean;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckReport[];
}

/** Runs checks in order; a check that throws is a failed check with the error's sentence and fix. */
export async function runDoctor(checks: readonly DoctorCheck[]): Promise<DoctorReport> {
  const reports: CheckReport[] = [];
  for (const c of checks) {
    let r: CheckResult;
    try {
      r = await c.run();
    } catch (e) {
      r = { ok: false, message: describeError(e), ...(isRelayError(e) && e.fix ? { fix: e.fix } : {}) };
      if (isRelayError(e) && e.fix) r.message = r.message.replace(` ${e.fix}`, '');
    }
    const warning = r.ok && r.warning === true;
    reports.push({ id: c.id, title: c.title, ok: r.ok, message: r.message, fix: r.ok && !warning ? null : (r.fix ?? null), warning });
  }
  return { ok: reports.every((r) => r.ok), checks: reports };
}
