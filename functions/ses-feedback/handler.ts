/**
 * ses-feedback: receives SQS batches from the SES feedback queue. Each body is an SNS
 * envelope around an SES notification, or the notification itself (raw message delivery).
 * Every recipient-level event goes through the shared suppression policy into the store.
 *
 * Failure behaviour:
 * - malformed body (not JSON, not SES): sent straight to the DLQ with the reason, acknowledged;
 * - store or network error: the record is reported as a batch item failure, SQS redelivers it,
 *   and after maxReceiveCount the queue's redrive policy moves it to the DLQ;
 * - redelivered notification: the address item already remembers its event key, nothing changes.
 */
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { policyShape, readConfig, requiredVar } from '../../shared/config.ts';
import { mapSesNotification } from '../../shared/domain/ses-feedback.ts';
import { DEFAULT_POLICY, type PolicyConfig } from '../../shared/domain/suppression-policy.ts';
import { MalformedEventError, parseSesFeedbackBody } from '../../shared/schemas/ses-notification.ts';
import type { DeadLetterSink } from '../../shared/ports/dead-letter-sink.ts';
import type { SuppressionStore } from '../../shared/ports/suppression-store.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { applyFeedbackEvents } from '../../shared/services/apply-feedback.ts';
import { documentClient } from '../../shared/adapters/clients/dynamodb.ts';
import { sqsClient } from '../../shared/adapters/clients/sqs.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from '../../shared/adapters/sqs-dead-letter-sink.ts';

export interface SesFeedbackDeps {
  store: SuppressionStore;
  deadLetters: DeadLetterSink;
  policy: PolicyConfig;
}

/** Process one SQS record; throws to mark it as a batch item failure. */
export async function handleSesFeedbackRecord(record: SQSRecord, deps: SesFeedbackDeps): Promise<void> {
  let parsed;
  try {
    parsed = mapSesNotification(parseSesFeedbackBody(record.body).notification);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    logger.warn('malformed SES feedback message sent to DLQ', { messageId: record.messageId, reason: error.message });
    metrics.addMetric('MalformedMessages', MetricUnit.Count, 1);
    await deps.deadLetters.send({ body: record.body, reason: error.message, sourceMessageId: record.messageId });
    return;
  }
  if (parsed.unknownType) {
    logger.info('unknown SES event type accepted without effect', { type: parsed.providerType, messageId: record.messageId });
    metrics.addMetric('UnknownEventTypes', MetricUnit.Count, 1);
  }
  metrics.addMetric(`Ses${parsed.providerType.replace(/[^A-Za-z]/g, '')}`, MetricUnit.Count, 1);
  await applyFeedbackEvents(parsed.events, deps.store, deps.policy);
}

export function makeSesFeedbackHandler(getDeps: () => SesFeedbackDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, (record: SQSRecord) => handleSesFeedbackRecord(record, getDeps()), new BatchProcessor(EventType.SQS), {
      context,
    });
}

let deps: SesFeedbackDeps | undefined;
/** Built on first use (cold start), so a missing variable fails the first invocation loudly. */
function getDeps(): SesFeedbackDeps {
  if (deps) return deps;
  const config = readConfig({ SUPPRESSION_TABLE: requiredVar(), SES_FEEDBACK_DLQ_URL: requiredVar(), ...policyShape });
  deps = {
    store: new DynamoSuppressionStore(documentClient, config.SUPPRESSION_TABLE),
    deadLetters: new SqsDeadLetterSink(sqsClient, config.SES_FEEDBACK_DLQ_URL),
    policy: { ...DEFAULT_POLICY, softBounceThreshold: config.SOFT_BOUNCE_THRESHOLD, softBounceWindowDays: config.SOFT_BOUNCE_WINDOW_DAYS },
  };
  return deps;
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeSesFeedbackHandler(getDeps));
