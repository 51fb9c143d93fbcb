import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * An SQS-triggered handler with partial batch responses: each record goes through
 * `handleRecord`; one that throws is reported in `batchItemFailures` and retried by SQS alone.
 */
export function sqsBatchHandler<D>(handleRecord: (record: SQSRecord, deps: D) => Promise<void>, getDeps: () => D) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, (record: SQSRecord) => handleRecord(record, getDeps()), new BatchProcessor(EventType.SQS), { context });
}
