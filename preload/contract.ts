/**
 * The single map of everything that crosses the main <-> renderer boundary.
 *
 * - `invokeContract`: renderer -> main request/response channels. Each has the name of its
 *   `window.hpc` method, the window allowed to call it (`audience`), a zod schema for its
 *   positional arguments (checked in main, because a renderer is never trusted) and a zod
 *   schema for its result (the source of its type).
 * - `pushContract`: main -> renderer events, each with the name of its `window.hpc.on…`
 *   subscriber and its payload schema.
 *
 * Main registers a handler per invoke channel (main/ipc), the preload builds one function per
 * entry from these maps (preload/index.ts), and the renderer's type for `window.hpc` is
 * derived from them (HpcApi below), so a channel cannot exist on one side only.
 *
 * Audiences: `window` is the app window (the React renderer); `prompt` is the small window that
 * asks for a 2FA code or a passphrase (main/adapters/electron-prompt.ts). Each window's calls
 * to the other's channels are refused by the sender check.
 */
import { z } from 'zod';

export const appInfoSchema = z.object({
  version: z.string(),
  platform: z.string(),
});

export const doctorCheckSchema = z.object({
  /** Stable id, for example `ssh.connect`. */
  id: z.string(),
  /** What is checked, for example "SSH to the login node". */
  title: z.string().optional(),
  ok: z.boolean(),
  /** One sentence saying what was found. Untrusted text: rendered as text, never HTML. */
  message: z.string(),
  /** What to do about a failed check; null when there is nothing to do. */
  fix: z.string().nullable(),
});

/** See LinkState in main/core/ports.ts. */
export const linkStateSchema = z.enum(['off', 'connecting', 'connected', 'disconnected', 'attention']);

export const linkStatusSchema = z.object({
  state: linkStateSchema,
  /** The reason or the waiting prompt's title; untrusted text (may quote a server). */
  detail: z.string().nullable(),
});

export const runningJobSchema = z.object({ id: z.string(), name: z.string(), state: z.string() });

export const statusSchema = z.object({
  ssh: linkStatusSchema,
  slack: linkStatusSchema,
  model: linkStatusSchema,
  jobs: z.object({
    /** False until the job service has reported: `running` is then empty for want of news. */
    known: z.boolean(),
    running: z.array(runningJobSchema),
  }),
  /** Jobs that ended since the user last looked (the tray badge). */
  unseen: z.object({ succeeded: z.number().int().min(0), failed: z.number().int().min(0) }),
  /** Desktop notifications are paused until then (ms since the epoch); null when not paused. */
  notificationsPausedUntil: z.number().nullable(),
});

/** Where the window should go: a tray menu item or a notification click asks for it. */
export const navTargetSchema = z.discriminatedUnion('view', [
  z.object({ view: z.literal('home') }),
  z.object({ view: z.literal('jobs') }),
  z.object({ view: z.literal('job'), jobId: z.string().min(1).max(64) }),
  z.object({ view: z.literal('monitor'), monitorId: z.string().min(1).max(64) }),
  z.object({ view: z.literal('doctor') }),
  z.object({ view: z.literal('setup') }),
]);

export const settingEntrySchema = z.object({
  key: z.string(),
  /** The effective value (stored, else the default); null when unset with no default. */
  value: z.json().nullable(),
  /** True when config.json holds a value for the key (not just the default). */
  isSet: z.boolean(),
  description: z.string(),
  /** The phrase errors use for a wrong value, for example "a port number from 1 to 65535". */
  expected: z.string(),
});

export const settingsViewSchema = z.object({
  /** The settings file, for messages. */
  path: z.string(),
  entries: z.array(settingEntrySchema),
  /** What was wrong with the stored settings (bad values replaced by defaults, a moved-aside file). */
  problems: z.array(z.object({ key: z.string(), message: z.string() })),
});

export const secretStatusSchema = z.object({
  name: z.string(),
  label: z.string(),
  /** Where the value comes from; the value itself never crosses to the renderer. */
  source: z.enum(['env', 'keychain', 'unset', 'keychain-unavailable']),
  detail: z.string().nullable(),
});

