/**
 * mailtrap-webhook: receives Mailtrap's sending webhooks (HTTP API, `POST /webhooks/mailtrap`,
 * payload format 2.0), proves they came from Mailtrap, and enqueues one SQS message per event
 * for `mailtrap-events`. It acknowledges fast; nothing is processed here.
 *
 * Answers (Mailtrap retries anything but 200 forty times, then pauses the webhook until a
 * person resumes it, so a signed body must never earn a non-200 for its content):
 * - no secret configured: 503, nothing enqueued (fail closed; Mailtrap retries until fixed);
 * - missing / malformed / wrong `Mailtrap-Signature`: 401, nothing enqueued or recorded;
 * - body over the limit: 413;
 * - signed but unparseable body: kept in the S3 quarantine with the reason, 200;
 * - signed body with some invalid events: valid ones enqueued, invalid ones quarantined, 200;
 * - unknown event names (e.g. `activity_log.*`): counted and ignored, 200;
 * - SQS or S3 failure: error -> 500, Mailtrap retries (events are idempotent downstream).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { intVar, optionalVar, readConfig, requiredVar } from '../../shared/config.ts';
import { checkMailtrapSignature } from '../../shared/domain/webhook-signature.ts';
import { MalformedWebhookBodyError, parseWebhookBody, triageEvent } from '../../shared/schemas/mailtrap-event.ts';
import type { EventQueue } from '../../shared/ports/event-queue.ts';
import type { Quarantine } from '../../shared/ports/quarantine.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { webhookSecretSource, type SecretSource } from '../../shared/adapters/webhook-secret.ts';
import { sqsClient } from '../../shared/adapters/clients/sqs.ts';
import { s3Client } from '../../shared/adapters/clients/s3.ts';
import { SqsEventQueue } from '../../shared/adapters/sqs-event-queue.ts';
import { S3Quarantine } from '../../shared/adapters/s3-quarantine.ts';

export interface WebhookDeps {
  secret: SecretSource;
  queue: EventQueue;
  quarantine: Quarantine;
  maxBodyBytes: number;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

export async function receiveMailtrapWebhook(event: APIGatewayProxyEventV2, deps: WebhookDeps): Promise<APIGatewayProxyStructuredResultV2> {
  // The raw bytes as received: the signature covers them, not a re-serialisation.
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > deps.maxBodyBytes) {
    metrics.addMetric('WebhookTooLarge', MetricUnit.Count, 1);
    return json(413, { message: `body of ${raw.length} bytes exceeds ${deps.maxBodyBytes}` });
  }

  const check = checkMailtrapSignature(raw, header(event, 'mailtrap-signature'), await deps.secret());
  if (check === 'no-secret') {
    logger.error('Mailtrap webhook secret is not configured: rejecting every request');
    metrics.addMetric('WebhookSecretMissing', MetricUnit.Count, 1);
    return json(503, { message: 'webhook signing secret not configured' });
  }
  if (check !== 'valid') {
    logger.warn('Mailtrap webhook rejected', { check, sourceIp: event.requestContext?.http?.sourceIp });
    metrics.addMetric('WebhookRejected', MetricUnit.Count, 1);
    return json(401, { message: 'invalid signature' });
  }

  let parsed;
  try {
    parsed = parseWebhookBody(raw.toString('utf8'));
  } catch (error) {
    if (!(error instanceof MalformedWebhookBodyError)) throw error;
    const key = await deps.quarantine.keep({ source: 'mailtrap', reason: error.message, body: raw, contentType: header(event, 'content-type') });
    logger.warn('signed Mailtrap body quarantined', { reason: error.message, key });
    metrics.addMetric('WebhookBodiesQuarantined', MetricUnit.Count, 1);
    return json(200, { received: 0, enqueued: 0, ignored: 0, quarantined: 'body', reason: error.message });
  }

  const valid: string[] = [];
  const invalid: Array<{ index: number; reason: string; event: unknown }> = [];
  const unknown = new Map<string, number>();
  parsed.events.forEach((raw, index) => {
    const t = triageEvent(raw);
    if (t.kind === 'valid') valid.push(JSON.stringify(t.event));
    else if (t.kind === 'unknown') unknown.set(t.name, (unknown.get(t.name) ?? 0) + 1);
    else invalid.push({ index, reason: t.reason, event: raw });
  });

  if (invalid.length > 0) {
    const key = await deps.quarantine.keep({
      source: 'mailtrap-events',
      reason: `${invalid.length} invalid event(s): ${invalid[0]?.reason ?? ''}`,
      body: JSON.stringify({ receivedAt: new Date().toISOString(), invalid }),
      contentType: 'application/json',
    });
    logger.warn('invalid Mailtrap events quarantined', { count: invalid.length, firstReason: invalid[0]?.reason, key });
    metrics.addMetric('WebhookEventsQuarantined', MetricUnit.Count, invalid.length);
  }
  if (unknown.size > 0) {
    logger.info('unknown Mailtrap events ignored', { names: Object.fromEntries(unknown) });
    metrics.addMetric('WebhookEventsIgnored', MetricUnit.Count, [...unknown.values()].reduce((a, b) => a + b, 0));
  }
  await deps.queue.enqueue(valid);
  metrics.addMetric('WebhookEventsEnqueued', MetricUnit.Count, valid.length);
  return json(200, {
    received: parsed.events.length,
    enqueued: valid.length,
    ignored: [...unknown.values()].reduce((a, b) => a + b, 0),
    quarantined: invalid.length,
  });
}

let deps: WebhookDeps | undefined;
function getDeps(): WebhookDeps {
  if (deps) return deps;
  const config = readConfig({
    MAILTRAP_EVENTS_QUEUE_URL: requiredVar(),
    QUARANTINE_BUCKET: requiredVar(),
    MAILTRAP_WEBHOOK_SECRET: optionalVar(),
    MAILTRAP_WEBHOOK_SECRET_PARAM: optionalVar(),
    WEBHOOK_MAX_BODY_BYTES: intVar(4 * 1024 * 1024),
  });
  deps = {
    secret: webhookSecretSource({ secret: config.MAILTRAP_WEBHOOK_SECRET, parameterName: config.MAILTRAP_WEBHOOK_SECRET_PARAM }),
    queue: new SqsEventQueue(sqsClient, config.MAILTRAP_EVENTS_QUEUE_URL),
    quarantine: new S3Quarantine(s3Client, config.QUARANTINE_BUCKET),
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
  };
  return deps;
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event) => receiveMailtrapWebhook(event, getDeps()));
