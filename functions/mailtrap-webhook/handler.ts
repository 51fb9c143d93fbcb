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
 * - signed body with some invalid events (schema, the store's address rule, timestamp range):
 *   valid ones enqueued, invalid ones quarantined with their reasons, 200;
 * - an event SQS refuses for its content (size, characters): quarantined with the reason, 200;
 * - unknown event names (e.g. `activity_log.*`): counted and ignored, 200;
 * - SQS or S3 unavailable: 500 (shared/adapters/http-response.ts), Mailtrap retries (events
 *   are idempotent downstream).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { checkMailtrapSignature } from '../../shared/domain/webhook-signature.ts';
import { MalformedWebhookBodyError, parseWebhookBody, queuedEventBody, triageEvent } from '../../shared/schemas/mailtrap-event.ts';
import { logger, metrics } from '../../shared/observability.ts';
import { httpErrors, jsonResponse, requestBody, requestHeader, type HttpResult } from '../../shared/adapters/http-response.ts';
import { mailtrapWebhookDepsFromEnv, type WebhookDeps } from '../../shared/adapters/webhook-deps.ts';

export type { WebhookDeps } from '../../shared/adapters/webhook-deps.ts';

interface InvalidEvent {
  index: number;
  reason: string;
  event: unknown;
}

export async function receiveMailtrapWebhook(event: APIGatewayProxyEventV2, deps: WebhookDeps): Promise<HttpResult> {
  // The raw bytes as received: the signature covers them, not a re-serialisation.
  const raw = requestBody(event);
  if (raw.length > deps.maxBodyBytes) {
    metrics.addMetric('WebhookTooLarge', MetricUnit.Count, 1);
    return jsonResponse(413, { message: `body of ${raw.length} bytes exceeds ${deps.maxBodyBytes}` });
  }

  const check = checkMailtrapSignature(raw, requestHeader(event, 'mailtrap-signature'), await deps.secret());
  if (check === 'no-secret') {
    logger.error('Mailtrap webhook secret is not configured: rejecting every request');
    metrics.addMetric('WebhookSecretMissing', MetricUnit.Count, 1);
    return jsonResponse(503, { message: 'webhook signing secret not configured' });
  }
  if (check !== 'valid') {
    logger.warn('Mailtrap webhook rejected', { check, sourceIp: event.requestContext?.http?.sourceIp });
    metrics.addMetric('WebhookRejected', MetricUnit.Count, 1);
    return jsonResponse(401, { message: 'invalid signature' });
  }

  let parsed;
  try {
    parsed = parseWebhookBody(raw.toString('utf8'));
  } catch (error) {
    if (!(error instanceof MalformedWebhookBodyError)) throw error;
    const key = await deps.quarantine.keep({ source: 'mailtrap', reason: error.message, body: raw, contentType: requestHeader(event, 'content-type') });
    logger.warn('signed Mailtrap body quarantined', { reason: error.message, key });
    metrics.addMetric('WebhookBodiesQuarantined', MetricUnit.Count, 1);
    return jsonResponse(200, { received: 0, enqueued: 0, ignored: 0, quarantined: 'body', reason: error.message, quarantineKey: key });
  }

  const now = Date.now();
  const valid: Array<{ index: number; body: string }> = [];
  const invalid: InvalidEvent[] = [];
  const unknown = new Map<string, number>();
  parsed.events.forEach((rawEvent, index) => {
    const t = triageEvent(rawEvent, now);
    if (t.kind === 'valid') valid.push({ index, body: queuedEventBody(t.event) });
    else if (t.kind === 'unknown') unknown.set(t.name, (unknown.get(t.name) ?? 0) + 1);
    else invalid.push({ index, reason: t.reason, event: rawEvent });
  });

  // SQS unavailable throws (500); an entry SQS refuses for its content comes back rejected.
  const { rejected } = await deps.queue.enqueue(valid.map((v) => v.body));
  for (const r of rejected) {
    const v = valid[r.index];
    if (v) invalid.push({ index: v.index, reason: r.reason, event: parsed.events[v.index] });
  }
  invalid.sort((a, b) => a.index - b.index);
  const enqueued = valid.length - rejected.length;

  let quarantineKey: string | undefined;
  if (invalid.length > 0) {
    quarantineKey = await deps.quarantine.keep({
      source: 'mailtrap-events',
      reason: `${invalid.length} invalid event(s): ${invalid[0]?.reason ?? ''}`,
      body: JSON.stringify({ receivedAt: new Date(now).toISOString(), invalid }),
      contentType: 'application/json',
    });
    logger.warn('invalid Mailtrap events quarantined', { count: invalid.length, firstReason: invalid[0]?.reason, key: quarantineKey });
    metrics.addMetric('WebhookEventsQuarantined', MetricUnit.Count, invalid.length);
  }
  const ignored = [...unknown.values()].reduce((a, b) => a + b, 0);
  if (ignored > 0) {
    logger.info('unknown Mailtrap events ignored', { names: Object.fromEntries(unknown) });
    metrics.addMetric('WebhookEventsIgnored', MetricUnit.Count, ignored);
  }
  metrics.addMetric('WebhookEventsEnqueued', MetricUnit.Count, enqueued);
  return jsonResponse(200, {
    received: parsed.events.length,
    enqueued,
    ignored,
    quarantined: invalid.length,
    ...(quarantineKey ? { quarantineKey } : {}),
  });
}

export function makeMailtrapWebhookHandler(getDeps: () => WebhookDeps) {
  return middy<APIGatewayProxyEventV2, HttpResult>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .use(httpErrors())
    .handler((event) => receiveMailtrapWebhook(event, getDeps()));
}

let deps: WebhookDeps | undefined;
/** Built on first use (cold start), so a missing variable fails the first invocation loudly. */
const getDeps = (): WebhookDeps => (deps ??= mailtrapWebhookDepsFromEnv());

export const handler = makeMailtrapWebhookHandler(getDeps);
