/**
 * unsubscribe: receives HTTP API requests (payload format 2.0) on the public one-click
 * unsubscribe route `/unsubscribe/{token}` (RFC 8058, RFC 2369 `List-Unsubscribe`).
 * - `POST` with body `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as RFC 8058
 *   allows): records an unsubscribe for the address and scope the token names (global, or one
 *   Mailtrap sending domain [and stream]) and answers 200 with a confirmation page. Idempotent:
 *   the same token again changes nothing and answers the same.
 * - `GET`: never changes anything (mail scanners follow links); serves a small page with a form
 *   whose button makes that POST.
 *
 * Failure behaviour:
 * - no token secret configured / readable: 503, nothing recorded (fail closed);
 * - token not in our format, unknown version: 400; wrong signature (tampered, truncated,
 *   another secret): 403; nothing recorded (`UnsubscribeRejected`);
 * - POST without `List-Unsubscribe=One-Click`: 400, nothing recorded; body over 8 KB: 413;
 * - store unavailable: 503 with Retry-After (the person or mail client tries again).
 * The route is public (no IAM): HTTP API throttling limits it (serverless.yml).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { unsubscribeDepsFromEnv, type UnsubscribeDeps } from '../../shared/adapters/unsubscribe-deps.ts';
import type { FeedbackEvent } from '../../shared/domain/feedback-event.ts';
import { decideFeedback } from '../../shared/domain/subscription-policy.ts';
import { fingerprint } from '../../shared/domain/suppression-policy.ts';
import { verifyUnsubscribeToken } from '../../shared/domain/unsubscribe-token.ts';
import { addressRef, errorMessage, logger, metrics } from '../../shared/observability.ts';
import { confirmationPage, errorPage, formPage, scopeLabel } from './page.ts';

export const MAX_BODY_BYTES = 8 * 1024;

function header(event: APIGatewayProxyEventV2, name: string): string {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name) return v ?? '';
  return '';
}

/**
 * Does the body say `List-Unsubscribe=One-Click`? RFC 8058 section 3.1: the POST is
 * `application/x-www-form-urlencoded` or `multipart/form-data`. A body without a content type is
 * read as form-urlencoded (some clients leave the header out).
 */
export function isOneClickBody(body: string, contentType: string): boolean {
  const type = contentType.toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return false;
    return body.split(`--${boundary}`).some((part) => {
      const [head, ...rest] = part.split(/\r?\n\r?\n/);
      return /name="?List-Unsubscribe"?(\s*;|\s*$|\r?\n)/im.test(head ?? '') && rest.join('\n\n').trim() === 'One-Click';
    });
  }
  if (type !== '' && !type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('text/plain')) return false;
  return new URLSearchParams(body.trim()).getAll('List-Unsubscribe').includes('One-Click');
}

const REJECTION: Record<string, { status: number; title: string; message: string }> = {
  malformed: { status: 400, title: 'This link is not valid', message: 'The unsubscribe link is incomplete or damaged. Use the link from the message itself, or reply to the sender.' },
  'unknown-version': { status: 400, title: 'This link is not valid', message: 'The unsubscribe link is in a format we do not know. Use the link from a recent message.' },
  'bad-signature': { status: 403, title: 'This link is not valid', message: 'The unsubscribe link could not be verified. Use the link from the message itself.' },
};

export async function handleUnsubscribe(event: APIGatewayProxyEventV2, deps: UnsubscribeDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext.http.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') return errorPage(405, 'Method not allowed', 'Open the link, or press the button on its page.', { allow: 'GET, POST' });

  const secrets = await deps.secrets();
  const check = verifyUnsubscribeToken(event.pathParameters?.token ?? '', secrets);
  if (!check.ok) {
    if (check.reason === 'no-secret') {
      logger.error('unsubscribe token secret is not configured: refusing every token');
      metrics.addMetric('UnsubscribeSecretMissing', MetricUnit.Count, 1);
      return errorPage(503, 'Unsubscribe is unavailable', 'We cannot check unsubscribe links right now. Please try again later.', { 'retry-after': '300' });
    }
    logger.warn('unsubscribe token refused', { reason: check.reason, method });
    metrics.addMetric('UnsubscribeRejected', MetricUnit.Count, 1);
    const r = REJECTION[check.reason] as { status: number; title: string; message: string };
    return errorPage(r.status, r.title, r.message);
  }
  const { claim } = check;
  if (check.secretIndex > 0) metrics.addMetric('UnsubscribePreviousSecret', MetricUnit.Count, 1);
  const scope = scopeLabel(claim.domain, claim.stream);

  if (method === 'GET') {
    metrics.addMetric('UnsubscribeFormShown', MetricUnit.Count, 1);
    return formPage(claim.email, scope);
  }

  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES) return errorPage(413, 'Request too large', 'An unsubscribe request is a single form field.');
  if (!isOneClickBody(raw.toString('utf8'), header(event, 'content-type'))) {
    metrics.addMetric('UnsubscribeRejected', MetricUnit.Count, 1);
    return errorPage(400, 'Nothing was changed', 'An unsubscribe request must carry List-Unsubscribe=One-Click. Open the link and press the button.');
  }

  const payload = (event.pathParameters?.token ?? '').split('.')[1] ?? '';
  const feedback: FeedbackEvent = {
    source: 'link',
    // One key per token: pressing twice, or a mail client and a person both posting, is one effect.
    eventKey: `link:${fingerprint(payload)}`,
    kind: 'unsubscribe',
    providerType: 'List-Unsubscribe/One-Click',
    email: claim.email,
    occurredAt: deps.now().toISOString(),
    scope: claim.domain ? { domain: claim.domain, stream: claim.stream } : undefined,
  };
  try {
    const decision = await deps.store.update(claim.email, (current) => decideFeedback(current, feedback, deps.policy));
    metrics.addMetric(decision.outcome === 'suppressed' ? 'UnsubscribeRecorded' : 'UnsubscribeRepeated', MetricUnit.Count, 1);
    logger.info('one-click unsubscribe', { outcome: decision.outcome, why: decision.why, scoped: claim.domain !== undefined, address: addressRef(claim.email) });
  } catch (error) {
    logger.error('unsubscribe not recorded: store unavailable', { error: errorMessage(error), address: addressRef(claim.email) });
    metrics.addMetric('UnsubscribeStoreErrors', MetricUnit.Count, 1);
    return errorPage(503, 'Please try again', 'We could not record your request just now. Please try again in a minute.', { 'retry-after': '60' });
  }
  return confirmationPage(claim.email, scope);
}

let deps: UnsubscribeDeps | undefined;
const getDeps = (): UnsubscribeDeps => (deps ??= unsubscribeDepsFromEnv());

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event) => handleUnsubscribe(event, getDeps()));
