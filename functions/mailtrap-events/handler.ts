/**
 * mailtrap-events: receives SQS batches from the Mailtrap events queue, one Mailtrap event per
 * message (enqueued by mailtrap-webhook), and applies each through the shared suppression
 * policy. `event_id` makes each event take effect once across redelivered batches and
 * Mailtrap's own retries.
 *
 * Failure behaviour: a body that cannot be applied for its content (not JSON, not a Mailtrap
 * event, an address the store's rule refuses, a timestamp out of range: the webhook's own
 * triage) goes straight to the DLQ with the reason in `mailbridge.error`, after one receive;
 * store errors fail the record (batch item failure) and SQS retries it, then the redrive
 * policy moves it to the DLQ.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { feedbackDepsFromEnv, type FeedbackDeps } from '../../shared/adapters/feedback-deps.ts';
import { deadLetterRecord, sqsBatchHandler } from '../../shared/services/sqs-batch.ts';
import { mapMailtrapEvent } from '../../shared/domain/mailtrap-feedback.ts';
import { triageEvent } from '../../shared/schemas/mailtrap-event.ts';
import { InvalidJsonError, parseJson } from '../../shared/schemas/json.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { applyFeedbackEvents } from '../../shared/services/apply-feedback.ts';

export type MailtrapEventsDeps = FeedbackDeps;

export async function handleMailtrapEventRecord(record: SQSRecord, deps: MailtrapEventsDeps): Promise<void> {
  let raw: unknown;
  try {
    raw = parseJson(record.body);
  } catch (error) {
    if (!(error instanceof InvalidJsonError)) throw error;
    await deadLetterRecord(record, error.message, deps.deadLetters, 'Mailtrap event');
    return;
  }
  const triage = triageEvent(raw);
  if (triage.kind !== 'valid') {
    await deadLetterRecord(record, triage.kind === 'unknown' ? `unknown event ${triage.name}` : triage.reason, deps.deadLetters, 'Mailtrap event');
    return;
  }
  metrics.addMetric(`Mailtrap${triage.event.event.replace(/[^a-z]/g, '')}`, MetricUnit.Count, 1);
  await applyFeedbackEvents([mapMailtrapEvent(triage.event)], deps.store, deps.policy);
}

export function makeMailtrapEventsHandler(getDeps: () => MailtrapEventsDeps) {
  return sqsBatchHandler(handleMailtrapEventRecord, getDeps);
}

let deps: MailtrapEventsDeps | undefined;
/** Built on first use (cold start), so a missing variable fails the first invocation loudly. */
const getDeps = (): MailtrapEventsDeps => (deps ??= feedbackDepsFromEnv('MAILTRAP_EVENTS_DLQ_URL'));

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeMailtrapEventsHandler(getDeps));
