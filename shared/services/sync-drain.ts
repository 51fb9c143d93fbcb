/**
 * Drains one provider's outbox (the sparse `due` index of the sync table) within the
 * provider's rate limit. Used by the scheduled `ses-sync` and `mailtrap-sync` functions.
 *
 * For each due address it reads the store (the source of truth, not the change that queued
 * it: a burst of changes to one address costs one push), works out the provider calls
 * (suppression-sync.ts `planSync`), makes them through the pace, and records the outcome:
 * - all done -> `synced` (or still pending when a newer change arrived meanwhile);
 * - retryable failure (429, 5xx, timeout) -> attempts + 1, due again after an exponential,
 *   jittered backoff (never sooner than Retry-After); a 429 also pauses every further call of
 *   the run, since the limit is per account;
 * - not retryable (e.g. 422 invalid address), or out of attempts -> `failed`, out of the
 *   outbox, and a message to the sync DLQ (alarmed);
 * - credentials / account refused (401/403) -> the run stops and nothing is charged to the
 *   addresses;
 * - the run's time is up before a call's slot -> left as it is (what was applied is kept).
 * Calls already made are remembered on the item (`applied`), so a retry never repeats them.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncItem, SyncStateStore } from '../ports/sync-state.ts';
import { ProviderCallError } from '../ports/provider-suppressions.ts';
import type { AddressState } from '../domain/suppression-policy.ts';
import { backoffMs, desiredFor, planSync, type Provider, type SyncConfig, type SyncPlan } from '../domain/suppression-sync.ts';
import { Pacer, type RateSpec } from '../domain/rate-limit.ts';
import { addressRef, logger, metrics } from '../observability.ts';
import type { Clock } from './run-clock.ts';

export class RunBudgetExhaustedError extends Error {
  override name = 'RunBudgetExhaustedError';
}


/**
 * One provider account's pace for this run: every call waits for its slot; a slot past the
 * run's deadline ends the run instead. Its next free slot is persisted between runs
 * (reservedConcurrency 1 keeps runs of one drain from overlapping).
 */
export class PacedCalls {
  readonly pacer: Pacer;
  calls = 0;
  throttled = 0;

  constructor(
    rate: RateSpec,
    private readonly clock: Clock,
    private readonly deadline: number,
    startAt = 0,
  ) {
    this.pacer = new Pacer(rate, { startAt });
  }

  async call<T>(run: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const slot = this.pacer.reserveBy(now, this.deadline);
    if (slot === undefined) throw new RunBudgetExhaustedError('no slot left in this run');
    if (slot > now) await this.clock.sleep(slot - now);
    this.calls++;
    try {
      return await run();
    } catch (error) {
      if (error instanceof ProviderCallError && error.opts.throttled) {
        this.throttled++;
        // The account is over its limit: nobody sends until Retry-After (or one interval) has passed.
        this.pacer.pauseUntil(this.clock.now() + (error.opts.retryAfterMs ?? this.pacer.intervalMs));
      }
      throw error;
    }
  }
}


/**
 * Runs `work` with the calls paced from where the previous run of the same pace left off, and
 * saves the pace's next free slot afterwards, whether the work succeeded or not.
 */
export async function withPersistedPace<T>(
  sync: Pick<SyncStateStore, 'getControl' | 'putControl'>,
  pace: { name: string; rate: RateSpec; clock: Clock; deadline: number },
  work: (calls: PacedCalls) => Promise<T>,
): Promise<T> {
  const calls = new PacedCalls(pace.rate, pace.clock, pace.deadline, (await sync.getControl<number>(pace.name)) ?? 0);
  try {
    return await work(calls);
  } finally {
    await sync.putControl(pace.name, calls.pacer.nextFreeAt());
  }
}

export interface ExecuteContext {
  item: SyncItem;
  state: AddressState | undefined;
  plan: SyncPlan;
  /** What the provider holds; the executor updates it after each successful call. */
  applied: Record<string, string>;
  /** Reasons found while executing (e.g. domain unknown to Mailtrap). */
  skipped: string[];
  calls: PacedCalls;
}

export type Executor = (ctx: ExecuteContext) => Promise<void>;

export interface DrainLimits {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Addresses worked on at once; the pace still spaces the calls. */
  concurrency: number;
  pageSize: number;
}

export interface DrainDeps {
  provider: Provider;
  store: SuppressionStore;
  sync: SyncStateStore;
  deadLetters: DeadLetterSink;
  config: SyncConfig;
  execute: Executor;
  limits: DrainLimits;
  clock: Clock;
  /**
   * An address a bulk path still owns (an open SES import job, a Mailtrap dashboard upload
   * awaited): true = leave it to that path, no provider call. The hold moves its `dueAt` on.
   */
  hold?: ((item: SyncItem, plan: SyncPlan) => Promise<boolean>) | undefined;
}

