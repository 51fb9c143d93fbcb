/**
 * The one JSON response / error mapping of the HTTP functions (shared/adapters/http-response.ts),
 * through middy as the functions compose it.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpError, httpErrors, jsonResponse, requestBody, requestHeader, type HttpResult } from '../../shared/adapters/http-response.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { InvalidJsonError, parseJson } from '../../shared/schemas/json.ts';

const request = (over: Partial<APIGatewayProxyEventV2> = {}) => ({ headers: {}, ...over }) as APIGatewayProxyEventV2;
const wrap = (fn: (e: APIGatewayProxyEventV2) => Promise<HttpResult>) =>
  middy<APIGatewayProxyEventV2, HttpResult>().use(httpErrors()).handler(fn);
const ctx = lambdaContext('test', 3, 128, 'eu-west-1');

describe('HTTP responses', () => {
  it('answers JSON with its content type', () => {
    expect(jsonResponse(201, { a: 1 })).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  });

  it('maps an HttpError to its status with message and details', async () => {
    const h = wrap(async () => {
      throw new HttpError(400, 'invalid body', { issues: ['reason: required'] });
    });
    const out = await h(request(), ctx);
    expect(out).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'invalid body', issues: ['reason: required'] }) });
  });

  it('maps any other error to 500 {"message":"internal error"} without echoing it', async () => {
    const h = wrap(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1 while writing alice@example.com');
    });
    const out = await h(request(), ctx);
    expect(out.statusCode).toBe(500);
    expect(JSON.parse(String(out.body))).toEqual({ message: 'internal error' });
  });

  it('passes a handler result through untouched', async () => {
    const h = wrap(async () => jsonResponse(200, { ok: true }));
    expect((await h(request(), ctx)).statusCode).toBe(200);
  });

  it('reads headers case-insensitively and base64 bodies as bytes', () => {
    expect(requestHeader(request({ headers: { 'Mailtrap-Signature': 'abc' } }), 'mailtrap-signature')).toBe('abc');
    expect(requestBody(request({ body: Buffer.from('{"x":1}').toString('base64'), isBase64Encoded: true })).toString()).toBe('{"x":1}');
    expect(requestBody(request({})).length).toBe(0);
  });
});

describe('parseJson', () => {
  it('names what was not JSON in a typed error, or the caller’s own', () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(() => parseJson('{nope', 'SNS Message')).toThrow(new InvalidJsonError('SNS Message is not JSON'));
    expect(() => parseJson('', 'body', (reason) => new HttpError(400, reason))).toThrow(HttpError);
  });
});
