import { MailtrapClient } from 'mailtrap';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  redirectMailtrapClient,
  startMailtrapSimulator,
  type MailtrapSimulator,
  type MailtrapSuppression,
} from '../../../local/simulators/mailtrap-simulator.ts';

const TOKEN = 'test-token-123';
const ACCOUNT_ID = 4242;
const DOMAINS = [
  { id: 11, name: 'example.com' },
  { id: 12, name: 'news.example.com' },
];

let sim: MailtrapSimulator;
let client: MailtrapClient;

function clientFor(token: string, accountId = ACCOUNT_ID): MailtrapClient {
  const c = new MailtrapClient({ token, accountId });
  redirectMailtrapClient(c, sim.url);
  return c;
}

interface SdkFailure {
  message: string;
  status?: number;
  headers: Record<string, string | undefined>;
}

/** The SDK throws MailtrapError with the axios error as `cause`. */
async function sdkFailure(promise: Promise<unknown>): Promise<SdkFailure> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as Error).cause as { response?: { status: number; headers: Record<string, string | undefined> } } | undefined;
    return {
      message: (error as Error).message,
      ...(cause?.response ? { status: cause.response.status } : {}),
      headers: cause?.response?.headers ?? {},
    };
  }
  throw new Error('expected the call to fail');
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sim.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });
}

/** The simulator's clock: it moves only when a test moves it, so rate-limit windows do not depend on how fast this machine is. */
let now = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  sim = await startMailtrapSimulator({ port: 0, token: TOKEN, accountId: ACCOUNT_ID, domains: DOMAINS, clock: () => now });
  client = clientFor(TOKEN);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.reset());

