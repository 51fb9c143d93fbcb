import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import { logger, metrics } from '../observability.ts';

/**
 * An SQS-triggered handler with partial batch responses: each record goes through
 * `handleRecord`; one that throws is reported in `batchItemFailures` and retried by SQS alone.
 */
export function sqsBatchHandler<D>(handleRecord: (record: SQSRecord, deps: D) => Promise<void>, getDeps: () => D) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, (record: SQSRecord) => handleRecord(record, getDeps()), new BatchProcessor(EventType.SQS), { context });
}

/**
 * A record that can never succeed (not JSON, not the event it should be): moved to the DLQ
 * with the reason and acknowledged, so it is neither retried nor lost. The log line names the
 * record and the reason, never the body (it holds addresses).
 */
export async function deadLetterRecord(record: SQSRecord, reason: string, deadLetters: DeadLetterSink, what: string): Promise<void> {
  logger.warn(`malformed ${what} sent to DLQ`, { messageId: record.messageId, reason });
  metrics.addMetric('MalformedMessages', MetricUnit.Count, 1);
  await deadLetters.send({ body: record.body, reason, sourceMessageId: record.messageId });
}
