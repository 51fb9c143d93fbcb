/**
 * mailtrap-events: receives SQS batches from the Mailtrap events queue, one Mailtrap event per
 * message (enqueued by mailtrap-webhook), and applies each through the shared suppression
 * policy. `event_id` makes each event take effect once across redelivered batches and
 * Mailtrap's own retries.
 *
 * Failure behaviour: a body that is not a valid Mailtrap event goes straight to the DLQ with
 * the reason; store errors fail the record (batch item failure) and SQS retries it, then the
 * redrive policy moves it to the DLQ.
 */
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { policyShape, readConfig, requiredVar } from '../../shared/config.ts';
import { mapMailtrapEvent } from '../../shared/domain/mailtrap-feedback.ts';
import { DEFAULT_POLICY, type PolicyConfig } from '../../shared/domain/suppression-policy.ts';
import { triageEvent } from '../../shared/schemas/mailtrap-event.ts';
import type { DeadLetterSink } from '../../shared/ports/dead-letter-sink.ts';
import type { SuppressionStore } from '../../shared/ports/suppression-store.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { applyFeedbackEvents } from '../../shared/services/apply-feedback.ts';
import { documentClient } from '../../shared/adapters/clients/dynamodb.ts';
import { sqsClient } from '../../shared/adapters/clients/sqs.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from '../../shared/adapters/sqs-dead-letter-sink.ts';

export interface MailtrapEventsDeps {
  store: SuppressionStore;
  deadLetters: DeadLetterSink;
  policy: PolicyConfig;
}

export async function handleMailtrapEventRecord(record: SQSRecord, deps: MailtrapEventsDeps): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(record.body);
  } catch {
    raw = undefined;
  }
  const triage = triageEvent(raw);
  if (triage.kind !== 'valid') {
    const reason = triage.kind === 'unknown' ? `unknown event ${triage.name}` : raw === undefined ? 'body is not JSON' : triage.reason;
    logger.warn('malformed Mailtrap event sent to DLQ', { messageId: record.messageId, reason });
    metrics.addMetric('MalformedMessages', MetricUnit.Count, 1);
    await deps.deadLetters.send({ body: record.body, reason, sourceMessageId: record.messageId });
    return;
  }
  metrics.addMetric(`Mailtrap${triage.event.event.replace(/[^a-z]/g, '')}`, MetricUnit.Count, 1);
  await applyFeedbackEvents([mapMailtrapEvent(triage.event)], deps.store, deps.policy);
}

export function makeMailtrapEventsHandler(getDeps: () => MailtrapEventsDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, (record: SQSRecord) => handleMailtrapEventRecord(record, getDeps()), new BatchProcessor(EventType.SQS), {
      context,
    });
}

let deps: MailtrapEventsDeps | undefined;
function getDeps(): MailtrapEventsDeps {
  if (deps) return deps;
  const config = readConfig({ SUPPRESSION_TABLE: requiredVar(), MAILTRAP_EVENTS_DLQ_URL: requiredVar(), ...policyShape });
  deps = {
    store: new DynamoSuppressionStore(documentClient, config.SUPPRESSION_TABLE),
    deadLetters: new SqsDeadLetterSink(sqsClient, config.MAILTRAP_EVENTS_DLQ_URL),
    policy: { ...DEFAULT_POLICY, softBounceThreshold: config.SOFT_BOUNCE_THRESHOLD, softBounceWindowDays: config.SOFT_BOUNCE_WINDOW_DAYS },
  };
  return deps;
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeMailtrapEventsHandler(getDeps));
