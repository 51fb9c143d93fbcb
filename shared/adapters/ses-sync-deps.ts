/**
 * What `ses-sync` needs, built once per cold start: the SESv2 suppression API, the store and
 * sync table, the bucket for import-job CSVs, the sync DLQ, the sync and run settings.
 */
import { readConfig, requiredVar } from '../config.ts';
import type { SyncConfig } from '../domain/suppression-sync.ts';
import { requireAddressRefKey } from '../observability.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { SesSuppressionApi } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import { systemClock, type Clock } from '../services/run-clock.ts';
import { s3Client } from './clients/s3.ts';
import { sesv2Client } from './clients/sesv2.ts';
import { sqsClient } from './clients/sqs.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { Sesv2Suppressions } from './sesv2-suppressions.ts';
import { SqsDeadLetterSink } from './sqs-dead-letter-sink.ts';
import { runSettingsFromEnv, storesFromEnv, syncConfigFromEnv, type RunSettings } from './sync-deps.ts';

export interface SesSyncDeps {
  api: SesSuppressionApi;
  store: SuppressionStore;
  sync: SyncStateStore;
  blobs: BlobStore;
  deadLetters: DeadLetterSink;
  config: SyncConfig;
  settings: RunSettings;
  clock: Clock;
}

export function sesSyncDepsFromEnv(env: NodeJS.ProcessEnv = process.env): SesSyncDeps {
  const c = readConfig({ SUPPRESSION_SYNC_DLQ_URL: requiredVar(), SUPPRESSION_SYNC_BUCKET: requiredVar() }, env);
  requireAddressRefKey(env);
  return {
    api: new Sesv2Suppressions(sesv2Client),
    ...storesFromEnv(env),
    blobs: new S3BlobStore(s3Client, c.SUPPRESSION_SYNC_BUCKET),
    deadLetters: new SqsDeadLetterSink(sqsClient, c.SUPPRESSION_SYNC_DLQ_URL),
    config: syncConfigFromEnv(env),
    settings: runSettingsFromEnv(env),
    clock: systemClock,
  };
}