export const promptQuestionSchema = z.object({
  kind: z.enum(['secret', 'text']),
  title: z.string(),
  /** The server's own words for 2FA prompts: untrusted text, shown as text. */
  message: z.string(),
});

const settingKeyArg = z.string().min(1).max(100);
const secretNameArg = z.string().min(1).max(300);

export const invokeContract = {
  'app:info': { method: 'appInfo', audience: 'window', args: z.tuple([]), result: appInfoSchema },
  'status:get': { method: 'statusGet', audience: 'window', args: z.tuple([]), result: statusSchema },
  /** The renderer calls this once it listens for `navigate`: a navigation asked for before then. */
  'navigation:take': { method: 'navigationTake', audience: 'window', args: z.tuple([]), result: navTargetSchema.nullable() },
  'doctor:run': { method: 'doctorRun', audience: 'window', args: z.tuple([]), result: z.array(doctorCheckSchema) },
  'cluster:partitions': { method: 'clusterPartitions', audience: 'window', args: z.tuple([]), result: z.array(z.string()) },
  'settings:get': { method: 'settingsGet', audience: 'window', args: z.tuple([]), result: settingsViewSchema },
  /** Validated by the core (unknown key, wrong type: a coded error); returns the key's new entry. */
  'settings:set': { method: 'settingsSet', audience: 'window', args: z.tuple([settingKeyArg, z.json()]), result: settingEntrySchema },
  'settings:unset': { method: 'settingsUnset', audience: 'window', args: z.tuple([settingKeyArg]), result: settingEntrySchema },
  'secrets:status': { method: 'secretsStatus', audience: 'window', args: z.tuple([]), result: z.array(secretStatusSchema) },
  /** Stores a secret in the keychain; validated by the core (a bot token must start with xoxb-, …). */
  'secrets:set': { method: 'secretsSet', audience: 'window', args: z.tuple([secretNameArg, z.string().min(1).max(8192)]), result: z.array(secretStatusSchema) },
  'secrets:delete': { method: 'secretsDelete', audience: 'window', args: z.tuple([secretNameArg]), result: z.array(secretStatusSchema) },
  'prompt:question': { method: 'promptQuestion', audience: 'prompt', args: z.tuple([]), result: promptQuestionSchema },
  /** The answer, or null for Cancel. */
  'prompt:answer': { method: 'promptAnswer', audience: 'prompt', args: z.tuple([z.string().max(4096).nullable()]), result: z.null() },
} as const satisfies Record<string, InvokeDefinition>;

export const pushContract = {
  'status:changed': { method: 'onStatusChanged', payload: statusSchema },
  'navigate': { method: 'onNavigate', payload: navTargetSchema },
} as const satisfies Record<string, PushDefinition>;

export type Audience = 'window' | 'prompt';

export interface InvokeDefinition {
  method: string;
  audience: Audience;
  args: z.ZodTuple;
  result: z.ZodType;
}

export interface PushDefinition {
  method: `on${string}`;
  payload: z.ZodType;
}

export type AppInfo = z.output<typeof appInfoSchema>;
export type DoctorCheck = z.output<typeof doctorCheckSchema>;
export type LinkStateName = z.output<typeof linkStateSchema>;
export type LinkStatusView = z.output<typeof linkStatusSchema>;
export type Status = z.output<typeof statusSchema>;
export type NavTarget = z.output<typeof navTargetSchema>;
export type SettingEntry = z.output<typeof settingEntrySchema>;
export type SettingsView = z.output<typeof settingsViewSchema>;
export type SecretStatusView = z.output<typeof secretStatusSchema>;
export type PromptQuestion = z.output<typeof promptQuestionSchema>;

type InvokeContract = typeof invokeContract;
type PushContract = typeof pushContract;

export type InvokeChannel = keyof InvokeContract;
export type PushEvent = keyof PushContract;
export type ChannelsFor<A extends Audience> = { [C in InvokeChannel]: InvokeContract[C]['audience'] extends A ? C : never }[InvokeChannel];

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
