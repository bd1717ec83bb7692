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
  /**
   * How often screens read again when no `data:changed` event came (ms): the events keep them
   * current, this is the fallback. Absent: the window's default (30 s).
   */
  refreshFallbackMs: z.number().int().min(1000).optional(),
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
  /** Passed, with something worth reading (accounting off, a check that could not run now): shown as ⚠ with its fix. */
  warning: z.boolean().optional(),
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
  z.object({ view: z.literal('monitors') }),
  z.object({ view: z.literal('activity') }),
  z.object({ view: z.literal('settings') }),
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

// ---- setup wizard -------------------------------------------------------------------------

/** A Host alias from the SSH config (wildcard patterns are left out). */
export const sshHostSchema = z.object({
  alias: z.string(),
  hostName: z.string().nullable(),
  user: z.string().nullable(),
  port: z.number().int().nullable(),
  proxyJump: z.string().nullable(),
});

/**
 * The host the wizard is about to save, for the test's first stages (DNS, TCP, host key): they
 * run before cluster.host is set, so nothing connects in the background to a host whose key the
 * user has not seen yet. User and port left out mean: from the SSH config, else the defaults.
 */
export const clusterCandidateSchema = z.strictObject({
  host: z.string().min(1).max(255),
  user: z.string().min(1).max(64).optional(),
  port: z.number().int().min(1).max(65535).optional(),
});

/** The connection test's stages, run one call each so the window shows them as they happen. */
export const connectionStageSchema = z.enum(['dns', 'tcp', 'hostkey', 'auth', 'slurm', 'remoteDir', 'tools']);

export const hostKeySchema = z.object({
  host: z.string(),
  port: z.number().int(),
  keyType: z.string(),
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: z.string(),
  knownHostsFile: z.string(),
  verdict: z.enum(['match', 'unknown', 'changed']),
});

export const partitionSchema = z.object({
  name: z.string(),
  isDefault: z.boolean(),
  available: z.boolean(),
  timeLimit: z.string(),
  nodes: z.number().int(),
});

export const stageResultSchema = z.object({
  stage: connectionStageSchema,
  /** `confirm`: the user must decide (an unknown host key). */
  status: z.enum(['ok', 'failed', 'confirm', 'skipped']),
  /** May quote the server (its banner, its errors): untrusted text. */
  message: z.string(),
  fix: z.string().nullable(),
  hostKey: hostKeySchema.optional(),
  partitions: z.array(partitionSchema).optional(),
  remoteDir: z.object({ path: z.string(), freeBytes: z.number().nullable() }).optional(),
  tools: z.array(z.object({ name: z.string(), path: z.string().nullable() })).optional(),
});

// ---- jobs -----------------------------------------------------------------------------------

/** A job's headline metric: its latest value, and which way is better (accuracy up, loss down; null: not a metric HPC Relay knows the goal of). */
export const keyMetricSchema = z.object({ series: z.string(), value: z.number().nullable(), step: z.number(), goal: z.enum(['max', 'min']).nullable() });

export const jobSummarySchema = z.object({
  jobId: z.string(),
  /** Job names are chosen by whoever submitted: untrusted text. */
  name: z.string(),
  state: z.string(),
  final: z.boolean(),
  elapsedSec: z.number().nullable(),
  partition: z.string().nullable(),
  /** The pending reason or the node list. */
  where: z.string().nullable(),
  templateId: z.string().nullable(),
  /** `exit:signal` once ended. */
  exitCode: z.string().nullable(),
  adopted: z.boolean(),
  /** The latest value of the job's headline series (val_acc, acc, loss, …), when it has metrics. */
  keyMetric: keyMetricSchema.nullable(),
});

export const jobDetailSchema = z.object({
  job: jobSummarySchema,
  maxRssBytes: z.number().nullable(),
  reqMemBytes: z.number().nullable(),
  timeLimitSec: z.number().nullable(),
  nodeList: z.string().nullable(),
  failureClass: z.string().nullable(),
  /** Null for a job HPC Relay adopted (submitted outside it): no log paths, no resubmit. */
  submission: z
    .object({
      kind: z.enum(['template', 'script']),
      source: z.string(),
      params: z.record(z.string(), z.json()),
      remoteDir: z.string(),
      submittedAt: z.number(),
      resubmitOf: z.string().nullable(),
      mem: z.string().nullable(),
      time: z.string().nullable(),
    })
    .nullable(),
  transitions: z.array(z.object({ from: z.string().nullable(), to: z.string(), source: z.string(), at: z.number() })),
  /** Whether a Slack report of the job was posted (its thread can be opened with jobs:openSlackThread). */
  slackThread: z.boolean(),
});

