import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateError } from './params.js';

/** A file every templates directory has: how a checkout's templates/ is recognised. */
const MARKER = 'cnn_train.json';

/**
 * The directory holding the bundled templates.
 * - Packaged app: pass `process.resourcesPath`; the templates are `<resources>/templates`
 *   (electron-builder's extraResources copies templates/ there).
 * - Checkout (tests, CLI, `npm start`): call it without a base; it walks up from `from` (default:
 *   this module's own directory, then the working directory) to the first `templates/` holding
 *   cnn_train.json — the repository's, whether this code runs from main/core, out/ or build/.
 */
export function templatesDir(base?: string, from?: string): string {
  if (base !== undefined) {
    const dir = path.join(base, 'templates');
    if (existsSync(path.join(dir, MARKER))) return dir;
    throw new TemplateError([`The bundled templates are missing from ${dir}; reinstall HPC Relay.`]);
  }
  // In a packaged Electron app the code sits inside app.asar and the templates beside it in resources/.
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (from === undefined && resources && existsSync(path.join(resources, 'templates', MARKER))) return path.join(resources, 'templates');
  const starts = from !== undefined ? [from] : [path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let d = path.resolve(start);
    for (;;) {
      const candidate = path.join(d, 'templates');
      if (existsSync(path.join(candidate, MARKER))) return candidate;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new TemplateError([`No templates/ directory with ${MARKER} was found above ${starts.join(' or ')}.`]);
}
