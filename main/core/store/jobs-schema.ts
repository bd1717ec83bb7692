/**
 * The job tables (migration 2). Kept beside database.ts so MIGRATIONS stays a short list.
 *
 * - submissions: what HPC Relay sent to sbatch (script or template, values, remote paths); a job
 *   array is one submission and many jobs. Resubmits are new submissions in the same sweep.
 * - jobs: one row per job or array task (`123`, `123_4`), the app's own and adopted ones; the
 *   latest state and the accounting numbers.
 * - job_transitions: every state change with what noticed it (squeue, sacct, the events file).
 * - job_events: lines from the remote events file and other facts worth keeping per job.
 * - notification_outbox: one row per (job, final state, channel), written in the same transaction
 *   as the final state: the exactly-once mechanism. delivered_at marks it done.
 * - metrics / file_cursors: metric series per job and how far each remote file has been read.
 * - sweeps / triage_actions: automatic remediation, at most one bump per failure class per sweep
 *   (a partial unique index, so two processes cannot both take it).
 */
export const JOBS_SCHEMA_V2 = `
  CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('template', 'script')),
    source TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    script_hash TEXT NOT NULL,
    sbatch_args TEXT NOT NULL DEFAULT '[]',
    script_args TEXT NOT NULL DEFAULT '[]',
    remote_dir TEXT NOT NULL,
    script_path TEXT NOT NULL,
    wrapper_path TEXT NOT NULL,
    stdout_pattern TEXT NOT NULL,
    stderr_pattern TEXT NOT NULL,
    base_id TEXT NOT NULL,
    array_spec TEXT,
    sweep_id TEXT NOT NULL,
    resubmit_of TEXT,
    submitted_at INTEGER NOT NULL
  );
  CREATE INDEX submissions_base ON submissions(base_id);

  CREATE TABLE jobs (
    job_key TEXT PRIMARY KEY,
    base_id TEXT NOT NULL,
    array_task INTEGER,
    submission_id TEXT REFERENCES submissions(id),
    sweep_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    partition TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    final INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    signal INTEGER,
    cancelled_by INTEGER,
    elapsed_sec INTEGER,
    max_rss_bytes INTEGER,
    req_mem_bytes INTEGER,
    time_limit_sec INTEGER,
    node_list TEXT,
    started_at TEXT,
    ended_at TEXT,
    failure_class TEXT,
    failure_signature TEXT,
    adopted INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX jobs_unfinished ON jobs(final) WHERE final = 0;
  CREATE INDEX jobs_base ON jobs(base_id);
  CREATE INDEX jobs_sweep ON jobs(sweep_id);

  CREATE TABLE job_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_key TEXT NOT NULL REFERENCES jobs(job_key),
    from_state TEXT,
    to_state TEXT NOT NULL,
    source TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX job_transitions_job ON job_transitions(job_key, id);

  CREATE TABLE job_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    at INTEGER NOT NULL
  );
  CREATE INDEX job_events_job ON job_events(job_key, id);

  CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_key TEXT NOT NULL REFERENCES jobs(job_key),
    final_state TEXT NOT NULL,
    channel TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    claimed_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at INTEGER,
    UNIQUE (job_key, final_state, channel)
  );
  CREATE INDEX notification_outbox_pending ON notification_outbox(channel, id) WHERE delivered_at IS NULL;

  CREATE TABLE metrics (
    job_key TEXT NOT NULL,
    source TEXT NOT NULL,
    series TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    raw TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (job_key, source, series, step)
  );

  CREATE TABLE file_cursors (
    job_key TEXT NOT NULL,
    path TEXT NOT NULL,
    offset INTEGER NOT NULL,
    carry TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_key, path)
  );

  CREATE TABLE sweeps (
    id TEXT PRIMARY KEY,
    halted_at INTEGER,
    halt_reason TEXT
  );

  CREATE TABLE triage_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep_id TEXT NOT NULL,
    job_key TEXT NOT NULL UNIQUE,
    failure_class TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result TEXT,
    created_at INTEGER NOT NULL,
    done_at INTEGER
  );
  CREATE UNIQUE INDEX triage_one_auto_action ON triage_actions(sweep_id, failure_class) WHERE action IN ('bump-mem', 'bump-time', 'resubmit');
`;

/**
 * A submission about to run sbatch: written before sbatch runs and removed in the transaction that
 * records the submission. One left behind means the process stopped (or the database refused the
 * record) after sbatch may have run; the job carries the id in its comment (`hpc-relay:<id>`), so
 * the next refresh finds it and records it as HPC Relay's own (tail, metrics, resubmit) instead of
 * adopting it as a stranger.
 */
export const SUBMISSION_INTENTS_V3 = `
  CREATE TABLE submission_intents (
    id TEXT PRIMARY KEY,
    submission TEXT NOT NULL,
    job TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
`;

/** What a metric's step counts, as the job named it (`epoch`, `step`, …): the charts' x-axis label. */
export const METRIC_STEP_NAME_V4 = `
  ALTER TABLE metrics ADD COLUMN step_name TEXT;
`;

/** Who holds an outbox claim (store/claim-owner.ts): a claim of a process that is gone is taken over at once. */
export const OUTBOX_CLAIM_OWNER_V5 = `
  ALTER TABLE notification_outbox ADD COLUMN claimed_by TEXT;
`;
