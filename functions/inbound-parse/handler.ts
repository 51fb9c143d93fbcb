/**
 * inbound-parse: receives SQS batches from the inbound mail queue. Each body is the SNS
 * envelope around an SES `Received` notification from a receipt rule's S3 action (verdicts,
 * bucket and key; no content). The raw message is streamed from S3 and parsed; attachments
 * go to S3, the message and its invoices to DynamoDB, each new invoice to the invoice
 * events topic as `invoice.received`.
 *
 * Failure behaviour:
 * - malformed body (not JSON, not an S3-action Received notification, or naming a bucket other
 *   than the inbound bucket): sent straight to the DLQ with the reason, acknowledged;
 * - bad content (malformed MIME, broken PDFs or XML, empty or missing message, hostile or
 *   oversized values): recorded on the message with a reason, values bounded, acknowledged: it
 *   can never succeed, so it must not retry (a write refused for size is recorded trimmed);
 * - a hostile attachment (PDF or XML bomb): over its recognition budget, recorded as
 *   `recognition-budget-exceeded`, the other attachments recognised;
 * - S3, DynamoDB or SNS failure: the record is reported as a batch item failure and retried by
 *   SQS, then moved to the DLQ by the redrive policy (alarmed);
 * - an attachment whose recognition earlier attempts died in (timeout or out of memory despite
 *   the budgets): after INBOUND_MAX_CRASHED_ATTEMPTS such deaths it is stored without
 *   recognition, so it cannot crash-loop; a store outage outside a recognition, or shorter
 *   than the ~15 s its end is retried for, never counts as a death;
 * - redelivered notification: its message record exists; only invoices whose event is not
 *   out yet are published, nothing is written again (but a standing a concurrent arrival
 *   changed before the records existed is settled: shared/services/process-inbound-mail.ts);
 *   a retry of the delivery that holds an invoice's publish lease takes it back at once (the
 *   lease names the SQS message);
 * - an identity claim that loses 25 races in a row (ClaimContentionError): a batch item
 *   failure, retried by SQS; nothing was recorded.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { inboundDepsFromEnv, type InboundFunctionDeps } from '../../shared/adapters/inbound-deps.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { MalformedEventError } from '../../shared/schemas/ses-notification.ts';
import { parseSesReceivedBody } from '../../shared/schemas/ses-receipt.ts';
import { processInboundMail } from '../../shared/services/process-inbound-mail.ts';
import { deadLetterRecord, sqsBatchHandler } from '../../shared/services/sqs-batch.ts';

export type InboundParseDeps = InboundFunctionDeps;

const toDeadLetters = (record: SQSRecord, reason: string, deps: InboundParseDeps) => deadLetterRecord(record, reason, deps.deadLetters, 'inbound notification');

/** Process one SQS record; throws to mark it as a batch item failure. */
export async function handleInboundRecord(record: SQSRecord, deps: InboundParseDeps): Promise<void> {
  let notification;
  try {
    notification = parseSesReceivedBody(record.body);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    return toDeadLetters(record, error.message, deps);
  }
  const bucket = notification.receipt.action.bucketName;
  if (bucket !== deps.bucket) return toDeadLetters(record, `notification names bucket ${bucket}, not the inbound bucket`, deps);

  const outcome = await processInboundMail(notification, deps, { id: record.messageId });
  const r = outcome.record;
  if (outcome.kind === 'already-processed') {
    logger.info('inbound message already recorded', { sesMessageId: r.messageId, status: r.status, published: outcome.published });
    metrics.addMetric('InboundRedeliveries', MetricUnit.Count, 1);
    return;
  }
  logger.info('inbound message recorded', {
    sesMessageId: r.messageId,
    status: r.status,
    attachments: r.attachments.length,
    invoices: r.invoiceIds.length,
    published: outcome.published,
    problems: r.problems.map((p) => p.code),
    appliedVerdicts: r.appliedVerdicts,
    // Whether SES's verdicts vouch for the sender (the address itself is personal data: not logged).
    senderAuthenticated: r.sender?.authenticated ?? null,
  });
  metrics.addMetric(`Inbound_${r.status.replace('-', '_')}`, MetricUnit.Count, 1);
  metrics.addMetric('InvoicesPublished', MetricUnit.Count, outcome.published);
}

export function makeInboundParseHandler(getDeps: () => InboundParseDeps) {
  return sqsBatchHandler(handleInboundRecord, getDeps);
}

let deps: InboundParseDeps | undefined;
/** Built on first use (cold start), so a missing variable fails the first invocation loudly. */
const getDeps = (): InboundParseDeps => (deps ??= inboundDepsFromEnv());

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(makeInboundParseHandler(getDeps));
