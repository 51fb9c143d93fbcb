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
 *
 * Removals in bulk (a person lifting a mistaken import): when at least `threshold` due
 * addresses need nothing but their suppression-list entry deleted, their spellings go into
 * DELETE import jobs (SuppressionListImportAction DELETE, at most `maxDeletePerJob` rows a
 * file, SES's 10,000) instead of one DeleteSuppressedDestination per spelling. A purge's
 * just-in-case contact-list call (for a contact we never pushed nor learned) is not made on
 * this path; an address whose contact we know SES holds goes the single-call way.
 *
 * Jobs that take hours: a job SES still reports running is left open and asked again on the
 * next run; its addresses stay `importing` (the drain holds them, see `holdImporting`, and
 * moves their own re-check further out), so a slow job is never taken for a lost one. Only a
 * job SES no longer knows, or an error reading it that is not retryable, releases them.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BlobStore } from '../ports/blob-store.ts';
import { ProviderCallError, type ImportAction, type SesListReason, type SesSuppressionApi } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncItem, SyncStateStore } from '../ports/sync-state.ts';
import { csvField, splitCsvLine } from '../domain/suppression-import.ts';
import { normaliseEmail } from '../domain/email-address.ts';
import { desiredFor, originalSpelling, planSync, SES_CONTACT, SES_LIST, spellingsToDelete, type SyncConfig, type SyncPlan } from '../domain/suppression-sync.ts';
import { logger, metrics } from '../observability.ts';
import { iso, mapLimit, type ExecuteContext, type Executor, type PacedCalls } from './sync-drain.ts';
import type { Clock } from './run-clock.ts';

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
  /** Most rows (spellings) in one DELETE job (SES: 10,000 per file). */
  maxDeletePerJob: number;
  /** When an `importing` address is looked at again if its job never reports back. */
  recheckMs: number;
}

interface OpenJob {
  jobId: string;
  key: string;
  count: number;
  createdAt: string;
  /** Absent on jobs opened before DELETE jobs existed: PUT. */
  action?: ImportAction | undefined;
}

const JOB_PREFIX = 'ses-import#';

/** Lines of an import file: `spelling,REASON`. */
function importCsv(rows: Array<{ spelling: string; reason: string }>): string {
  return rows.map((r) => `${csvField(r.spelling)},${r.reason}`).join('\n') + '\n';
}

/** The ids of import jobs still open (created, not yet settled). */
export async function openImportJobs(sync: Pick<SyncStateStore, 'listControl'>): Promise<Set<string>> {
  return new Set((await sync.listControl<OpenJob>(JOB_PREFIX)).map((j) => j.value.jobId));
}

/**
 * The drain's hold for SES: an `importing` address whose job is still open is left to the job
 * (its re-check moved `recheckMs` further out), never pushed one call at a time meanwhile.
 */
export function holdImporting(deps: Pick<SesImportDeps, 'sync' | 'clock' | 'recheckMs'>, open: ReadonlySet<string>) {
  return async (item: SyncItem): Promise<boolean> => {
    if (item.status !== 'importing' || !item.importJobId || !open.has(item.importJobId)) return false;
    const now = deps.clock.now();
    await deps.sync.markImporting(item, { jobId: item.importJobId, recheckAt: iso(now + deps.recheckMs), now: iso(now) });
    return true;
  };
}

/** Check open import jobs (one GetImportJob each) and settle the addresses of finished ones. */
export async function settleImportJobs(deps: SesImportDeps, calls: PacedCalls): Promise<{ completed: number; released: number; open: number }> {
  const out = { completed: 0, released: 0, open: 0 };
  for (const { name, value: job } of await deps.sync.listControl<OpenJob>(JOB_PREFIX)) {
    let state: Awaited<ReturnType<SesSuppressionApi['importJob']>>;
    try {
      state = await calls.call(() => deps.api.importJob(job.jobId));
    } catch (error) {
      if (!(error instanceof ProviderCallError)) throw error;
      // A throttled or failing GetImportJob says nothing about the job: ask again next run.
      if (error.opts.retryable || error.opts.stopRun) {
        out.open++;
        continue;
      }
      // SES refuses to tell (the job is unknown to it): its addresses go back to the outbox.
      state = { status: 'failed', error: error.message };
    }
    if (state.status === 'running') {
      out.open++;
      continue;
    }
    const action = job.action ?? 'PUT';
    const lines = (await deps.blobs.get(job.key)).split('\n').filter((l) => l.trim() !== '');
    const now = iso(deps.clock.now());
    const ok = state.status === 'completed' && state.failed === 0;
    const error = state.status === 'failed' ? `import job ${job.jobId} failed: ${state.error}` : `import job ${job.jobId} reported ${state.status === 'completed' ? state.failed : 0} failed records`;
    // A DELETE file lists every spelling of an address: settle each address once.
    const emails = new Map<string, string>();
    for (const line of lines) {
      const [spelling = '', reason = ''] = splitCsvLine(line);
      emails.set(normaliseEmail(spelling), reason);
    }
    await mapLimit([...emails], 16, async ([email, reason]) => {
      if (ok) {
        const value = action === 'PUT' ? reason : undefined;
        if (await deps.sync.completeImport(email, { jobId: job.jobId, target: SES_LIST, value, now })) out.completed++;
      } else {
        await deps.sync.releaseImport(email, { jobId: job.jobId, error, now });
        out.released++;
      }
    });
    await deps.sync.deleteControl(name);
    logger.info('SES import job settled', { jobId: job.jobId, action, status: state.status, addresses: emails.size, ...(ok ? {} : { error }) });
    metrics.addMetric(ok ? 'SesImportJobsCompleted' : 'SesImportJobsFailed', MetricUnit.Count, 1);
  }
  return out;
}

