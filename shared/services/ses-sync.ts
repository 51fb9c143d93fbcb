/**
 * SES side of the push: the per-address executor (suppression list and contact list), and the
 * bulk path that turns a large backlog into one CreateImportJob instead of thousands of
 * PutSuppressedDestination calls at 1 request/s.
 *
 * Bulk path: when at least `threshold` addresses are due and each needs nothing but a
 * suppression-list PUT (first attempt, no removal), their original spellings go into one CSV
 * (`address,BOUNCE|COMPLAINT`, SES's import format) in S3, one CreateImportJob is made, and
 * the items wait as `importing` (due again at `recheckAt` in case the job is lost). Later runs
 * poll the job (GetImportJob, one call per run): COMPLETED without failures marks every
 * address synced; a job that FAILED, or COMPLETED with failed records (SES does not say which
 * in the job itself), sends its addresses back to the outbox with one attempt counted, and
 * addresses with attempts are never bulked again, so bad rows end as single calls that fail
 * on their own.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BlobStore } from '../ports/blob-store.ts';
import { ProviderCallError, type SesListReason, type SesSuppressionApi } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncItem, SyncStateStore } from '../ports/sync-state.ts';
import { csvField, splitCsvLine } from '../domain/suppression-import.ts';
import { normaliseEmail } from '../domain/email-address.ts';
import { desiredFor, originalSpelling, planSync, SES_CONTACT, SES_LIST, spellingsToDelete, type SyncConfig } from '../domain/suppression-sync.ts';
import { logger, metrics } from '../observability.ts';
import { mapLimit, type Clock, type ExecuteContext, type Executor, type PacedCalls } from './sync-drain.ts';

export function sesExecutor(api: SesSuppressionApi, config: SyncConfig): Executor {
  return async ({ item, state, plan, applied, skipped, calls }: ExecuteContext) => {
    const spelling = originalSpelling(state, item.spellings, item.email);
    for (const op of plan.ops) {
      if (op.kind === 'purge') continue;
      if (op.target === SES_LIST) {
        if (op.kind === 'delete') {
          // SES matches exact case: delete every spelling it may hold (NotFound counts as done).
          for (const s of spellingsToDelete(state, item.spellings, item.email)) await calls.call(() => api.delete(s));
          delete applied[SES_LIST];
        } else {
          await calls.call(() => api.put(spelling, op.value as SesListReason));
          applied[SES_LIST] = op.value;
        }
      } else if (op.target === SES_CONTACT) {
        const list = config.sesContactList;
        if (!list) {
          if (op.kind === 'put') skipped.push('unsubscribe: no SES contact list configured');
          delete applied[SES_CONTACT];
          continue;
        }
        const subscribeBack = op.kind === 'delete';
        const updated = await calls.call(() => api.updateContact(list, spelling, !subscribeBack));
        if (!updated && !subscribeBack) await calls.call(() => api.createUnsubscribedContact(list, spelling));
        if (subscribeBack) delete applied[SES_CONTACT];
        else applied[SES_CONTACT] = op.value;
      }
    }
  };
}

export interface SesImportDeps {
  api: SesSuppressionApi;
  store: SuppressionStore;
  sync: SyncStateStore;
  blobs: BlobStore;
  config: SyncConfig;
  clock: Clock;
  /** Fewer due addresses than this are sent one call each. */
  threshold: number;
  /** Most addresses in one job (SES: 100,000 per file for PUT). */
  maxPerJob: number;
  /** When an `importing` address is looked at again if its job never reports back. */
  recheckMs: number;
}

interface OpenJob {
  jobId: string;
  key: string;
  count: number;
  createdAt: string;
}

const JOB_PREFIX = 'ses-import#';
const iso = (ms: number) => new Date(ms).toISOString();

/** Lines of an import file: `spelling,REASON`. */
export function importCsv(rows: Array<{ spelling: string; reason: string }>): string {
  return rows.map((r) => `${csvField(r.spelling)},${r.reason}`).join('\n') + '\n';
}