export const logChunkSchema = z.object({
  /** Raw output (ANSI codes and all): untrusted text, stripped and shown as text by the window. */
  text: z.string(),
  /** Byte offset of `text` in the file, and where the next read starts. */
  start: z.number(),
  nextOffset: z.number(),
  /** Null while the file does not exist yet (the job has not started). */
  size: z.number().nullable(),
});

export const metricSeriesSchema = z.object({
  series: z.string(),
  source: z.string(),
  /** [step, value]; null for NaN/inf. */
  points: z.array(z.tuple([z.number(), z.number().nullable()])),
});

export const submitResultSchema = z.object({ jobId: z.string(), name: z.string().nullable(), jobIds: z.array(z.string()) });

export const paramSpecSchema = z.object({
  name: z.string(),
  type: z.enum(['int', 'float', 'string', 'bool', 'enum', 'path', 'duration', 'memory']),
  help: z.string(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  choices: z.array(z.string()).optional(),
  sbatch: z.string().optional(),
  pattern: z.string().optional(),
  role: z.enum(['rest', 'grid', 'array-limit']).optional(),
  advanced: z.boolean().optional(),
  /** What the value must be, as the core's errors say it ("a whole number from 1 to 1000"). */
  expected: z.string(),
});

export const templateSchema = z.object({ id: z.string(), title: z.string(), description: z.string(), params: z.array(paramSpecSchema) });

/** The core's verdict on a form's values: one sentence per problem, by parameter when it is about one. */
export const paramProblemSchema = z.object({ param: z.string().nullable(), message: z.string() });

// ---- monitors -------------------------------------------------------------------------------

export const monitorKindSchema = z.enum(['digest', 'prompt', 'heartbeat']);

export const monitorSchema = z.object({
  id: z.string(),
  name: z.string(),
  schedule: z.string(),
  description: z.string(),
  timezone: z.string(),
  kind: monitorKindSchema,
  prompt: z.string().nullable(),
  target: z.string(),
  targetDescription: z.string(),
  status: z.enum(['active', 'paused', 'finished']),
  nextRunAt: z.number().nullable(),
  /** "ok", "failed: …", "skipped: …", "running", or null before the first run. */
  lastOutcome: z.string().nullable(),
  lastRunAt: z.number().nullable(),
  costPerRun: z.string().nullable(),
});

// ---- activity -------------------------------------------------------------------------------

/** Notifications, agent actions (the audit log) and job state changes, newest first. All untrusted text. */
export const activityItemSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('notification'), id: z.string(), at: z.number(), jobId: z.string(), title: z.string(), body: z.string(), channel: z.string(),
    delivered: z.boolean(), error: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('agent'), id: z.string(), at: z.number(), tool: z.string(), input: z.string(), output: z.string(),
    decision: z.string(), approvedBy: z.string().nullable(), isError: z.boolean(),
  }),
  z.object({ kind: z.literal('job'), id: z.string(), at: z.number(), jobId: z.string(), from: z.string().nullable(), to: z.string(), source: z.string() }),
]);

// ---- approvals ------------------------------------------------------------------------------

/** An action waiting for a person's yes (asked in Slack; decided there or in the window). Untrusted text. */
export const approvalSchema = z.object({
  id: z.string(),
  /** One sentence: what happens if approved. */
  summary: z.string(),
  /** A command line, the parameters, why it needs approval. */
  detail: z.string().nullable(),
  /** The Slack member ID of whoever asked. */
  requestedBy: z.string(),
  /** Epoch ms; a decision after it is refused. */
  expiresAt: z.number(),
});

export const approvalDecisionSchema = z.object({
  approved: z.boolean(),
  /** The outcome as plain text, e.g. "Approved in the HPC Relay window by ada: cancel job 7. Job 7 is cancelled." */
  text: z.string(),
});

// ---- change events ----------------------------------------------------------------------------

/**
 * Something the window shows changed in the core: screens read again at once instead of waiting
 * for their (slow, fallback) poll. Only what changed, never the data itself: the screens read it
 * through their own channels.
 */