/** A removal the DELETE job can carry: only suppression-list deletes (plus a purge's contact call for a contact we never knew SES to hold). */
function bulkDeletable(plan: SyncPlan, item: SyncItem): boolean {
  return (
    plan.ops.some((op) => op.kind === 'delete' && op.target === SES_LIST) &&
    plan.ops.every((op) => op.kind === 'delete' && (op.target === SES_LIST || (op.target === SES_CONTACT && !(SES_CONTACT in item.applied))))
  );
}

interface BulkRow {
  item: SyncItem;
  rows: Array<{ spelling: string; reason: string }>;
}

/** Write one import file, create its job, mark its addresses importing; false when SES refused the job (tried again next run). */
async function startJob(deps: SesImportDeps, calls: PacedCalls, action: ImportAction, batch: BulkRow[], nowMs: number): Promise<string | undefined> {
  const key = `ses-imports/${iso(nowMs).slice(0, 10)}/${action.toLowerCase()}-${randomUUID()}.csv`;
  const url = await deps.blobs.put(key, importCsv(batch.flatMap((b) => b.rows)), 'text/csv');
  let jobId: string;
  try {
    jobId = await calls.call(() => deps.api.createImportJob(url, action));
  } catch (error) {
    if (!(error instanceof ProviderCallError)) throw error;
    // Try the job again next run rather than sending thousands of single calls now.
    logger.warn('SES import job not created: retrying next run', { action, addresses: batch.length, error: error.message });
    metrics.addMetric('SesImportJobsNotCreated', MetricUnit.Count, 1);
    return undefined;
  }
  await deps.sync.putControl(`${JOB_PREFIX}${jobId}`, { jobId, key, count: batch.length, createdAt: iso(nowMs), action } satisfies OpenJob);
  const recheckAt = iso(nowMs + deps.recheckMs);
  await mapLimit(batch, 16, ({ item }) => deps.sync.markImporting(item, { jobId, recheckAt, now: iso(deps.clock.now()) }));
  logger.info('SES import job created', { jobId, action, addresses: batch.length });
  metrics.addMetric(action === 'PUT' ? 'SesImportJobAddresses' : 'SesDeleteJobAddresses', MetricUnit.Count, batch.length);
  return jobId;
}

/**
 * Start import jobs when the backlog is large enough: one PUT job (up to `maxPerJob`
 * addresses) and DELETE jobs of up to `maxDeletePerJob` rows each; returns the addresses
 * they took (and those whose job SES refused: not worked on singly in this run either).
 */
export async function importBacklog(deps: SesImportDeps, calls: PacedCalls, open: ReadonlySet<string> = new Set()): Promise<{ jobId?: string; deleteJobs: string[]; addresses: number; emails: Set<string> }> {
  const none = { deleteJobs: [], addresses: 0, emails: new Set<string>() };
  const nowMs = deps.clock.now();
  const probe = await deps.sync.due('ses', iso(nowMs), deps.threshold);
  if (probe.length < deps.threshold) return none;
  const candidates = probe.length < deps.maxPerJob ? await deps.sync.due('ses', iso(nowMs), deps.maxPerJob) : probe;
  const puts: BulkRow[] = [];
  const deletes: BulkRow[] = [];
  await mapLimit(candidates, 16, async (item) => {
    if (item.attempts > 0 || (item.status === 'importing' && item.importJobId && open.has(item.importJobId))) return;
    const state = await deps.store.get(item.email);
    const plan = planSync('ses', desiredFor('ses', state, deps.config), item.applied, item.purge ?? false);
    const [op, ...more] = plan.ops;
    if (!item.purge && more.length === 0 && op?.kind === 'put' && op.target === SES_LIST) {
      puts.push({ item, rows: [{ spelling: originalSpelling(state, item.spellings, item.email), reason: op.value }] });
    } else if (bulkDeletable(plan, item)) {
      const reason = item.applied[SES_LIST] ?? 'BOUNCE';
      deletes.push({ item, rows: spellingsToDelete(state, item.spellings, item.email).slice(0, deps.maxDeletePerJob).map((spelling) => ({ spelling, reason })) });
    }
  });
  const emails = new Set<string>();
  let addresses = 0;
  let jobId: string | undefined;
  if (puts.length >= deps.threshold) {
    jobId = await startJob(deps, calls, 'PUT', puts, nowMs);
    for (const p of puts) emails.add(p.item.email);
    if (jobId) addresses += puts.length;
  }
  const deleteJobs: string[] = [];
  if (deletes.length >= deps.threshold) {
    // Files of at most maxDeletePerJob rows (an address's spellings stay in one file).
    let batch: BulkRow[] = [];
    let rows = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const id = await startJob(deps, calls, 'DELETE', batch, nowMs);
      for (const b of batch) emails.add(b.item.email);
      if (id) {
        deleteJobs.push(id);
        addresses += batch.length;
      }
      batch = [];
      rows = 0;
    };
    for (const d of deletes) {
      if (rows + d.rows.length > deps.maxDeletePerJob) await flush();
      batch.push(d);
      rows += d.rows.length;
    }
    await flush();
  }
  return { ...(jobId ? { jobId } : {}), deleteJobs, addresses, emails };
}
