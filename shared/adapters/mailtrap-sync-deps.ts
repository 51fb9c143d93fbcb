/**
 * What `mailtrap-sync` needs, built once per cold start: the Mailtrap suppression API, the
 * store and sync table, the sync DLQ, the sync and run settings.
 */
import { readConfig, requiredVar } from '../config.ts';
import type { SyncConfig } from '../domain/suppression-sync.ts';
import { requireAddressRefKey } from '../observability.ts';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { MailtrapSuppressionApi } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import { systemClock, type Clock } from '../services/run-clock.ts';
import { sqsClient } from './clients/sqs.ts';
import { SqsDeadLetterSink } from './sqs-dead-letter-sink.ts';
import { mailtrapApiFromEnv, runSettingsFromEnv, storesFromEnv, syncConfigFromEnv, type RunSettings } from './sync-deps.ts';

export interface MailtrapSyncDeps {
  api: MailtrapSuppressionApi;
  store: SuppressionStore;
  sync: SyncStateStore;
  deadLetters: DeadLetterSink;
  config: SyncConfig;
  settings: RunSettings;
  clock: Clock;
}

export function mailtrapSyncDepsFromEnv(env: NodeJS.ProcessEnv = process.env): MailtrapSyncDeps {
  const c = readConfig({ SUPPRESSION_SYNC_DLQ_URL: requiredVar() }, env);
  requireAddressRefKey(env);
  return {
    api: mailtrapApiFromEnv(env),
    ...storesFromEnv(env),
    deadLetters: new SqsDeadLetterSink(sqsClient, c.SUPPRESSION_SYNC_DLQ_URL),
    config: syncConfigFromEnv(env),
    settings: runSettingsFromEnv(env),
    clock: systemClock,
  };
}