export const dataChangedSchema = z.object({
  /** Jobs whose state changed (job ids as the window shows them); empty when no job changed. */
  jobIds: z.array(z.string()),
  /** An approval opened, was decided (here or in Slack) or expired. */
  approvals: z.boolean(),
});

const settingKeyArg = z.string().min(1).max(100);
const secretNameArg = z.string().min(1).max(300);
const jobIdArg = z.string().regex(/^\d{1,12}(?:_\d{1,9})?$/, 'a SLURM job id such as 12345 or 12345_7');
const templateIdArg = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a template id');
const paramValuesArg = z.record(z.string().min(1).max(100), z.union([z.string().max(4096), z.number(), z.boolean()]));
const monitorIdArg = z.string().regex(/^\d{1,12}$/, 'a monitor id');
/** The shape of an approval id (main/core/slack/approvals.ts APPROVAL_ID: 16 random bytes, base64url). */
const approvalIdArg = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'an approval id');

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
  /** Host aliases from cluster.sshConfigFile, for the wizard's list. */
  'cluster:hosts': { method: 'clusterHosts', audience: 'window', args: z.tuple([]), result: z.array(sshHostSchema) },
  /**
   * One stage of the live connection test: against the candidate host when given (DNS, TCP and
   * host key only), else against the cluster.* settings (login and everything after it).
   */
  'cluster:test': { method: 'clusterTest', audience: 'window', args: z.tuple([connectionStageSchema, clusterCandidateSchema.nullable()]), result: stageResultSchema },
  /** Adds the server's host key to known_hosts, only if it still has the fingerprint the user confirmed. */
  'cluster:trustHostKey': {
    method: 'clusterTrustHostKey',
    audience: 'window',
    args: z.tuple([z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/), clusterCandidateSchema.nullable()]),
    result: stageResultSchema,
  },
  /** The Slack app manifest (JSON) to create the app from. */
  'slack:manifest': { method: 'slackManifest', audience: 'window', args: z.tuple([]), result: z.string() },
  /** The Slack checks (token, scopes, Socket Mode; with `events`, a test message that must come back as an event). */
  'slack:check': { method: 'slackCheck', audience: 'window', args: z.tuple([z.object({ events: z.boolean() })]), result: z.array(doctorCheckSchema) },
  /** The model API key and llm.model, asked of the models endpoint (no tokens spent). */
  'model:check': { method: 'modelCheck', audience: 'window', args: z.tuple([]), result: doctorCheckSchema },
  /** The jobs in the local store (no cluster call: the job service keeps it current). */
  'jobs:list': { method: 'jobsList', audience: 'window', args: z.tuple([]), result: z.array(jobSummarySchema) },
  /** One scheduler check now (one squeue + one sacct), then the list. */
  'jobs:refresh': { method: 'jobsRefresh', audience: 'window', args: z.tuple([]), result: z.array(jobSummarySchema) },
  'jobs:detail': { method: 'jobsDetail', audience: 'window', args: z.tuple([jobIdArg]), result: jobDetailSchema },
  /** Output from `offset` (negative: that many bytes before the end), at most 64 KB. */
  'jobs:log': { method: 'jobsLog', audience: 'window', args: z.tuple([jobIdArg, z.enum(['stdout', 'stderr']), z.number().int().min(-1_048_576).max(Number.MAX_SAFE_INTEGER)]), result: logChunkSchema },
  /** Reads new metric points from the job's files (one remote command), then every series. */
  'jobs:metrics': { method: 'jobsMetrics', audience: 'window', args: z.tuple([jobIdArg]), result: z.array(metricSeriesSchema) },
  'jobs:cancel': { method: 'jobsCancel', audience: 'window', args: z.tuple([jobIdArg]), result: jobDetailSchema },
  /** Asks Slack for the link to the job's report thread and opens it in the browser (an https slack.com link only). */
  'jobs:openSlackThread': { method: 'jobsOpenSlackThread', audience: 'window', args: z.tuple([jobIdArg]), result: z.object({ permalink: z.string() }) },
  'jobs:resubmit': {
    method: 'jobsResubmit',
    audience: 'window',
    args: z.tuple([jobIdArg, z.strictObject({ mem: z.string().min(1).max(32).optional(), time: z.string().min(1).max(32).optional(), partition: z.string().min(1).max(64).optional() })]),
    result: submitResultSchema,
  },
  /** Renders the template with the values (the core validates them again) and submits it. */
  'jobs:submit': { method: 'jobsSubmit', audience: 'window', args: z.tuple([templateIdArg, paramValuesArg]), result: submitResultSchema },
  'templates:list': { method: 'templatesList', audience: 'window', args: z.tuple([]), result: z.array(templateSchema) },
  /** The core's validation of a form's values, without submitting: [] when they are fine. */
  'templates:validate': { method: 'templatesValidate', audience: 'window', args: z.tuple([templateIdArg, paramValuesArg]), result: z.array(paramProblemSchema) },
  'monitors:list': { method: 'monitorsList', audience: 'window', args: z.tuple([]), result: z.array(monitorSchema) },
  'monitors:create': {
    method: 'monitorsCreate',
    audience: 'window',
    args: z.tuple([z.strictObject({ schedule: z.string().min(1).max(200), kind: monitorKindSchema, to: z.string().min(1).max(1024), name: z.string().max(80).optional(), prompt: z.string().max(8000).optional() })]),
    result: monitorSchema,
  },
  'monitors:pause': { method: 'monitorsPause', audience: 'window', args: z.tuple([monitorIdArg]), result: z.array(monitorSchema) },
  'monitors:resume': { method: 'monitorsResume', audience: 'window', args: z.tuple([monitorIdArg]), result: z.array(monitorSchema) },
  'monitors:remove': { method: 'monitorsRemove', audience: 'window', args: z.tuple([monitorIdArg]), result: z.array(monitorSchema) },
  'activity:list': { method: 'activityList', audience: 'window', args: z.tuple([]), result: z.array(activityItemSchema) },
  /** Approvals waiting for a decision (soonest to expire first). */
  'approvals:list': { method: 'approvalsList', audience: 'window', args: z.tuple([]), result: z.array(approvalSchema) },
  /** Approve (true) or deny (false) one, as the person at the window; refused (APPROVAL_NOT_PENDING) once decided anywhere or expired. */
  'approvals:decide': { method: 'approvalsDecide', audience: 'window', args: z.tuple([approvalIdArg, z.boolean()]), result: approvalDecisionSchema },
  'prompt:question': { method: 'promptQuestion', audience: 'prompt', args: z.tuple([]), result: promptQuestionSchema },
  /** The answer, or null for Cancel. */
  'prompt:answer': { method: 'promptAnswer', audience: 'prompt', args: z.tuple([z.string().max(4096).nullable()]), result: z.null() },
} as const satisfies Record<string, InvokeDefinition>;

