/**
 * ses-sync: receives EventBridge scheduled events (rate 1 minute; reservedConcurrency 1, so
 * runs never overlap) and drains the SES outbox within the SES API rate (push share,
 * SES_PUSH_RATE):
 * 1. settles open suppression-list import jobs (one GetImportJob each);
 * 2. turns a large backlog (SES_IMPORT_THRESHOLD or more plain PUTs due) into one
 *    CreateImportJob over a CSV in S3, and many removals into DELETE import jobs; addresses
 *    of a job SES still runs (jobs can take hours) are left to it;
 * 3. pushes the rest one address at a time: PutSuppressedDestination (original spelling),
 *    DeleteSuppressedDestination on removal, UpdateContact/CreateContact with UnsubscribeAll
 *    in SES_CONTACT_LIST for unsubscribes (skipped, with the reason kept, when no list is set).
 *
 * Failure behaviour: per address, as services/sync-drain.ts says (backoff, bounded attempts,
 * then `failed` + sync DLQ). An error outside the provider calls (DynamoDB, S3) fails the run;
 * the next run picks up where this one stopped. The run returns its report.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { sesSyncDepsFromEnv, type SesSyncDeps } from '../../shared/adapters/ses-sync-deps.ts';
import { drainOutbox, RunBudgetExhaustedError, withPersistedPace, type DrainReport } from '../../shared/services/sync-drain.ts';
import { runDeadline } from '../../shared/services/run-clock.ts';
import { holdImporting, importBacklog, openImportJobs, sesExecutor, settleImportJobs } from '../../shared/services/ses-sync.ts';
import { logger, metrics } from '../../shared/observability.ts';

export type { SesSyncDeps } from '../../shared/adapters/ses-sync-deps.ts';

export interface SesSyncReport extends DrainReport {
  importJobs: { completed: number; released: number; open: number; started?: string | undefined; deleteJobs: string[]; imported: number };
}

const PACE = 'pace#ses-push';

export async function runSesSync(deps: SesSyncDeps, remainingMs: number): Promise<SesSyncReport> {
  const deadline = runDeadline(deps.clock, deps.settings.runMs, remainingMs);
  const importDeps = { ...deps, ...deps.settings.sesImport };
  return withPersistedPace(deps.sync, { name: PACE, rate: deps.settings.rates.sesPush, clock: deps.clock, deadline }, async (calls) => {
    let settled = { completed: 0, released: 0, open: 0 };
    let started: Awaited<ReturnType<typeof importBacklog>> = { deleteJobs: [], addresses: 0, emails: new Set() };
    try {
      settled = await settleImportJobs(importDeps, calls);
      started = await importBacklog(importDeps, calls, await openImportJobs(deps.sync));
    } catch (error) {
      // Out of time before a job call's slot: the drain below finds none either; next run goes on.
      if (!(error instanceof RunBudgetExhaustedError)) throw error;
    }
    // Addresses of jobs SES is still working on (they can take hours) are left to their job.
    const hold = holdImporting(importDeps, await openImportJobs(deps.sync));
    const drained = await drainOutbox(
      { provider: 'ses', store: deps.store, sync: deps.sync, deadLetters: deps.deadLetters, config: deps.config, execute: sesExecutor(deps.api, deps.config), limits: deps.settings.limits, clock: deps.clock, hold },
      calls,
      deadline,
      started.emails,
    );
    const report = { ...drained, importJobs: { ...settled, started: started.jobId, deleteJobs: started.deleteJobs, imported: started.addresses } };
    logger.info('ses-sync run', { ...report });
    return report;
  });
}

let deps: SesSyncDeps | undefined;
const getDeps = (): SesSyncDeps => (deps ??= sesSyncDepsFromEnv());

export const handler = middy<ScheduledEvent, SesSyncReport>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((_event: ScheduledEvent, context: Context) => runSesSync(getDeps(), context.getRemainingTimeInMillis()));
