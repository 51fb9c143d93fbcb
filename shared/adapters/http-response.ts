/**
 * One JSON response and error mapping for the HTTP functions (mailtrap-webhook,
 * suppressions-api), API Gateway HTTP API payload format 2.0:
 * - `jsonResponse(status, body)`: every answer is JSON with `content-type: application/json`;
 * - a handler throws `HttpError(status, message, details?)` for an answer about the request
 *   (400 invalid input, 404, 405, 413 ...): `{message, ...details}` with that status;
 * - any other error is a failure on our side (a store, queue or bucket unavailable): logged at
 *   ERROR with its name only (no request data, it may hold addresses), counted as
 *   `HttpServerErrors`, answered 500 `{"message":"internal error"}` so callers retry.
 * `httpErrors()` is the middy middleware that applies this mapping; it goes last in `.use()`.
 */
import type { MiddlewareObj } from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger, metrics } from '../observability.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function jsonResponse(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The answer for an error thrown while handling a request. */
function errorResponse(error: unknown): HttpResult {
  if (error instanceof HttpError) return jsonResponse(error.statusCode, { message: error.message, ...error.details });
  logger.error('request failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  metrics.addMetric('HttpServerErrors', MetricUnit.Count, 1);
  return jsonResponse(500, { message: 'internal error' });
}

/** A request header by name, case-insensitively (HTTP API lower-cases them; tests and proxies may not). */
export function requestHeader(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The raw request body bytes (HTTP API base64-encodes binary bodies). */
export function requestBody(event: APIGatewayProxyEventV2): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

export function httpErrors(): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error);
    },
  };
}
