import { useId } from 'react';
import type { FormEvent, ReactNode, Ref } from 'react';
import type { Problem } from '../lib/hooks';
import { ProblemText } from './ProblemText';

/** What a form control needs to be named and described: spread it on the input, select or textarea. */
export interface ControlProps {
  id: string;
  'aria-describedby': string | undefined;
  'aria-invalid': true | undefined;
}

/**
 * Ids for a control, its help and its error, and the control's aria wiring: described by the
 * help (when there is one), then the error (while there is one), then `describedBy` (text
 * elsewhere about it, such as an error shown under the whole form).
 */
export function useControl({ help = false, error = false, describedBy }: { help?: boolean; error?: boolean; describedBy?: string | undefined }) {
  const id = useId();
  const helpId = useId();
  const errorId = useId();
  const described = [help ? helpId : null, error ? errorId : null, describedBy ?? null].filter(Boolean).join(' ');
  const control: ControlProps = { id, 'aria-describedby': described || undefined, 'aria-invalid': error ? true : undefined };
  return { id, helpId, errorId, control };
}

/**
 * One labelled form field: the label, the control (given its id and aria wiring by `children`),
 * its help as a hint, and its error: a sentence (the core's validation of one value) or a
 * problem with its fix. Everything is rendered as text.
 */
export function Field({ label, help, error, describedBy, invalid, className = 'field', children }: {
  label: ReactNode;
  help?: ReactNode;
  error?: string | Problem | null;
  /** Text shown elsewhere that describes the control (an error under the form, a hint under a row). */
  describedBy?: string | undefined;
  /** Marks the control invalid without an error of its own (`describedBy` names the error). */
  invalid?: boolean;
  className?: string;
  children: (control: ControlProps) => ReactNode;
}) {
  const hasError = error !== undefined && error !== null && error !== '';
  const { id, helpId, errorId, control } = useControl({ help: help !== undefined, error: hasError, describedBy });
  const wired: ControlProps = { ...control, 'aria-invalid': hasError || invalid ? true : undefined };
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {children(wired)}
      {help !== undefined && (
        <p id={helpId} className="hint">
          {help}
        </p>
      )}
      {hasError &&
        (typeof error === 'string' ? (
          <p id={errorId} className="field-error">
            {error}
          </p>
        ) : (
          <ProblemText problem={error} id={errorId} />
        ))}
    </div>
  );
}

/** A form that never navigates: Enter or the submit button calls `onSubmit`; validation is the core's (noValidate). */
export function Form({ onSubmit, className = 'form', children, formRef }: { onSubmit: () => void; className?: string; children: ReactNode; formRef?: Ref<HTMLFormElement> }) {
  return (
    <form
      ref={formRef}
      className={className || undefined}
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** A form's submit button: disabled while its action runs, and saying so (`busyLabel`). */
export function SubmitButton({ busy, busyLabel, children }: { busy: boolean; busyLabel: string; children: ReactNode }) {
  return (
    <button type="submit" disabled={busy}>
      {busy ? busyLabel : children}
    </button>
  );
}
