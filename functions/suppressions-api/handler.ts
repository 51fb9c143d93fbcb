/**
 * suppressions-api: receives HTTP API requests (payload format 2.0, IAM-authorised when
 * deployed) for one address:
 * - `GET /suppressions/{email}[?domain=]`: is it suppressed (for a sending domain), why, since
 *   when, and its sync state per provider;
 * - `PUT /suppressions/{email}` body `{reason: bounce|complaint|unsubscribe|manual, scope?:
 *   {domain, stream?}}`: a person suppresses it (201 when added, 200 when it already was);
 * - `DELETE /suppressions/{email}[?domain=&stream=]`: a person lifts it, everywhere or for one
 *   scope (200 with the new view; 404 when it was not suppressed there).
 * Adding and lifting go through the manual-suppression service the CLI uses too; store
 * changes reach the providers through the store's stream (suppression-changes).
 *
 * Failure behaviour: no IAM authoriser context (and not the local stack) -> 403, nothing read
 * or written (fail closed); invalid address, body or scope -> 400 with the reason; another
 * method -> 405; store errors -> 500 (the caller retries; every change is idempotent by
 * address and scope).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { suppressionsApiDepsFromEnv, type SuppressionsApiDeps } from '../../shared/adapters/suppressions-api-deps.ts';
import { viewSuppression } from '../../shared/domain/suppression-policy.ts';
import {
  addManualSuppression,
  manualAddress,
  manualReason,
  manualScope,
  ManualSuppressionInputError,
  removeManualSuppression,
} from '../../shared/services/manual-suppressions.ts';
import { syncStatusView } from '../../shared/services/sync-status.ts';
import { addressRef, logger, metrics } from '../../shared/observability.ts';
import { httpErrors, jsonResponse, requestBody } from '../../shared/adapters/http-response.ts';
import { parseJson } from '../../shared/schemas/json.ts';

export type { SuppressionsApiDeps } from '../../shared/adapters/suppressions-api-deps.ts';

const putSchema = z.object({
  reason: z.string(),
  scope: z.optional(z.object({ domain: z.string().check(z.minLength(1)), stream: z.optional(z.string()) })),
});

// One JSON response / error mapping for both HTTP functions (shared/adapters/http-response.ts).
const json = jsonResponse;

/** The caller's IAM identity as API Gateway passes it for an `AWS_IAM` route (payload 2.0). */
function iamCaller(event: APIGatewayProxyEventV2): string | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown; accountId?: unknown } } }).authorizer?.iam;
  const caller = iam?.userArn ?? iam?.accountId;
  return typeof caller === 'string' && caller !== '' ? caller : undefined;
}

async function view(email: string, deps: SuppressionsApiDeps, domain?: string) {
  const [state, items] = await Promise.all([deps.store.get(email), deps.sync.forAddress(email)]);
  return { ...viewSuppression(state, email, domain), clearedAt: state?.clearedAt ?? null, sync: syncStatusView(state, items, deps.config) };
}

function readBody(event: APIGatewayProxyEventV2): unknown {
  try {
    return parseJson(requestBody(event).toString('utf8'));
  } catch {
    throw new ManualSuppressionInputError('body must be JSON');
  }
}

async function route(event: APIGatewayProxyEventV2, deps: SuppressionsApiDeps, method: string): Promise<APIGatewayProxyStructuredResultV2> {
  const email = event.pathParameters?.email ?? '';
  manualAddress(email);
  const query = event.queryStringParameters ?? {};

  if (method === 'GET') return json(200, await view(email, deps, query.domain));

  if (method === 'PUT') {
    const parsed = z.safeParse(putSchema, readBody(event));
    if (!parsed.success) return json(400, { message: 'invalid body', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    const reason = manualReason(parsed.data.reason);
    const scope = manualScope(parsed.data.scope?.domain, parsed.data.scope?.stream);
    const change = await addManualSuppression(deps, { email, reason, scope });
    metrics.addMetric(change.changed ? 'ManualSuppressions' : 'ManualSuppressionsUnchanged', MetricUnit.Count, 1);
    logger.info('manual suppression', { reason, scoped: Boolean(scope), added: change.changed, address: addressRef(email) });
    return json(change.changed ? 201 : 200, { added: change.changed, why: change.why, ...(await view(email, deps)) });
  }

  if (method === 'DELETE') {
    const scope = manualScope(query.domain, query.stream);
    const change = await removeManualSuppression(deps, { email, scope });
    metrics.addMetric(change.changed ? 'ManualRemovals' : 'ManualRemovalsUnchanged', MetricUnit.Count, 1);
    logger.info('manual removal', { scoped: Boolean(scope), removed: change.changed, address: addressRef(email) });
    return json(change.changed ? 200 : 404, { removed: change.changed, why: change.why, ...(await view(email, deps)) });
  }
  return json(405, { message: `method ${method} not allowed` });
}

export async function handleSuppressionsRequest(event: APIGatewayProxyEventV2, deps: SuppressionsApiDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext.http.method.toUpperCase();
  if (!iamCaller(event) && !deps.allowUnauthenticated) {
    metrics.addMetric('ApiUnauthenticated', MetricUnit.Count, 1);
    logger.error('request without IAM authoriser context refused: is the route still AWS_IAM-authorised?', { method, routeKey: event.routeKey });
    return json(403, { message: 'Forbidden' });
  }
  try {
    return await route(event, deps, method);
  } catch (error) {
    if (error instanceof ManualSuppressionInputError) return json(400, { message: error.message });
    throw error;
  }
}

let deps: SuppressionsApiDeps | undefined;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .use(httpErrors())
  .handler((event: APIGatewayProxyEventV2) => handleSuppressionsRequest(event, (deps ??= suppressionsApiDepsFromEnv())));
