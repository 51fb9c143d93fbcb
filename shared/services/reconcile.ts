/**
 * Pull side of the sync: read each provider's own suppression list and bring into the store
 * what it lacks (entries made in a provider's dashboard, or while a webhook was down).
 *
 * Both readers page, save a checkpoint after every page (a failed or timed-out run resumes
 * there) and go through the provider's pace, a share of the account limit set apart from the
 * push drains' share so the two never add up past the limit.
 * - SES: ListSuppressedDestinations with NextToken; a pass that finishes remembers when it
 *   started, and the next pass asks only for entries updated since then (StartDate, minus an
 *   overlap for clock skew). A rejected NextToken restarts the pass.
 * - Mailtrap: GET /api/suppressions with the `last_id` cursor (up to 1000 per page, in
 *   creation order); the cursor is kept when a pass catches up, so later runs read only
 *   records created since. A rejected cursor (400) starts over from the beginning.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MailtrapSuppressionApi, SesSuppressionApi } from '../ports/provider-suppressions.ts';
import { ProviderCallError } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import type { PolicyConfig } from '../domain/suppression-policy.ts';
import { checkEmailAddress, type AddressProblem } from '../domain/email-address.ts';
import { decideReconcile, fromMailtrapRecord, fromSesEntry, type ProviderEntry } from '../domain/reconcile.ts';
import type { SyncConfig } from '../domain/suppression-sync.ts';
import { addressRef, logger, metrics } from '../observability.ts';
import { confirmAwaitedUploads } from './mailtrap-import.ts';
import { iso, mapLimit, RunBudgetExhaustedError, type PacedCalls } from './sync-drain.ts';
import type { Clock } from './run-clock.ts';

export interface ReconcileDeps {
  store: SuppressionStore;
  sync: SyncStateStore;
  clock: Clock;
  policy?: PolicyConfig | undefined;
  /** Where the sync pushes: lets the Mailtrap pass confirm awaited dashboard uploads (mailtrap-import.ts). */
  config?: SyncConfig | undefined;
}

export interface ReconcileReport {
  provider: 'ses' | 'mailtrap';
  pages: number;
  seen: number;
  imported: number;
  /** Entries whose address the store cannot hold, by problem. */
  skipped: number;
  skippedProblems: Partial<Record<AddressProblem, number>>;
  passCompleted: boolean;
  /** Mailtrap: addresses whose awaited dashboard upload this pass found complete (now synced). */
  confirmedUploads?: number | undefined;
}

export function newReport(provider: 'ses' | 'mailtrap'): ReconcileReport {
  return { provider, pages: 0, seen: 0, imported: 0, skipped: 0, skippedProblems: {}, passCompleted: false };
}

interface SesCheckpoint {
  passStartedAt?: string | undefined;
  nextToken?: string | undefined;
  /** Entries updated before this were read by an earlier, completed pass. */
  since?: string | undefined;
  completedAt?: string | undefined;
}

interface MailtrapCheckpoint {
  lastId?: string | undefined;
  caughtUpAt?: string | undefined;
}

/** Clock skew allowance between SES's LastUpdateTime and ours. */
const SINCE_OVERLAP_MS = 5 * 60_000;

/**
 * An entry whose address the store cannot hold (the one address rule, email-address.ts:
 * e.g. an RFC-valid quoted `"john doe"@example.com`, or a control character) is skipped and
 * counted, never thrown: a throw would fail the page on every run, the cursor would never
 * move, and every later page would never be read.
 */
/** Import what the store lacks, skipping (and counting) addresses it cannot hold; `decide` is the rule for this kind of list. */
export async function importEntries(
  entries: Array<ProviderEntry | undefined>,
  deps: ReconcileDeps,
  report: ReconcileReport,
  decide: typeof decideReconcile = decideReconcile,
): Promise<void> {
  const holdable: ProviderEntry[] = [];
  for (const entry of entries) {
    if (!entry) continue;
    const check = checkEmailAddress(entry.email);
    if (check.ok) {
      holdable.push(entry);
      continue;
    }
    report.skipped++;
    report.skippedProblems[check.problem] = (report.skippedProblems[check.problem] ?? 0) + 1;
    logger.warn('reconciled entry skipped: the store cannot hold its address', { provider: entry.provider, problem: check.problem, address: addressRef(entry.email) });
  }
  await mapLimit(holdable, 8, async (entry) => {
    const decision = await deps.store.update(entry.email, (current) => decide(current, entry, deps.policy));
    if (decision.outcome === 'suppressed') {
      report.imported++;
      logger.info('reconciled entry imported', { provider: entry.provider, reason: entry.reason, address: addressRef(entry.email) });
    }
  });
}

