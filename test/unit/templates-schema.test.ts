import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { TemplateError, findTemplate, loadTemplates, templateUsage, templatesDir, validateValue } from '../../main/core/templates/index.js';
import type { JobTemplate, ParamSpec } from '../../main/core/templates/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPLATES = path.join(ROOT, 'templates');
const FIXTURE = path.join(ROOT, 'test/fixtures/templates/minimal');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hpc-relay-templates-'));
}

/** A copy of the fixture template with `edit` applied to its JSON, alone in a fresh directory. */
function brokenCopy(edit: (t: Record<string, unknown> & { params: Record<string, unknown>[] }) => void, text?: string): string {
  const dir = tempDir();
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const file = path.join(dir, 'echo.json');
  const t = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { params: Record<string, unknown>[] };
  edit(t);
  fs.writeFileSync(file, text ?? JSON.stringify(t, null, 2));
  return dir;
}

async function loadError(dir: string): Promise<TemplateError> {
  const err = await loadTemplates(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TemplateError);
  return err as TemplateError;
}

describe('the bundled templates', () => {
  it('all load and validate: cnn_train, python and sweep, each with its script and files', async () => {
    const ts = await loadTemplates(TEMPLATES);
    expect(ts.map((t) => t.id)).toEqual(['cnn_train', 'python', 'sweep']);
    for (const t of ts) {
      expect(t.dir).toBe(TEMPLATES);
      expect(fs.existsSync(path.join(TEMPLATES, t.script))).toBe(true);
      for (const f of t.files) expect(fs.existsSync(path.join(TEMPLATES, f))).toBe(true);
      for (const p of t.params) expect(p.help.length, `${t.id}.${p.name} has help`).toBeGreaterThan(5);
    }
  });

  it('has the parameters the issue asks for, with defaults that run on the testbed', async () => {
    const cnn = findTemplate(await loadTemplates(TEMPLATES), 'cnn_train');
    const byName = new Map(cnn.params.map((p) => [p.name, p]));
    for (const n of ['partition', 'gres', 'time', 'cpus', 'mem', 'image', 'bind', 'epochs', 'batch_size', 'lr', 'data_dir', 'output_dir', 'python']) {
      expect(byName.has(n), n).toBe(true);
    }
    expect(byName.get('partition')).toMatchObject({ sbatch: '--partition', default: 'gpu_normal' });
    expect(byName.get('gres')).toMatchObject({ sbatch: '--gres', default: '' });
    expect(byName.get('time')).toMatchObject({ type: 'duration', sbatch: '--time', default: '00:10:00' });
    expect(byName.get('mem')).toMatchObject({ type: 'memory', sbatch: '--mem', default: '2G' });
    expect(byName.get('python')).toMatchObject({ type: 'path', default: '/usr/bin/python3' });
    expect(byName.get('lr')).toMatchObject({ type: 'float', min: expect.any(Number), max: expect.any(Number) });
    expect(cnn.outputs).toEqual({ dirParam: 'output_dir', metrics: 'metrics.csv', summary: 'summary.json', checkpoint: 'best_model.pth' });
  });

  it("keeps each script's #SBATCH defaults equal to its schema's defaults", async () => {
    for (const t of await loadTemplates(TEMPLATES)) {
      const script = fs.readFileSync(path.join(TEMPLATES, t.script), 'utf8');
      const directives = new Map([...script.matchAll(/^#SBATCH (--[a-z-]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(directives.get('--job-name'), t.id).toBe(`hpc-relay-${t.id}`);
      for (const p of t.params.filter((x): x is ParamSpec & { sbatch: string } => x.sbatch !== undefined)) {
        const d = p.default === '' || p.default === undefined ? undefined : String(p.default);
        expect(directives.get(p.sbatch), `${t.id}: ${p.sbatch}`).toBe(d);
      }
    }
  });

  it("uses /usr/bin/python3 unless the python parameter says otherwise, in every script", async () => {
    for (const t of await loadTemplates(TEMPLATES)) {
      const script = fs.readFileSync(path.join(TEMPLATES, t.script), 'utf8');
      expect(script, t.id).toMatch(/^python=\/usr\/bin\/python3$/m);
      expect(script, t.id).toMatch(/--python=\*\) python=/);
      expect(script, t.id).toMatch(/exec --nv --cleanenv/);
      expect(script, t.id).not.toMatch(/\beval\b/);
    }
  });

  it('every default passes its own validation (the loader checks this too)', async () => {
    for (const t of await loadTemplates(TEMPLATES)) {
      for (const p of t.params.filter((x) => x.default !== undefined)) {
        expect(validateValue(p, p.default!).ok, `${t.id}.${p.name}`).toBe(true);
      }
    }
  });

  it('describes its parameters for help text, advanced ones only on request', async () => {
    const cnn = findTemplate(await loadTemplates(TEMPLATES), 'cnn_train');
    const lines = templateUsage(cnn);
    expect(lines).toContain('epochs (integer 1–1000; default 10): Passes over the training set.');
    expect(lines).toContain('time (time 1 minute–30 days; default 00:10:00): Time limit: HH:MM:SS, D-HH:MM:SS or minutes. The job is stopped (TIMEOUT) when it runs out.');
    expect(lines.some((l) => l.startsWith('python '))).toBe(false);
    expect(templateUsage(cnn, { advanced: true })).toContain('python (path; default /usr/bin/python3): Python interpreter on the host, e.g. a conda environment\'s bin/python. Used when no container runs.');
  });

  it('findTemplate names the templates there are when the id is wrong', async () => {
    const ts = await loadTemplates(TEMPLATES);
    expect(findTemplate(ts, ' sweep ').id).toBe('sweep');
    expect(() => findTemplate(ts, 'cnn')).toThrow('There is no template "cnn"; the templates are cnn_train, python, sweep.');
  });
});

describe('loadTemplates refuses a broken schema file, naming the file and the field', () => {
  const cases: [string, (t: Record<string, unknown> & { params: Record<string, unknown>[] }) => void, RegExp][] = [
    ['an unknown type', (t) => { t.params[0]!.type = 'integer'; }, /echo\.json is invalid at params\[0\]\.type: .*"int"/],
    ['a missing help', (t) => { delete t.params[1]!.help; }, /echo\.json is invalid at params\[1\]\.help/],
    ['a misspelt field', (t) => { t.params[2]!.maximum = 3; }, /echo\.json is invalid at params\[2\]: .*maximum/],
    ['a default out of its range', (t) => { t.params[2]!.default = '1T'; }, /echo\.json is invalid at params\[2\]\.default: is invalid: Parameter "mem" must be a memory size from 64M to 64G/],
    ['a default of the wrong type', (t) => { t.params[4]!.default = 'perhaps'; }, /echo\.json is invalid at params\[4\]\.default: .*"verbose" must be true or false/],
    ['an enum without choices', (t) => { delete t.params[3]!.choices; }, /echo\.json is invalid at params\[3\]\.choices: is required for an enum/],
    ['a repeated name', (t) => { t.params[1]!.name = 'partition'; }, /echo\.json is invalid at params\[1\]\.name: repeats the parameter name "partition"/],
    ['a reserved sbatch option', (t) => { t.params[0]!.sbatch = '--array'; }, /echo\.json is invalid at params\[0\]\.sbatch: is set by HPC Relay itself/],
    ['a bad pattern', (t) => { t.params[0]!.pattern = '[a-'; }, /echo\.json is invalid at params\[0\]\.pattern: is not a valid regular expression/],
    ['min above max', (t) => { t.params[2]!.min = 100000; }, /echo\.json is invalid at params\[2\]\.min: is greater than max/],
    ['a bad parameter name', (t) => { t.params[5]!.name = 'Label Text'; }, /echo\.json is invalid at params\[5\]\.name: must be lower_snake_case/],
    ['a script outside the directory', (t) => { t.script = '../echo.slurm'; }, /echo\.json is invalid at script: must be a path inside the templates directory/],
    ['a missing file', (t) => { t.files = ['notes/missing.txt']; }, /echo\.json is invalid at files\[0\]: notes\/missing\.txt is not a file/],
    ['an id that is not the file name', (t) => { t.id = 'other'; }, /echo\.json is invalid at id: it is "other", but the file is named echo\.json/],
    ['two rest parameters', (t) => { t.params[5]!.role = 'rest'; }, /echo\.json is invalid at params: has 2 parameters with role rest/],
    ['outputs naming no parameter', (t) => { t.outputs = { dirParam: 'out' }; }, /echo\.json is invalid at outputs\.dirParam: names "out", which is not a parameter/],
  ];
  it.each(cases)('%s', async (_label, edit, want) => {
    const err = await loadError(brokenCopy(edit));
    expect(err.message).toMatch(want);
    expect(err.message).toContain(path.sep + 'echo.json');
    expect(isRelayError(err, 'USAGE')).toBe(true);
  });

  it('invalid JSON', async () => {
    const err = await loadError(brokenCopy(() => undefined, '{ "id": "echo", '));
    expect(err.message).toMatch(/^Template file .*echo\.json is not valid JSON \(/);
  });

  it('a script that is not a #! script', async () => {
    const dir = brokenCopy(() => undefined);
    fs.writeFileSync(path.join(dir, 'echo.slurm'), 'printf hi\n');
    expect((await loadError(dir)).message).toMatch(/echo\.json is invalid at script: echo\.slurm must be UTF-8 text starting with #!/);
  });

  it('a directory that does not exist', async () => {
    expect((await loadError('/nonexistent/templates')).message).toMatch(/^The templates directory \/nonexistent\/templates cannot be read/);
  });
});

describe('templatesDir', () => {
  it("finds the checkout's templates/ from this code's location, from a subdirectory, and from a packaged app's resources", () => {
    expect(templatesDir()).toBe(TEMPLATES);
    expect(templatesDir(undefined, path.join(ROOT, 'main/core/templates'))).toBe(TEMPLATES);
    const resources = tempDir();
    fs.cpSync(TEMPLATES, path.join(resources, 'templates'), { recursive: true });
    expect(templatesDir(resources)).toBe(path.join(resources, 'templates'));
  });

  it("finds a packaged app's templates beside app.asar through process.resourcesPath, with no base given", () => {
    const resources = tempDir();
    fs.cpSync(TEMPLATES, path.join(resources, 'templates'), { recursive: true });
    const proc = process as { resourcesPath?: string };
    proc.resourcesPath = resources;
    try {
      expect(templatesDir()).toBe(path.join(resources, 'templates'));
    } finally {
      delete proc.resourcesPath;
    }
    expect(templatesDir()).toBe(TEMPLATES);
  });

  it('says where it looked when there are none', () => {
    const empty = tempDir();
    expect(() => templatesDir(empty)).toThrow(`The bundled templates are missing from ${path.join(empty, 'templates')}; reinstall HPC Relay.`);
    expect(() => templatesDir(undefined, '/')).toThrow('No templates/ directory with cnn_train.json was found above /.');
  });

  it('loads the fixture template too (the renderer tests use it)', async () => {
    const [echo] = await loadTemplates(FIXTURE);
    expect(echo).toMatchObject<Partial<JobTemplate>>({ id: 'echo', script: 'echo.slurm', files: ['notes/readme.txt'], dir: FIXTURE });
  });
});
