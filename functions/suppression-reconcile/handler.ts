/**
 * suppression-reconcile: receives EventBridge scheduled events (rate 10 minutes;
 * reservedConcurrency 1) and brings into the store the entries the providers hold but the
 * store lacks: SES ListSuppressedDestinations (NextToken paging, incremental by StartDate)
 * and Mailtrap GET /api/suppressions (`last_id` cursor), each at its reconcile share of the
 * account's rate limit. Imported entries get source `reconcile` and a key naming the
 * provider, so they are pushed to the other provider only (no echo).
 *
 * Failure behaviour: checkpoints are saved after every page, so a run that fails or runs out
 * of time resumes where it stopped; the two providers are read independently (one failing
 * does not stop the other) and a failure fails the run after both have been tried.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { reconcileDepsFromEnv, type SuppressionReconcileDeps } from '../../shared/adapters/reconcile-deps.ts';
import { withPersistedPace } from '../../shared/services/sync-drain.ts';
import { runDeadline } from '../../shared/services/run-clock.ts';
import { reconcileMailtrap, reconcileSes, type ReconcileReport } from '../../shared/services/reconcile.ts';
import { UPLOAD_CONTROL } from '../../shared/domain/mailtrap-import.ts';
import type { RateSpec } from '../../shared/domain/rate-limit.ts';
import type { SyncConfig } from '../../shared/domain/suppression-sync.ts';
import { reconcileSesContacts } from '../../shared/services/reconcile-contacts.ts';
import { errorMessage, logger, metrics } from '../../shared/observability.ts';

export class ReconcileRunError extends Error {
  override name = 'ReconcileRunError';
}

export type { SuppressionReconcileDeps } from '../../shared/adapters/reconcile-deps.ts';

/**
 * While a Mailtrap dashboard upload is awaited and the Mailtrap outbox has nothing due, the
 * push share of the account's suppression budget is idle: reconciliation takes it too (9/60 s +
 * 1/60 s = Mailtrap's whole 10/60 s), so the upload is confirmed in about a tenth of the time.
 * Anything due for a push gives the share back at the next run.
 */
export async function mailtrapReconcileRate(deps: Pick<SuppressionReconcileDeps, 'sync' | 'settings' | 'clock'>): Promise<RateSpec> {
  const { mailtrapPush: push, mailtrapReconcile: own } = deps.settings.rates;
  if (!(await deps.sync.getControl(UPLOAD_CONTROL))) return own;
  if ((await deps.sync.due('mailtrap', new Date(deps.clock.now()).toISOString(), 1)).length > 0) return own;
  return { limit: own.limit + (push.limit * own.windowMs) / push.windowMs, windowMs: own.windowMs };
}

export async function runReconcile(deps: SuppressionReconcileDeps, remainingMs: number): Promise<ReconcileReport[]> {
  const deadline = runDeadline(deps.clock, deps.settings.reconcileRunMs, remainingMs);
  const base = { store: deps.store, sync: deps.sync, clock: deps.clock, policy: deps.policy, config: deps.syncConfig };
  const mailtrapRate = await mailtrapReconcileRate(deps);
  const run = (name: 'ses' | 'mailtrap') => {
    const rate = name === 'ses' ? deps.settings.rates.sesReconcile : mailtrapRate;
    // SES: the suppression list, then the contact list, one after the other within the same pace.
    return withPersistedPace(deps.sync, { name: `pace#${name}-reconcile`, rate, clock: deps.clock, deadline }, async (calls) =>
      name === 'ses'
        ? [await reconcileSes(deps.ses, base, calls), await reconcileSesContacts(deps.ses, deps.sesContactList, base, calls)]
        : [await reconcileMailtrap(deps.mailtrap, base, calls)],
    );
  };
  const results = await Promise.allSettled([run('ses'), run('mailtrap')]);
  const reports = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  logger.info('reconcile run', { reports });
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${i === 0 ? 'ses' : 'mailtrap'}: ${errorMessage(r.reason)}`] : []));
  if (failed.length > 0) throw new ReconcileRunError(failed.join('; '));
  return reports;
}

let deps: SuppressionReconcileDeps | undefined;
const getDeps = (): SuppressionReconcileDeps => (deps ??= reconcileDepsFromEnv());

export const handler = middy<ScheduledEvent, ReconcileReport[]>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((_event: ScheduledEvent, context: Context) => runReconcile(getDeps(), context.getRemainingTimeInMillis()));