export const pushContract = {
  'status:changed': { method: 'onStatusChanged', payload: statusSchema },
  'navigate': { method: 'onNavigate', payload: navTargetSchema },
  /** Jobs or approvals changed (a job's state, an approval opened or decided): the screens showing them read again. */
  'data:changed': { method: 'onDataChanged', payload: dataChangedSchema },
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
export type SshHost = z.output<typeof sshHostSchema>;
export type ConnectionStage = z.output<typeof connectionStageSchema>;
export type ClusterCandidate = z.output<typeof clusterCandidateSchema>;
export type StageResult = z.output<typeof stageResultSchema>;
export type HostKeyView = z.output<typeof hostKeySchema>;
export type JobSummaryView = z.output<typeof jobSummarySchema>;
export type JobDetailView = z.output<typeof jobDetailSchema>;
export type LogChunk = z.output<typeof logChunkSchema>;
export type MetricSeries = z.output<typeof metricSeriesSchema>;
export type SubmitResultView = z.output<typeof submitResultSchema>;
export type ParamSpecView = z.output<typeof paramSpecSchema>;
export type TemplateView = z.output<typeof templateSchema>;
export type ParamProblem = z.output<typeof paramProblemSchema>;
export type MonitorView = z.output<typeof monitorSchema>;
export type MonitorKind = z.output<typeof monitorKindSchema>;
export type ActivityItem = z.output<typeof activityItemSchema>;
export type ApprovalView = z.output<typeof approvalSchema>;
export type ApprovalDecisionView = z.output<typeof approvalDecisionSchema>;
export type DataChanged = z.output<typeof dataChangedSchema>;

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
