/**
 * Job templates: schema files and SLURM scripts in templates/, loaded and validated here and
 * rendered into sbatch argv (see render.ts for how values travel).
 */
export type { JobTemplate, ParamRole, ParamSpec, ParamType, RenderedArray, RenderedJob, TemplateOutputs } from './types.js';
export {
  MAX_VALUE_BYTES, TemplateError, compilePattern, expectation, showValue, templateUsage, validateParams, validateValue, type ParamValues, type RawValue,
} from './params.js';
export { GRID_FILE, findTemplate, loadTemplates, parseTemplate } from './schema.js';
export { jobNameFor, renderJob, type RenderOptions } from './render.js';
export { templatesDir } from './dir.js';
export { formatDuration, formatMemory, parseDuration, parseMemory } from './units.js';
export { MAX_GRID_TASKS, parseGrid, splitWords, type Grid } from './words.js';
