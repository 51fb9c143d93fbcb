/**
 * What `migration-status` needs, built once per cold start: the sync table (a paged read of
 * every address's status, and its control items), and the same sync configuration and run
 * settings the drains read, so its estimate is at this stage's paces. It logs no addresses,
 * so it needs no addressRef key.
 */
import { readConfig, requiredVar } from '../config.ts';
import { metrics } from '../observability.ts';
import type { MigrationStatusDeps } from '../services/migration-metrics.ts';
import { systemClock } from '../services/run-clock.ts';
import { documentClient } from './clients/dynamodb.ts';
import { DynamoSyncState } from './dynamo-sync-state.ts';
import { runSettingsFromEnv, syncConfigFromEnv } from './sync-deps.ts';

export function migrationStatusDepsFromEnv(env: NodeJS.ProcessEnv = process.env): MigrationStatusDeps {
  const c = readConfig({ SUPPRESSION_SYNC_TABLE: requiredVar() }, env);
  return {
    sync: new DynamoSyncState(documentClient, c.SUPPRESSION_SYNC_TABLE),
    settings: runSettingsFromEnv(env),
    config: syncConfigFromEnv(env),
    clock: systemClock,
    metrics,
  };
}
