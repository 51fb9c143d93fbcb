/**
 * migration-status: receives EventBridge scheduled events (rate 5 minutes; reservedConcurrency
 * 1) and publishes where a migration stands as CloudWatch metrics (shared/services/
 * migration-metrics.ts): per provider the count of synced / pending / awaiting-import /
 * importing / failed addresses and when the rest is done at this stage's paces. The same view
 * is kept for `mailbridge migrate status`.
 *
 * Failure behaviour: the pass over the sync table is saved after a run that runs out of its
 * budget (SYNC_RUN_SECONDS, or the Lambda's remaining time) and goes on at the next run; a
 * failed read fails the run, and the next run goes on from the last saved point. Metrics are
 * emitted only for a finished pass.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { migrationStatusDepsFromEnv } from '../../shared/adapters/migration-status-deps.ts';
import { publishMigrationStatus, type MigrationStatusDeps, type MigrationStatusRun } from '../../shared/services/migration-metrics.ts';
import { runDeadline } from '../../shared/services/run-clock.ts';
import { logger, metrics } from '../../shared/observability.ts';

export async function runMigrationStatus(deps: MigrationStatusDeps, remainingMs: number): Promise<MigrationStatusRun> {
  const run = await publishMigrationStatus(deps, runDeadline(deps.clock, deps.settings.runMs, remainingMs));
  // Counts only: no address is in the view.
  logger.info('migration status', { done: run.done, pages: run.pages, ses: run.status?.providers.ses.counts, mailtrap: run.status?.providers.mailtrap.counts });
  return run;
}

let deps: MigrationStatusDeps | undefined;
const getDeps = (): MigrationStatusDeps => (deps ??= migrationStatusDepsFromEnv());

export const handler = middy<ScheduledEvent, MigrationStatusRun>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((_event: ScheduledEvent, context: Context) => runMigrationStatus(getDeps(), context.getRemainingTimeInMillis()));
