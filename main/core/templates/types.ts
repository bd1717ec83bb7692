/**
 * Job templates: a SLURM script plus a typed parameter schema that the CLI, Slack and the window
 * use for validation and forms. Parameter values never become shell text: resource parameters
 * become sbatch options in an argv array, the others are passed to the script as arguments.
 */
export type ParamType = 'int' | 'float' | 'string' | 'bool' | 'enum' | 'path' | 'duration' | 'memory';

export interface ParamSpec {
  name: string;
  type: ParamType;
  help: string;
  default?: string | number | boolean;
  required?: boolean;
  min?: number;
  max?: number;
  choices?: string[];
  /** When set, the value becomes this sbatch option (e.g. `--mem`), not a script argument. */
  sbatch?: string;
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
}