export async function reconcileSes(api: SesSuppressionApi, deps: ReconcileDeps, calls: PacedCalls, pageSize = 1000): Promise<ReconcileReport> {
  const report = newReport('ses');
  let cp = (await deps.sync.getControl<SesCheckpoint>('reconcile#ses')) ?? {};
  if (!cp.passStartedAt) cp = { since: cp.since, passStartedAt: iso(deps.clock.now()) };
  try {
    await sesTokenPass({
      checkpointKey: 'reconcile#ses',
      checkpoint: cp,
      deps,
      calls,
      report,
      rejectedToken: 'SES rejected the saved NextToken: restarting the pass',
      restart: (at) => ({ since: at.since, passStartedAt: iso(deps.clock.now()) }),
      page: async (at) => {
        const page = await api.list({ nextToken: at.nextToken, since: at.since ? new Date(at.since) : undefined, pageSize });
        return { items: page.entries, nextToken: page.nextToken };
      },
      importPage: (entries) => importEntries(entries.map(fromSesEntry), deps, report),
      completed: (at) => {
        const started = Date.parse(at.passStartedAt ?? iso(deps.clock.now()));
        return { since: iso(started - SINCE_OVERLAP_MS), completedAt: iso(deps.clock.now()) };
      },
    });
  } finally {
    metrics.addMetric('SesReconcileImported', MetricUnit.Count, report.imported);
    metrics.addMetric('SesReconcileSkipped', MetricUnit.Count, report.skipped);
  }
  return report;
}

/**
 * One SES NextToken pass, for the suppression-list and the contact-list readers: pages from the
 * saved checkpoint, saves it after every page and when the run's budget is spent (the next run
 * resumes there), and restarts the pass when SES rejects a saved NextToken (a non-retryable
 * error on a call that carried one).
 */
export async function sesTokenPass<C extends { nextToken?: string | undefined }, T>(o: {
  checkpointKey: string;
  checkpoint: C;
  deps: Pick<ReconcileDeps, 'sync'>;
  calls: PacedCalls;
  report: ReconcileReport;
  /** Logged (warn) when SES rejects the saved NextToken. */
  rejectedToken: string;
  restart: (cp: C) => C;
  page: (cp: C) => Promise<{ items: T[]; nextToken?: string | undefined }>;
  importPage: (items: T[]) => Promise<void>;
  /** The checkpoint a finished pass leaves. */
  completed: (cp: C) => C;
}): Promise<void> {
  let cp = o.checkpoint;
  try {
    for (;;) {
      let page;
      try {
        const at = cp;
        page = await o.calls.call(() => o.page(at));
      } catch (error) {
        if (error instanceof ProviderCallError && !error.opts.retryable && cp.nextToken) {
          logger.warn(o.rejectedToken, { error: error.message });
          cp = o.restart(cp);
          continue;
        }
        throw error;
      }
      o.report.pages++;
      o.report.seen += page.items.length;
      await o.importPage(page.items);
      if (page.nextToken) {
        cp = { ...cp, nextToken: page.nextToken };
        await o.deps.sync.putControl(o.checkpointKey, cp);
        continue;
      }
      cp = o.completed(cp);
      await o.deps.sync.putControl(o.checkpointKey, cp);
      o.report.passCompleted = true;
      break;
    }
  } catch (error) {
    if (!(error instanceof RunBudgetExhaustedError)) throw error;
    await o.deps.sync.putControl(o.checkpointKey, cp);
  }
}

const MAILTRAP_PAGE_SIZE = 1000;

export async function reconcileMailtrap(api: MailtrapSuppressionApi, deps: ReconcileDeps, calls: PacedCalls): Promise<ReconcileReport> {
  const report = newReport('mailtrap');
  let cp = (await deps.sync.getControl<MailtrapCheckpoint>('reconcile#mailtrap')) ?? {};
  try {
    for (;;) {
      let records;
      try {
        records = await calls.call(() => api.page(cp.lastId));
      } catch (error) {
        if (error instanceof ProviderCallError && error.opts.status === 400 && cp.lastId) {
          logger.warn('Mailtrap rejected the saved cursor: reading from the start', { error: error.message });
          cp = {};
          continue;
        }
        throw error;
      }
      report.pages++;
      report.seen += records.length;
      await importEntries(records.map(fromMailtrapRecord), deps, report);
      if (deps.config) report.confirmedUploads = (report.confirmedUploads ?? 0) + (await confirmAwaitedUploads(records, { sync: deps.sync, config: deps.config, clock: deps.clock }));
      const last = records.at(-1);
      if (last) cp = { ...cp, lastId: last.id };
      if (records.length < MAILTRAP_PAGE_SIZE) {
        cp = { ...cp, caughtUpAt: iso(deps.clock.now()) };
        await deps.sync.putControl('reconcile#mailtrap', cp);
        report.passCompleted = true;
        break;
      }
      await deps.sync.putControl('reconcile#mailtrap', cp);
    }
  } catch (error) {
    if (!(error instanceof RunBudgetExhaustedError)) throw error;
  } finally {
    metrics.addMetric('MailtrapReconcileImported', MetricUnit.Count, report.imported);
    metrics.addMetric('MailtrapReconcileSkipped', MetricUnit.Count, report.skipped);
  }
  return report;
}
