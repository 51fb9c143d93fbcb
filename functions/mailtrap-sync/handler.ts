/**
 * mailtrap-sync: receives EventBridge scheduled events (rate 1 minute; reservedConcurrency 1,
 * so runs never overlap) and drains the Mailtrap outbox within the account's suppression
 * rate (push share, MAILTRAP_PUSH_RATE; Mailtrap allows 10 requests / 60 s per account on the
 * suppression endpoints): `POST /api/suppressions` per configured sending domain and stream,
 * look-up by email then `DELETE /api/suppressions/{id}` on removal. The pace's next free slot
 * is kept in the sync table, so consecutive runs together stay within the limit.
 *
 * Failure behaviour: per address, as services/sync-drain.ts says (backoff honouring
 * Retry-After, bounded attempts, then `failed` + sync DLQ); 401/403 stop the run without
 * charging the addresses. An error outside the provider calls fails the run.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { mailtrapSyncDepsFromEnv, type MailtrapSyncDeps } from '../../shared/adapters/mailtrap-sync-deps.ts';
import { drainOutbox, withPersistedPace, type DrainReport } from '../../shared/services/sync-drain.ts';
import { runDeadline } from '../../shared/services/run-clock.ts';
import { holdAwaitedUpload } from '../../shared/services/mailtrap-import.ts';
import { mailtrapExecutor } from '../../shared/services/mailtrap-sync.ts';
import { logger, metrics } from '../../shared/observability.ts';

export type { MailtrapSyncDeps } from '../../shared/adapters/mailtrap-sync-deps.ts';

const PACE = 'pace#mailtrap-push';

export async function runMailtrapSync(deps: MailtrapSyncDeps, remainingMs: number): Promise<DrainReport> {
  const deadline = runDeadline(deps.clock, deps.settings.runMs, remainingMs);
  return withPersistedPace(deps.sync, { name: PACE, rate: deps.settings.rates.mailtrapPush, clock: deps.clock, deadline }, async (calls) => {
    const report = await drainOutbox(
      {
        provider: 'mailtrap',
        store: deps.store,
        sync: deps.sync,
        deadLetters: deps.deadLetters,
        config: deps.config,
        execute: mailtrapExecutor(deps.api),
        limits: deps.settings.limits,
        clock: deps.clock,
        // Addresses awaiting a dashboard upload (suppressions export --format mailtrap-import) cost no API call until the grace ends.
        hold: holdAwaitedUpload(deps),
      },
      calls,
      deadline,
    );
    logger.info('mailtrap-sync run', { ...report });
    return report;
  });
}

let deps: MailtrapSyncDeps | undefined;
const getDeps = (): MailtrapSyncDeps => (deps ??= mailtrapSyncDepsFromEnv());

export const handler = middy<ScheduledEvent, DrainReport>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((_event: ScheduledEvent, context: Context) => runMailtrapSync(getDeps(), context.getRemainingTimeInMillis()));
