/**
 * suppressions-api: receives HTTP API requests (payload format 2.0, IAM-authorised when
 * deployed) for one address:
 * - `GET /suppressions/{email}[?domain=]`: is it suppressed (for a sending domain), why, since
 *   when, and its sync state per provider;
 * - `PUT /suppressions/{email}` body `{reason: bounce|complaint|unsubscribe|manual, scope?:
 *   {domain, stream?}}`: a person suppresses it (201 when added, 200 when it already was);
 * - `DELETE /suppressions/{email}[?domain=&stream=]`: a person lifts it, everywhere or for one
 *   scope (200 with the new view; 404 when it was not suppressed there).
 * Store changes reach the providers through the store's stream (suppression-changes).
 *
 * Failure behaviour: invalid input -> 400 with the reason; store errors -> 500 (the caller
 * retries; every change is idempotent by address and scope).
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { policyFromEnv, storesFromEnv, syncConfigFromEnv } from '../../shared/adapters/sync-deps.ts';
import { isEmailAddress } from '../../shared/domain/email-address.ts';
import { applyManualSuppression, applyRemoval, viewSuppression, type PolicyConfig } from '../../shared/domain/suppression-policy.ts';
import type { SuppressionStore } from '../../shared/ports/suppression-store.ts';
import type { SyncStateStore } from '../../shared/ports/sync-state.ts';
import type { SyncConfig } from '../../shared/domain/suppression-sync.ts';
import { syncStatusView } from '../../shared/services/sync-status.ts';
import { addressRef, logger, metrics } from '../../shared/observability.ts';
import { httpErrors, jsonResponse, requestBody } from '../../shared/adapters/http-response.ts';
import { parseJson } from '../../shared/schemas/json.ts';

export interface SuppressionsApiDeps {
  store: SuppressionStore;
  sync: Pick<SyncStateStore, 'forAddress'>;
  config: SyncConfig;
  policy: PolicyConfig;
  now: () => string;
}

const scopeSchema = z.object({ domain: z.string().check(z.minLength(1)), stream: z.optional(z.enum(['transactional', 'bulk'])) });
const putSchema = z.object({ reason: z.enum(['bounce', 'complaint', 'unsubscribe', 'manual']), scope: z.optional(scopeSchema) });

// One JSON response / error mapping for both HTTP functions (shared/adapters/http-response.ts).
const json = jsonResponse;

async function view(email: string, deps: SuppressionsApiDeps, domain?: string) {
  const state = await deps.store.get(email);
  const items = await deps.sync.forAddress(email);
  return { ...viewSuppression(state, email, domain), clearedAt: state?.clearedAt ?? null, sync: syncStatusView(state, items, deps.config) };
}

export async function handleSuppressionsRequest(event: APIGatewayProxyEventV2, deps: SuppressionsApiDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const email = event.pathParameters?.email ?? '';
  if (!isEmailAddress(email)) return json(400, { message: 'path must name an email address' });
  const query = event.queryStringParameters ?? {};
  const method = event.requestContext.http.method.toUpperCase();

  if (method === 'GET') return json(200, await view(email, deps, query.domain));

  if (method === 'PUT') {
    let body: unknown;
    try {
      body = parseJson(requestBody(event).toString('utf8'));
    } catch {
      return json(400, { message: 'body must be JSON' });
    }
    const parsed = z.safeParse(putSchema, body);
    if (!parsed.success) return json(400, { message: 'invalid body', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    const { reason, scope } = parsed.data;
    const decision = await deps.store.update(email, (current) =>
      applyManualSuppression(current, { email, reason, scope, at: deps.now(), source: 'manual', key: `manual:${randomUUID()}` }, deps.policy),
    );
    const added = decision.outcome === 'suppressed';
    metrics.addMetric(added ? 'ManualSuppressions' : 'ManualSuppressionsUnchanged', MetricUnit.Count, 1);
    logger.info('manual suppression', { reason, scoped: Boolean(scope), added, address: addressRef(email) });
    return json(added ? 201 : 200, { added, why: decision.why, ...(await view(email, deps)) });
  }

  if (method === 'DELETE') {
    if (query.stream && !query.domain) return json(400, { message: 'stream needs a domain' });
    const scope = query.domain ? { domain: query.domain, ...(query.stream ? { stream: query.stream } : {}) } : undefined;
    const decision = await deps.store.update(email, (current) => applyRemoval(current, { at: deps.now(), scope }, deps.policy));
    const removed = decision.outcome === 'cleared';
    metrics.addMetric(removed ? 'ManualRemovals' : 'ManualRemovalsUnchanged', MetricUnit.Count, 1);
    logger.info('manual removal', { scoped: Boolean(scope), removed, address: addressRef(email) });
    return json(removed ? 200 : 404, { removed, why: decision.why, ...(await view(email, deps)) });
  }
  return json(405, { message: `method ${method} not allowed` });
}

let deps: SuppressionsApiDeps | undefined;
const getDeps = (): SuppressionsApiDeps =>
  (deps ??= { ...storesFromEnv(), config: syncConfigFromEnv(), policy: policyFromEnv(), now: () => new Date().toISOString() });

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .use(httpErrors())
  .handler((event: APIGatewayProxyEventV2) => handleSuppressionsRequest(event, getDeps()));
