import type { ClusterService } from '../cluster/cluster-service.js';
import type { Settings } from '../config/settings-types.js';
import { systemClock, type Clock, type Logger } from '../ports.js';
import { findTemplate, loadTemplates, renderJob, templatesDir } from '../templates/index.js';
import type { Db } from '../store/database.js';
import { JobStore } from '../store/job-store.js';
import { MetricsStore } from '../store/metrics-store.js';
import { OutboxStore } from '../store/outbox-store.js';
import { JobService, type TemplateRenderer } from './job-service.js';
import { ClusterRemoteFiles, type RemoteFiles } from './remote-files.js';

export { JobService } from './job-service.js';
export type { BestMetric, JobStats, JobSummary, ResubmitChanges, ScriptSubmission, SubmitResult, TailResult, TemplateRenderer } from './job-service.js';

/** The bundled templates (templates/ in a checkout, `<resources>/templates` when packaged). */
export function bundledTemplates(base?: string): TemplateRenderer {
  return {
    async render(templateId, params, workDir) {
      const dir = templatesDir(base);
      return renderJob(findTemplate(await loadTemplates(dir), templateId), params, { workDir });
    },
  };
}

export interface JobServiceOptions {
  db: Db;
  cluster: () => ClusterService;
  settings: () => Settings;
  logger: Logger;
  clock?: Clock;
  files?: RemoteFiles;
  templates?: TemplateRenderer;
}

export function createJobService(o: JobServiceOptions): JobService {
  return new JobService({
    cluster: o.cluster,
    store: new JobStore(o.db),
    outbox: new OutboxStore(o.db),
    metrics: new MetricsStore(o.db),
    files: o.files ?? new ClusterRemoteFiles(o.cluster),
    settings: o.settings,
    clock: o.clock ?? systemClock,
    logger: o.logger,
    templates: o.templates ?? bundledTemplates(),
  });
}
