/**
 * The single map of everything that crosses the main <-> renderer boundary.
 *
 * - `invokeContract`: renderer -> main request/response channels. Each has the name of its
 *   `window.hpc` method, a zod schema for its positional arguments (checked in main, because
 *   a renderer is never trusted) and a zod schema for its result (the source of its type).
 * - `pushContract`: main -> renderer events, each with the name of its `window.hpc.on…`
 *   subscriber and its payload schema.
 *
 * Main registers a handler per invoke channel (main/ipc), the preload builds one function per
 * entry from these maps (preload/index.ts), and the renderer's type for `window.hpc` is
 * derived from them (HpcApi below), so a channel cannot exist on one side only.
 */
import { z } from 'zod';

export const appInfoSchema = z.object({
  version: z.string(),
  platform: z.string(),
});

export const doctorCheckSchema = z.object({
  /** Stable id, for example `keychain`. */
  id: z.string(),
  ok: z.boolean(),
  /** One sentence saying what was found. Untrusted text: rendered as text, never HTML. */
  message: z.string(),
  /** What to do about a failed check; null when there is nothing to do. */
  fix: z.string().nullable(),
});

export const connectionStateSchema = z.enum(['disconnected', 'connecting', 'connected', 'error']);

export const statusSchema = z.object({
  cluster: connectionStateSchema,
  slack: connectionStateSchema,
});

export const invokeContract = {
  'app:info': { method: 'appInfo', args: z.tuple([]), result: appInfoSchema },
  'doctor:run': { method: 'doctorRun', args: z.tuple([]), result: z.array(doctorCheckSchema) },
  'cluster:partitions': { method: 'clusterPartitions', args: z.tuple([]), result: z.array(z.string()) },
} as const satisfies Record<string, InvokeDefinition>;

export const pushContract = {
  'status:changed': { method: 'onStatusChanged', payload: statusSchema },
} as const satisfies Record<string, PushDefinition>;

export interface InvokeDefinition {
  method: string;
  args: z.ZodTuple;
  result: z.ZodType;
}

export interface PushDefinition {
  method: `on${string}`;
  payload: z.ZodType;
}

export type AppInfo = z.output<typeof appInfoSchema>;
export type DoctorCheck = z.output<typeof doctorCheckSchema>;
export type ConnectionState = z.output<typeof connectionStateSchema>;
export type Status = z.output<typeof statusSchema>;

type InvokeContract = typeof invokeContract;
type PushContract = typeof pushContract;

export type InvokeChannel = keyof InvokeContract;
export type PushEvent = keyof PushContract;

export type InvokeArgs<C extends InvokeChannel> = z.output<InvokeContract[C]['args']>;
export type InvokeResult<C extends InvokeChannel> = z.output<InvokeContract[C]['result']>;
export type PushPayload<E extends PushEvent> = z.output<PushContract[E]['payload']>;

/**
 * What a failed call carries to the renderer. Electron flattens a thrown Error to a message
 * string, so handlers' errors travel as data instead and keep their code and fix.
 */
export interface IpcFailure {
  code: string;
  message: string;
  fix: string | null;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcFailure };

export type Unsubscribe = () => void;

/** The shape of `window.hpc`, derived from the two maps above. */
export type HpcApi = {
  readonly [C in InvokeChannel as InvokeContract[C]['method']]: (
    ...args: z.input<InvokeContract[C]['args']>
  ) => Promise<IpcResult<InvokeResult<C>>>;
} & {
  readonly [E in PushEvent as PushContract[E]['method']]: (
    listener: (payload: PushPayload<E>) => void,
  ) => Unsubscribe;
};
