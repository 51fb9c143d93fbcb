/**
 * The migration view (migration-status.ts) as CloudWatch metrics, for a deployed stage: the
 * `migration-status` function counts every address's sync status per provider in one pass
 * over the sync table, then emits the counts and the estimate as metrics and keeps the result
 * as a control item, so `migrate status` can estimate at the stage's own paces.
 *
 * - A pass longer than a run's budget goes on where it stopped at the next run (its progress
 *   is a control item); metrics are emitted only for a finished pass, never for a partial count.
 * - Metric names: `Migration<Provider><Status>` (Count) for the five statuses, and
 *   `Migration<Provider>DoneInSeconds` (Seconds; 0 when nothing is left to push).
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { RunSettings } from '../adapters/sync-deps.ts';
import type { Provider, SyncConfig } from '../domain/suppression-sync.ts';
import type { SyncStateStore, SyncStatus, SyncStatusReader } from '../ports/sync-state.ts';
import { UPLOAD_CONTROL, type UploadControl } from '../domain/mailtrap-import.ts';
import { countSyncTable, migrationStatus, newCountPass, type CountPass, type MigrationStatus } from './migration-status.ts';
import type { Clock } from './run-clock.ts';

export const PASS_CONTROL = 'migration-status#pass';
export const PUBLISHED_CONTROL = 'migration-status#published';

/** The last finished pass, as the function published it: the view and the paces it was estimated at. */
export interface PublishedMigrationStatus {
  passStartedAt: string;
  pages: number;
  status: MigrationStatus;
  settings: RunSettings;
  config: SyncConfig;
}

export interface MigrationStatusDeps {
  sync: SyncStatusReader & Pick<SyncStateStore, 'getControl' | 'putControl' | 'deleteControl'>;
  settings: RunSettings;
  config: SyncConfig;
  clock: Clock;
  metrics: Pick<Metrics, 'addMetric'>;
  /** Items per Scan page (default: DynamoDB's 1 MB pages). */
  pageLimit?: number | undefined;
}

const STATUS_METRIC: Record<SyncStatus, string> = { synced: 'Synced', pending: 'Pending', 'awaiting-import': 'AwaitingImport', importing: 'Importing', failed: 'Failed' };
const PROVIDER_METRIC: Record<Provider, string> = { ses: 'Ses', mailtrap: 'Mailtrap' };

export function migrationMetricName(provider: Provider, what: SyncStatus | 'DoneInSeconds'): string {
  return `Migration${PROVIDER_METRIC[provider]}${what === 'DoneInSeconds' ? what : STATUS_METRIC[what]}`;
}

export function emitMigrationMetrics(metrics: Pick<Metrics, 'addMetric'>, status: MigrationStatus): void {
  for (const provider of ['ses', 'mailtrap'] as const) {
    const view = status.providers[provider];
    for (const s of Object.keys(STATUS_METRIC) as SyncStatus[]) metrics.addMetric(migrationMetricName(provider, s), MetricUnit.Count, view.counts[s]);
    metrics.addMetric(migrationMetricName(provider, 'DoneInSeconds'), MetricUnit.Seconds, Math.ceil((view.estimate.doneInMs ?? 0) / 1000));
  }
}

export interface MigrationStatusRun {
  done: boolean;
  /** Pages read by this run. */
  pages: number;
  /** The published view (a finished pass only). */
  status?: MigrationStatus;
}

/** One run: go on with the pass (or start one), and publish it when it reaches the end before `deadline`. */
export async function publishMigrationStatus(deps: MigrationStatusDeps, deadline: number): Promise<MigrationStatusRun> {
  const now = () => deps.clock.now();
  const from = (await deps.sync.getControl<CountPass>(PASS_CONTROL)) ?? newCountPass(new Date(now()).toISOString());
  const { pass, done } = await countSyncTable(deps.sync, from, { now, deadline, pageLimit: deps.pageLimit });
  const pages = pass.pages - from.pages;
  if (!done) {
    await deps.sync.putControl(PASS_CONTROL, pass);
    return { done, pages };
  }
  const upload = (await deps.sync.getControl<UploadControl>(UPLOAD_CONTROL)) ?? null;
  const status = migrationStatus({ counts: pass.counts, settings: deps.settings, config: deps.config, upload, now: now() });
  const published: PublishedMigrationStatus = { passStartedAt: pass.startedAt, pages: pass.pages, status, settings: deps.settings, config: deps.config };
  await deps.sync.putControl(PUBLISHED_CONTROL, published);
  await deps.sync.deleteControl(PASS_CONTROL); // the next run starts a new pass
  emitMigrationMetrics(deps.metrics, status);
  return { done, pages, status };
}