describe('through the official mailtrap SDK', () => {
  it('lists sending domains so names map to ids', async () => {
    const { data } = await client.sendingDomains.getList();
    expect(data.map((d) => [d.domain_name, d.id])).toEqual([
      ['example.com', 11],
      ['news.example.com', 12],
    ]);
    expect(sim.calls).toEqual({ 'domains.list': 1 });
  });

  it('creates, lists, searches and deletes suppressions', async () => {
    const created = await client.suppressions.create({ email: 'User@Example.org', domain_id: 11, sending_stream: 'transactional' });
    expect(created.data).toMatchObject({
      email: 'User@Example.org',
      type: 'manual import',
      sending_stream: 'transactional',
      domain_name: 'example.com',
      message_bounce_category: null,
    });
    expect(created.data.id).toMatch(/^[0-9a-f-]{36}$/);
    const bulk = await client.suppressions.create({ email: 'user@example.org', domain_id: 11, sending_stream: 'bulk', type: 'unsubscription' });
    expect(bulk.data.type).toBe('unsubscription');

    const all = await client.suppressions.getList();
    expect(all.map((s) => s.sending_stream)).toEqual(['transactional', 'bulk']);
    // The email filter is case-insensitive per the OpenAPI spec.
    const found = await client.suppressions.getList({ email: 'USER@example.ORG' });
    expect(found).toHaveLength(2);

    const deleted = await client.suppressions.delete(created.data.id);
    expect(deleted.id).toBe(created.data.id);
    expect((await client.suppressions.getList()).map((s) => s.id)).toEqual([bulk.data.id]);
    const again = await sdkFailure(client.suppressions.delete(created.data.id));
    expect(again.status).toBe(404);
    expect(sim.calls).toEqual({ 'suppressions.create': 2, 'suppressions.list': 3, 'suppressions.delete': 2 });
  });

  it('answers a repeated create with the existing record (idempotent choice)', async () => {
    const first = await client.suppressions.create({ email: 'a@example.org', domain_id: 12, sending_stream: 'bulk' });
    const second = await client.suppressions.create({ email: 'A@example.org', domain_id: 12, sending_stream: 'bulk' });
    expect(second.data.id).toBe(first.data.id);
    expect(sim.entries()).toHaveLength(1);

    const res = await api('/api/suppressions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.org', domain_id: 12, sending_stream: 'bulk' }),
    });
    expect(res.status).toBe(200);
    const fresh = await api('/api/suppressions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'b@example.org', domain_id: 12, sending_stream: 'bulk' }),
    });
    expect(fresh.status).toBe(201);
  });

  it('rejects invalid creates with 422 field errors', async () => {
    const failure = await sdkFailure(
      client.suppressions.create({ email: 'not-an-email', domain_id: 999, sending_stream: 'marketing' as 'bulk' }),
    );
    expect(failure.status).toBe(422);
    expect(failure.message).toContain('sending_stream: is invalid');
    expect(failure.message).toContain("domain: can't be blank");
    expect(sim.entries()).toEqual([]);
  });

  it('rejects a wrong token with 401 and Mailtrap\'s error body', async () => {
    const failure = await sdkFailure(clientFor('wrong-token').suppressions.getList());
    expect(failure.status).toBe(401);
    expect(failure.message).toBe('Incorrect API token');

    const missing = await fetch(`${sim.url}/api/suppressions`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'Incorrect API token' });
    const apiToken = await fetch(`${sim.url}/api/suppressions`, { headers: { 'Api-Token': TOKEN } });
    expect(apiToken.status).toBe(200);
  });

  it('forbids another account id in the path', async () => {
    const failure = await sdkFailure(clientFor(TOKEN, 1).suppressions.getList());
    expect(failure.status).toBe(403);
    expect(failure.message).toBe('Account access forbidden');
  });

  it('answers the 11th suppression call in the window with 429 and Retry-After, then recovers', async () => {
    // A 1 s window, on the simulator's clock: the ten calls fall inside it however long they take.
    sim.setRateLimits({ suppressions: { limit: 10, windowMs: 1000 } });
    for (let i = 0; i < 10; i++) {
      await client.suppressions.getList();
      now += 50;
    }
    const throttled = await sdkFailure(client.suppressions.getList());
    expect(throttled.status).toBe(429);
    expect(throttled.message).toBe('Rate limit exceeded');
    expect(throttled.headers['retry-after']).toBe('1');
    expect(sim.throttled).toEqual({ 'suppressions.list': 1 });

    // Other endpoints are limited separately (per token), so they still work.
    await client.sendingDomains.getList();

    // Still inside the window: still throttled. Once the oldest call has left it: served.
    now += 499;
    expect((await sdkFailure(client.suppressions.getList())).status).toBe(429);
    now += Number(throttled.headers['retry-after']) * 1000;
    await client.suppressions.getList();
    expect(sim.throttled).toEqual({ 'suppressions.list': 2 });
  });

  it('can leave Retry-After out of rate-limit answers', async () => {
    sim.setRateLimits({ suppressions: { limit: 1, windowMs: 60_000 }, retryAfterHeader: false });
    await client.suppressions.getList();
    const throttled = await sdkFailure(client.suppressions.create({ email: 'x@example.org', domain_id: 11, sending_stream: 'bulk' }));
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBeUndefined();
  });

  it('limits the other endpoints per token', async () => {
    sim.setRateLimits({ general: { limit: 2, windowMs: 60_000 } });
    await client.sendingDomains.getList();
    await client.sendingDomains.get(11);
    const throttled = await sdkFailure(client.sendingDomains.getList());
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('60');
  });

  it('serves injected faults: 429 with and without Retry-After, 5xx, slow', async () => {
    sim.injectFaults([{ status: 429, retryAfter: 7 }, { status: 429, retryAfter: null }, { status: 500 }, { status: 503 }, { delayMs: 150 }]);
    const first = await sdkFailure(client.suppressions.getList());
    expect([first.status, first.headers['retry-after']]).toEqual([429, '7']);
    const second = await sdkFailure(client.suppressions.getList());
    expect([second.status, second.headers['retry-after']]).toEqual([429, undefined]);
    expect((await sdkFailure(client.suppressions.getList())).status).toBe(500);
    expect((await sdkFailure(client.suppressions.getList())).status).toBe(503);
    const started = Date.now();
    await client.suppressions.getList();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await client.suppressions.getList();
    expect(sim.calls).toEqual({ 'suppressions.list': 6 });
  });
});