export interface DrainReport {
  provider: Provider;
  addresses: number;
  synced: number;
  superseded: number;
  retried: number;
  failed: number;
  calls: number;
  throttled: number;
  /** Due addresses left to a bulk path (see DrainDeps.hold). */
  held?: number | undefined;
  stopped?: string | undefined;
}

/** A clock reading (ms) as the ISO-8601 text the stores keep. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Run `fn` over `items`, at most `limit` at a time; the first error rejects (after the others settle). */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}

export async function drainOutbox(deps: DrainDeps, calls: PacedCalls, deadline: number, skip: ReadonlySet<string> = new Set()): Promise<DrainReport> {
  const { provider, sync, clock, limits } = deps;
  const report: DrainReport = { provider, addresses: 0, synced: 0, superseded: 0, retried: 0, failed: 0, calls: 0, throttled: 0 };
  // Addresses handled in this run already (a bulk import, or a retry that the eventually
  // consistent index still shows as due) are not worked on twice.
  const seen = new Set<string>(skip);
  let outOfTime = false;

  const processItem = async (item: SyncItem) => {
    if (report.stopped || outOfTime) return;
    const state = await deps.store.get(item.email);
    const plan = planSync(provider, desiredFor(provider, state, deps.config), item.applied, item.purge ?? false);
    if (deps.hold && (await deps.hold(item, plan))) {
      report.held = (report.held ?? 0) + 1;
      return;
    }
    report.addresses++;
    const applied = { ...item.applied, ...plan.adopted };
    const skipped = [...plan.skipped];
    const now = () => iso(clock.now());
    try {
      await deps.execute({ item, state, plan, applied, skipped, calls });
      // What the provider turned out unable to hold (e.g. a domain missing from the Mailtrap account).
      const found = skipped.slice(plan.skipped.length);
      if (found.length > 0) logger.warn('not pushed to provider', { provider, reasons: found, address: addressRef(item.email) });
      const outcome = await sync.complete(item, { applied, skipped, now: now() });
      report[outcome === 'synced' ? 'synced' : 'superseded']++;
      logger.debug('address synced', { provider, address: addressRef(item.email), outcome, ops: plan.ops.length });
    } catch (error) {
      if (error instanceof RunBudgetExhaustedError) {
        outOfTime = true;
        if (JSON.stringify(applied) !== JSON.stringify(item.applied)) {
          await sync.retry(item, { applied, attempts: item.attempts, error: 'run ended before all calls were made', dueAt: now(), now: now() });
        }
        return;
      }
      // Anything but a provider answer (the store, the sync table) fails the run: the scheduler's
      // error metric and the next run deal with it, and no address is charged an attempt.
      if (!(error instanceof ProviderCallError)) throw error;
      if (error.opts.stopRun) {
        report.stopped = error.message;
        await sync.retry(item, { applied, attempts: item.attempts, error: error.message, dueAt: iso(clock.now() + limits.backoffBaseMs), now: now() });
        return;
      }
      const attempts = item.attempts + 1;
      if (!error.opts.retryable || attempts >= limits.maxAttempts) {
        await sync.fail(item, { applied, attempts, error: error.message, now: now() });
        await deps.deadLetters.send({
          body: JSON.stringify({ kind: 'suppression-sync', provider, email: item.email, attempts, error: error.message, at: now() }),
          reason: error.opts.retryable ? `gave up after ${attempts} attempts: ${error.message}` : `not retryable: ${error.message}`,
          sourceMessageId: `sync:${provider}:${addressRef(item.email)}`,
        });
        report.failed++;
        logger.warn('address sync failed for good', { provider, address: addressRef(item.email), attempts, error: error.message });
        return;
      }
      const delay = backoffMs(attempts, { baseMs: limits.backoffBaseMs, maxMs: limits.backoffMaxMs, retryAfterMs: error.opts.retryAfterMs });
      await sync.retry(item, { applied, attempts, error: error.message, dueAt: iso(clock.now() + delay), now: now() });
      report.retried++;
    }
  };

  try {
    while (!report.stopped && !outOfTime && clock.now() < deadline) {
      const due = (await sync.due(provider, iso(clock.now()), limits.pageSize)).filter((i) => !seen.has(i.email));
      if (due.length === 0) break;
      for (const item of due) seen.add(item.email);
      await mapLimit(due, limits.concurrency, processItem);
    }
  } finally {
    report.calls = calls.calls;
    report.throttled = calls.throttled;
    metrics.addMetric(`${provider}SyncSynced`, MetricUnit.Count, report.synced);
    metrics.addMetric(`${provider}SyncRetried`, MetricUnit.Count, report.retried);
    metrics.addMetric(`${provider}SyncFailed`, MetricUnit.Count, report.failed);
    metrics.addMetric(`${provider}ProviderCalls`, MetricUnit.Count, report.calls);
    metrics.addMetric(`${provider}Throttled`, MetricUnit.Count, report.throttled);
  }
  if (report.stopped) logger.error('sync run stopped: provider refused the credentials or account', { provider, error: report.stopped });
  return report;
}
