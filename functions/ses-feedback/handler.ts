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
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { feedbackDepsFromEnv, type FeedbackDeps } from '../../shared/adapters/feedback-deps.ts';
import { deadLetterRecord, sqsBatchHandler } from '../../shared/services/sqs-batch.ts';
import { mapSesNotification } from '../../shared/domain/ses-feedback.ts';
import { MalformedEventError, parseSesFeedbackBody } from '../../shared/schemas/ses-notification.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { applyFeedbackEvents } from '../../shared/services/apply-feedback.ts';

export type SesFeedbackDeps = FeedbackDeps;

/** Process one SQS record; throws to mark it as a batch item failure. */
export async function handleSesFeedbackRecord(record: SQSRecord, deps: SesFeedbackDeps): Promise<void> {
  let parsed;
  try {
    parsed = mapSesNotification(parseSesFeedbackBody(record.body).notification);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    await deadLetterRecord(record, error.message, deps.deadLetters, 'SES feedback message');
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
  return sqsBatchHandler(handleSesFeedbackRecord, getDeps);
}

let deps: SesFeedbackDeps | undefined;
/** Built on first use (cold start), so a missing variable fails the first invocation loudly. */
const getDeps = (): SesFeedbackDeps => (deps ??= feedbackDepsFromEnv('SES_FEEDBACK_DLQ_URL'));

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeSesFeedbackHandler(getDeps));