/** Check open import jobs (one GetImportJob each) and settle the addresses of finished ones. */
export async function settleImportJobs(deps: SesImportDeps, calls: PacedCalls): Promise<{ completed: number; released: number; open: number }> {
  const out = { completed: 0, released: 0, open: 0 };
  for (const { name, value: job } of await deps.sync.listControl<OpenJob>(JOB_PREFIX)) {
    const state = await calls.call(() => deps.api.importJob(job.jobId));
    if (state.status === 'running') {
      out.open++;
      continue;
    }
    const lines = (await deps.blobs.get(job.key)).split('\n').filter((l) => l.trim() !== '');
    const now = iso(deps.clock.now());
    const ok = state.status === 'completed' && state.failed === 0;
    const error = state.status === 'failed' ? `import job ${job.jobId} failed: ${state.error}` : `import job ${job.jobId} reported ${state.status === 'completed' ? state.failed : 0} failed records`;
    await mapLimit(lines, 16, async (line) => {
      const [spelling = '', reason = ''] = splitCsvLine(line);
      const email = normaliseEmail(spelling);
      if (ok) {
        if (await deps.sync.completeImport(email, { jobId: job.jobId, target: SES_LIST, value: reason, now })) out.completed++;
      } else {
        await deps.sync.releaseImport(email, { jobId: job.jobId, error, now });
        out.released++;
      }
    });
    await deps.sync.deleteControl(name);
    logger.info('SES import job settled', { jobId: job.jobId, status: state.status, addresses: lines.length, ...(ok ? {} : { error }) });
    metrics.addMetric(ok ? 'SesImportJobsCompleted' : 'SesImportJobsFailed', MetricUnit.Count, 1);
  }
  return out;
}

/** Start one import job when the backlog is large enough; returns how many addresses it took. */
export async function importBacklog(deps: SesImportDeps, calls: PacedCalls): Promise<{ jobId?: string; addresses: number; emails: Set<string> }> {
  const nowMs = deps.clock.now();
  const probe = await deps.sync.due('ses', iso(nowMs), deps.threshold);
  if (probe.length < deps.threshold) return { addresses: 0, emails: new Set() };
  const candidates = probe.length < deps.maxPerJob ? await deps.sync.due('ses', iso(nowMs), deps.maxPerJob) : probe;
  const eligible: Array<{ item: SyncItem; spelling: string; reason: string }> = [];
  await mapLimit(candidates, 16, async (item) => {
    if (item.attempts > 0 || item.purge) return;
    const state = await deps.store.get(item.email);
    const plan = planSync('ses', desiredFor('ses', state, deps.config), item.applied, false);
    const [op, ...more] = plan.ops;
    if (more.length > 0 || op?.kind !== 'put' || op.target !== SES_LIST) return;
    eligible.push({ item, spelling: originalSpelling(state, item.spellings, item.email), reason: op.value });
  });
  if (eligible.length < deps.threshold) return { addresses: 0, emails: new Set() };
  const key = `ses-imports/${iso(nowMs).slice(0, 10)}/${randomUUID()}.csv`;
  const url = await deps.blobs.put(key, importCsv(eligible), 'text/csv');
  let jobId: string;
  try {
    jobId = await calls.call(() => deps.api.createImportJob(url));
  } catch (error) {
    if (!(error instanceof ProviderCallError)) throw error;
    // Try the job again next run rather than sending thousands of single calls now.
    logger.warn('SES import job not created: retrying next run', { addresses: eligible.length, error: error.message });
    metrics.addMetric('SesImportJobsNotCreated', MetricUnit.Count, 1);
    return { addresses: 0, emails: new Set(eligible.map((e) => e.item.email)) };
  }
  await deps.sync.putControl(`${JOB_PREFIX}${jobId}`, { jobId, key, count: eligible.length, createdAt: iso(nowMs) } satisfies OpenJob);
  const recheckAt = iso(nowMs + deps.recheckMs);
  await mapLimit(eligible, 16, ({ item }) => deps.sync.markImporting(item, { jobId, recheckAt, now: iso(deps.clock.now()) }));
  logger.info('SES import job created', { jobId, addresses: eligible.length });
  metrics.addMetric('SesImportJobAddresses', MetricUnit.Count, eligible.length);
  return { jobId, addresses: eligible.length, emails: new Set(eligible.map((e) => e.item.email)) };
}
