/**
 * suppression-changes: receives DynamoDB Streams batches (NEW_AND_OLD_IMAGES) from the
 * suppression store and queues, per provider, the addresses whose suppressions that provider
 * must learn about (the outbox: pending items in the sync table, drained by ses-sync and
 * mailtrap-sync within each provider's rate limit).
 *
 * Only changes to what a provider should hold count (suppression-sync.ts `changeFor`): soft
 * bounces, deliveries, duplicates, history and echoes of a provider's own entries queue
 * nothing. The handler writes only to the sync table, never to the store, so it cannot
 * trigger itself.
 *
 * Failure behaviour: a record that fails (sync table unavailable) is reported as a batch item
 * failure; Lambda retries from it (bisecting the batch) until it is queued or an hour old
 * (maximumRecordAgeInSeconds), then sends the batch's stream coordinates to the sync DLQ
 * (onFailure destination) for a person to replay. A record that is not a store item (no `pk`)
 * is skipped with a warning.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fromItem } from '../../shared/adapters/dynamo-suppression-store.ts';
import { suppressionChangesDepsFromEnv, type SuppressionChangesDeps } from '../../shared/adapters/suppression-changes-deps.ts';
import type { AddressState } from '../../shared/domain/suppression-policy.ts';
import { changeFor, newlySkipped, PROVIDERS } from '../../shared/domain/suppression-sync.ts';
import { addressRef, logger, metrics } from '../../shared/observability.ts';

export type { SuppressionChangesDeps } from '../../shared/adapters/suppression-changes-deps.ts';

function image(raw: Record<string, unknown> | undefined): AddressState | undefined {
  if (!raw) return undefined;
  return fromItem(unmarshall(raw as Record<string, AttributeValue>));
}

export async function handleSuppressionChange(record: DynamoDBRecord, deps: SuppressionChangesDeps): Promise<void> {
  const before = image(record.dynamodb?.OldImage as Record<string, unknown> | undefined);
  const after = image(record.dynamodb?.NewImage as Record<string, unknown> | undefined);
  const email = after?.email ?? before?.email;
  if (!email) {
    logger.warn('stream record without an address item skipped', { eventID: record.eventID, eventName: record.eventName });
    return;
  }
  let queued = 0;
  for (const provider of PROVIDERS) {
    const skipped = newlySkipped(provider, before, after, deps.config);
    // Reasons name scopes and configuration, never the address itself.
    if (skipped.length > 0) logger.info('not pushed to provider', { provider, reasons: skipped, address: addressRef(email) });
    const change = changeFor(provider, before, after, deps.config);
    if (!change.notify) continue;
    const spellings = [...new Set([...(after?.spellings ?? []), ...(before?.spellings ?? [])])];
    await deps.sync.markPending(email, provider, { purge: change.purge, spellings, now: deps.now() });
    metrics.addMetric(change.purge ? 'SyncRemovalsQueued' : 'SyncChangesQueued', MetricUnit.Count, 1);
    logger.debug('sync queued', { provider, purge: change.purge, address: addressRef(email) });
    queued++;
  }
  if (queued === 0) metrics.addMetric('StoreChangesIgnored', MetricUnit.Count, 1);
}

export function makeSuppressionChangesHandler(getDeps: () => SuppressionChangesDeps) {
  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> =>
    processPartialResponse(event, (record: DynamoDBRecord) => handleSuppressionChange(record, getDeps()), new BatchProcessor(EventType.DynamoDBStreams), {
      context,
    });
}

let deps: SuppressionChangesDeps | undefined;
const getDeps = (): SuppressionChangesDeps => (deps ??= suppressionChangesDepsFromEnv());

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeSuppressionChangesHandler(getDeps));
