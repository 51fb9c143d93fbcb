/**
 * suppressions-api on the local stack (HTTP API payload 2.0 -> the function -> DynamoDB
 * Local), and called as Lambda calls it for what the local HTTP API cannot send: a method
 * API Gateway would not route (405), and a deployed request without IAM authoriser context
 * (fail closed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handleSuppressionsRequest, type SuppressionsApiDeps } from '../../functions/suppressions-api/handler.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { LOCAL_STACK_VARIABLE } from '../../shared/adapters/suppressions-api-deps.ts';
import { DEFAULT_POLICY } from '../../shared/domain/suppression-policy.ts';
import { clients, localInfo, ROOT, uniqueEmail } from './helpers.ts';

const c = clients();
const info = localInfo();
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
const sync = new DynamoSyncState(c.documents, info.tables.SuppressionSyncTable?.name ?? 'missing');

async function api(method: string, path: string, body?: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${info.httpUrl}/suppressions/${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** As API Gateway hands a request to the function (payload 2.0). */
function event(method: string, email: string, opts: { body?: unknown; iam?: boolean } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} /suppressions/{email}`,
    rawPath: `/suppressions/${encodeURIComponent(email)}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: { email },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: `/suppressions/${email}`, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: `${method} /suppressions/{email}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(opts.iam
        ? { authorizer: { iam: { accessKey: 'AKIA0000', accountId: '123456789012', callerId: 'AIDA0000', userArn: 'arn:aws:iam::123456789012:user/ops', userId: 'AIDA0000', cognitoIdentity: null, principalOrgId: null } } }
        : {}),
    } as APIGatewayProxyEventV2['requestContext'],
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    isBase64Encoded: false,
  };
}

const deployed = (): SuppressionsApiDeps => ({
  store,
  sync,
  config: { mailtrapDomains: ['news.examplesender.com'], mailtrapStreams: ['transactional'], sesContactList: undefined },
  policy: DEFAULT_POLICY,
  now: () => new Date().toISOString(),
  allowUnauthenticated: false,
});

describe('suppressions-api over HTTP (local stack)', () => {
  it('answers 400 for an address the store cannot hold, naming the problem', async () => {
    for (const [path, problem] of [
      ['no-at-sign', 'no-at-sign'],
      [encodeURIComponent('a b@example.com'), 'whitespace'],
      [encodeURIComponent('ali\u200bce@example.com'), 'invisible-character'],
    ] as const) {
      const got = await api('GET', path);
      expect(got.status, path).toBe(400);
      expect(got.body.message).toBe(`not an email address (${problem})`);
    }
  });

  it('answers 400 for a body or scope it cannot use, and writes nothing', async () => {
    const email = uniqueEmail('Api-400');
    const path = encodeURIComponent(email);
    expect(await api('PUT', path, '{"reason":')).toMatchObject({ status: 400, body: { message: 'body must be JSON' } });
    expect(await api('PUT', path, JSON.stringify({ reason: 'because' }))).toMatchObject({ status: 400, body: { message: 'reason must be one of bounce, complaint, unsubscribe, manual' } });
    expect(await api('PUT', path, JSON.stringify({ reason: 'unsubscribe', scope: { domain: 'news.example.com', stream: 'marketing' } }))).toMatchObject({ status: 400, body: { message: 'stream must be one of transactional, bulk' } });
    expect(await api('PUT', path, JSON.stringify({ reason: 'manual', scope: { stream: 'bulk' } }))).toMatchObject({ status: 400, body: { message: 'invalid body' } });
    expect(await api('DELETE', `${path}?stream=bulk`)).toMatchObject({ status: 400, body: { message: 'a stream needs a domain' } });
    expect(await api('DELETE', `${path}?domain=news.example.com&stream=marketing`)).toMatchObject({ status: 400 });
    expect(await store.get(email)).toBeUndefined();
  });

  it('adds (201, then 200), lifts one scope (200, then 404) and reads (200) one address, however it is spelled', async () => {
    // Prepare: one address, typed decomposed with an IDN domain, read back composed as A-label.
    const tag = uniqueEmail('api').split('@')[0] as string;
    const nfd = `Jose\u0301-${tag}@B\u00fccher.example`;
    const nfc = `jos\u00e9-${tag.toLowerCase()}@xn--bcher-kva.example.`;
    const body = JSON.stringify({ reason: 'unsubscribe', scope: { domain: 'news.example.com', stream: 'bulk' } });
    // Act / Assess
    const added = await api('PUT', encodeURIComponent(nfd), body);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ added: true, suppressed: true, email: `jos\u00e9-${tag.toLowerCase()}@xn--bcher-kva.example` });
    expect((await api('PUT', encodeURIComponent(nfc), body)).status).toBe(200);
    const read = await api('GET', `${encodeURIComponent(nfc)}?domain=news.example.com`);
    expect(read).toMatchObject({ status: 200, body: { suppressed: true, reason: 'unsubscribe', scopes: [{ scope: 'domain:news.example.com/bulk' }] } });
    expect(read.body.sync).toHaveProperty('ses');
    expect((await store.get(nfc))?.spellings).toEqual([nfd, nfc]);
    expect((await api('DELETE', `${encodeURIComponent(nfc)}?domain=news.example.com&stream=bulk`)).status).toBe(200);
    const again = await api('DELETE', `${encodeURIComponent(nfd)}?domain=news.example.com&stream=bulk`);
    expect(again).toMatchObject({ status: 404, body: { removed: false, suppressed: false } });
    expect(await api('GET', encodeURIComponent(nfd))).toMatchObject({ status: 200, body: { suppressed: false } });
  });
});

describe('suppressions-api as Lambda calls it', () => {
  it('answers 405 for a method it does not serve', async () => {
    const got = await handleSuppressionsRequest(event('PATCH', uniqueEmail('Api-405'), { iam: true }), deployed());
    expect(got.statusCode).toBe(405);
    expect(JSON.parse(got.body ?? '{}')).toEqual({ message: 'method PATCH not allowed' });
  });

  it('fails closed: refuses a request without IAM authoriser context (403) and writes nothing', async () => {
    // Prepare: as if the route had lost its AWS_IAM authoriser in a deploy.
    const email = uniqueEmail('Api-NoAuth');
    // Act
    const put = await handleSuppressionsRequest(event('PUT', email, { body: { reason: 'manual' } }), deployed());
    const get = await handleSuppressionsRequest(event('GET', email), deployed());
    // Assess
    expect(put.statusCode).toBe(403);
    expect(get.statusCode).toBe(403);
    expect(await store.get(email)).toBeUndefined();
    // The same request with the caller's IAM identity is served.
    const signed = await handleSuppressionsRequest(event('PUT', email, { body: { reason: 'manual' }, iam: true }), deployed());
    expect(signed.statusCode).toBe(201);
    expect((await store.get(email))?.suppressions).toMatchObject([{ scope: 'global', reason: 'manual', source: 'manual' }]);
  });

  it('is open only where the local stack says it is local: serverless.yml never sets the switch', () => {
    expect(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')).not.toContain(LOCAL_STACK_VARIABLE);
  });
});