describe('cursor paging and filters (raw HTTP; the SDK has no last_id)', () => {
  it('pages more than 1000 suppressions with last_id', async () => {
    sim.setRateLimits({ suppressions: null });
    sim.seed(Array.from({ length: 2500 }, (_, i) => ({ email: `u${i}@example.org`, domain_id: 11 })));
    const pages: MailtrapSuppression[][] = [];
    let lastId: string | undefined;
    for (;;) {
      const res = await api(`/api/accounts/${ACCOUNT_ID}/suppressions${lastId ? `?last_id=${lastId}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as MailtrapSuppression[];
      if (page.length === 0) break;
      pages.push(page);
      lastId = page.at(-1)?.id;
    }
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    const emails = pages.flat().map((s) => s.email);
    expect(new Set(emails).size).toBe(2500);
    expect(emails[0]).toBe('u0@example.org');
    expect(emails.at(-1)).toBe('u2499@example.org');
  });

  it('keeps a cursor valid after its record is deleted, and rejects unknown cursors', async () => {
    const [a, b, c] = sim.seed([{ email: 'a@example.org' }, { email: 'b@example.org' }, { email: 'c@example.org' }]);
    await api(`/api/suppressions/${b?.id}`, { method: 'DELETE' });
    const after = (await (await api(`/api/suppressions?last_id=${b?.id}`)).json()) as MailtrapSuppression[];
    expect(after.map((s) => s.id)).toEqual([c?.id]);
    expect((await api(`/api/suppressions?last_id=${a?.id}`)).status).toBe(200);
    expect((await api('/api/suppressions?last_id=00000000-0000-0000-0000-000000000000')).status).toBe(400);
  });

  it('filters by start_time and end_time', async () => {
    sim.seed([
      { email: 'old@example.org', created_at: '2024-01-01T00:00:00Z' },
      { email: 'mid@example.org', created_at: '2024-06-01T00:00:00Z' },
      { email: 'new@example.org', created_at: '2025-01-01T00:00:00Z' },
    ]);
    const res = await api('/api/suppressions?start_time=2024-03-01T00:00:00Z&end_time=2024-12-31T23:59:59Z');
    expect(((await res.json()) as MailtrapSuppression[]).map((s) => s.email)).toEqual(['mid@example.org']);
    expect((await api('/api/suppressions?start_time=yesterday')).status).toBe(400);
  });

  it('serves the newer domain paths too', async () => {
    const current = (await (await api('/api/domains')).json()) as { data: Array<{ id: number }> };
    const interim = (await (await api('/api/sending_domains')).json()) as { data: Array<{ id: number }> };
    expect(current.data.map((d) => d.id)).toEqual([11, 12]);
    expect(interim).toEqual(current);
    expect((await api('/api/domains/99')).status).toBe(404);
  });
});

describe('HTTP control endpoints', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}/__sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('seeds, injects faults, sets limits, reports state and resets over HTTP', async () => {
    const seeded = (await (await post('suppressions', [{ email: 'seed@example.org', domain_id: 12, type: 'hard bounce' }])).json()) as {
      data: MailtrapSuppression[];
    };
    expect(seeded.data[0]).toMatchObject({ email: 'seed@example.org', domain_name: 'news.example.com', type: 'hard bounce' });

    expect((await post('faults', [{ status: 502 }])).status).toBe(200);
    expect((await sdkFailure(client.suppressions.getList())).status).toBe(502);

    expect((await post('rate-limits', { suppressions: { limit: 1, windowMs: 60_000 } })).status).toBe(200);
    expect(await client.suppressions.getList()).toHaveLength(1);
    expect((await sdkFailure(client.suppressions.getList())).status).toBe(429);

    const state = (await (await fetch(`${sim.url}/__sim/state`)).json()) as {
      calls: Record<string, number>;
      throttled: Record<string, number>;
      entries: unknown[];
    };
    expect(state.calls).toEqual({ 'suppressions.list': 3 });
    expect(state.throttled).toEqual({ 'suppressions.list': 1 });
    expect(state.entries).toHaveLength(1);

    expect((await post('faults', [{ status: 'boom' }])).status).toBe(400);
    expect((await post('suppressions', [{ email: 'x@example.org', domain_id: 999 }])).status).toBe(400);
    expect((await post('reset', {})).status).toBe(200);
    expect(sim.entries()).toEqual([]);
    expect(await client.suppressions.getList()).toEqual([]);
  });
});
