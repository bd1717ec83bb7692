/**
 * Job templates: a SLURM script plus a typed parameter schema that the CLI, Slack and the window
 * use for validation and forms. Parameter values never become shell text: resource parameters
 * become sbatch options in an argv array, the others are passed to the script as arguments.
 */
export type ParamType = 'int' | 'float' | 'string' | 'bool' | 'enum' | 'path' | 'duration' | 'memory';

/**
 * Parameters that are not plain `--name=value` script arguments (added after the first contract;
 * every field below marked "optional extension" may be absent in older schema files):
 * - `rest`: a string split into words (quotes group, nothing is expanded), passed after `--`;
 * - `grid`: a parameter grid such as `lr=0.1,0.01 batch_size=64,128`: becomes a job array with one
 *   task per combination and a grid file uploaded beside the script;
 * - `array-limit`: an int, how many array tasks may run at once (`--array=…%N`; 0 = no limit).
 */
export type ParamRole = 'rest' | 'grid' | 'array-limit';

export interface ParamSpec {
  name: string;
  type: ParamType;
  help: string;
  default?: string | number | boolean;
  required?: boolean;
  /** Inclusive bounds: the value for int/float, minutes for duration, megabytes (MiB) for memory. */
  min?: number;
  max?: number;
  choices?: string[];
  /** When set, the value becomes this sbatch option (e.g. `--mem`), not a script argument. */
  sbatch?: string;
  /** Optional extension. For string params: a JavaScript regular expression the whole value must match. */
  pattern?: string;
  /** Optional extension. See ParamRole; absent for ordinary parameters. */
  role?: ParamRole;
  /** Optional extension. Forms may fold it away (interpreter paths, module lists, seeds). */
  advanced?: boolean;
}

/** Optional extension: where a template's job leaves its results, for the metrics reader. */
export interface TemplateOutputs {
  /** The parameter holding the results directory; a relative value is under the job's working directory. */
  dirParam: string;
  /** For job arrays: each task's subdirectory of that directory; `{task}` is SLURM_ARRAY_TASK_ID. */
  taskSubdir?: string;
  /** File names inside the results directory. */
  metrics?: string;
  summary?: string;
  checkpoint?: string;
}

export interface JobTemplate {
  id: string;
  title: string;
  description: string;
  params: ParamSpec[];
  /** The SLURM script, relative to the templates directory. */
  script: string;
  /** Files uploaded beside the script (e.g. train_cnn.py), relative to the templates directory. */
  files: string[];
  /** Optional extension: where results land (see TemplateOutputs). */
  outputs?: TemplateOutputs;
  /** Optional extension, set by loadTemplates: the directory the template was read from. */
  dir?: string;
}

/** Optional extension of RenderedJob for job arrays (templates with a `grid` parameter). */
export interface RenderedArray {
  /** Number of tasks; sbatchArgs holds `--array=0-(size-1)[%limit]`. */
  size: number;
  /** Tasks allowed to run at once, or null for no limit. */
  limit: number | null;
  /** Each task's grid values by parameter name, index = SLURM_ARRAY_TASK_ID. */
  tasks: Record<string, string>[];
}

export interface RenderedJob {
  templateId: string;
  jobName: string;
  /** The script's exact bytes, as uploaded. */
  script: string;
  files: { name: string; content: Buffer }[];
  /** sbatch options, e.g. ['--partition=gpu_dev', '--time=00:10:00']. */
  sbatchArgs: string[];
  /** Arguments after the script path (the script reads them as "$@"). */
  scriptArgs: string[];
  /** The validated values, typed, for the record and for resubmits. */
  params: Record<string, string | number | boolean>;
  /** Optional extension: present when the template renders a job array. */
  array?: RenderedArray;
}
