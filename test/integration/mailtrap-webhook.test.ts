/**
 * Mailtrap webhook on the local stack: HTTP -> mailtrap-webhook -> SQS -> mailtrap-events ->
 * suppression store, with real signatures over real payloads.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { signMailtrapBody } from '../../shared/domain/webhook-signature.ts';
import type { AddressState } from '../../shared/domain/suppression-policy.ts';
import { WEBHOOK_SECRET } from './global-setup.ts';
import { cli, clients, localInfo, mailtrapEvent, queue, queueDepth, ROOT, uniqueEmail, waitFor, queueIdle as waitForIdle, stateOf as stateOfAddress } from './helpers.ts';

const c = clients();
const info = localInfo();
const table = info.tables.SuppressionsTable?.name ?? 'missing';
const store = new DynamoSuppressionStore(c.documents, table);
const eventsQueue = queue('MailtrapEventsQueue');
const bucket = info.buckets.QuarantineBucket?.name ?? 'missing';
const url = `${info.httpUrl}/webhooks/mailtrap`;

/** A reference event with a fresh event_id and address (the reference files share one id). */
const event = (file: string, overrides: Record<string, unknown> = {}) => mailtrapEvent(file, overrides);

async function post(body: string | Buffer, opts: { secret?: string | null; contentType?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.secret !== null) headers['mailtrap-signature'] = signMailtrapBody(Buffer.from(body), opts.secret ?? WEBHOOK_SECRET);
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const stateOf = (email: string, until?: (s: AddressState) => boolean) => stateOfAddress(store, email, until);

const queueIdle = () => waitForIdle(eventsQueue.url);

async function quarantinedSince(before: Set<string>) {
  const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'quarantine/' }));
  return (listed.Contents ?? []).map((o) => String(o.Key)).filter((k) => !before.has(k));
}

async function quarantineKeys(): Promise<Set<string>> {
  return new Set(await quarantinedSince(new Set()));
}

describe('Mailtrap webhook', () => {
  it('accepts the signature test vector as received and enqueues its event', async () => {
    const body = readFileSync(join(ROOT, 'events', 'mailtrap', 'signature-vector.body'));
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mailtrap-signature': '6d262e2611cd09be1f948382b5c611d63b0e585c4c9c5e40139d6ac3876d5433' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 1, enqueued: 1, ignored: 0, quarantined: 0 });
  });

  it('turns signed reference payloads into suppressions: bounce, spam complaint, scoped unsubscribe', async () => {
    const bounce = event('bounce.json', { bounce_category: 'badrecipient' });
    const spam = event('spam.json');
    const unsubscribe = event('unsubscribe.json', { sending_domain_name: 'news.example.com', sending_stream: 'bulk' });
    const res = await post(JSON.stringify({ events: [bounce, spam, unsubscribe] }));
    expect(res).toEqual({ status: 200, body: { received: 3, enqueued: 3, ignored: 0, quarantined: 0 } });

    expect((await stateOf(bounce.email)).suppressions).toMatchObject([{ scope: 'global', reason: 'bounce', source: 'mailtrap' }]);
    expect((await stateOf(spam.email)).suppressions).toMatchObject([{ scope: 'global', reason: 'complaint' }]);
    const unsub = await stateOf(unsubscribe.email);
    expect(unsub.suppressions).toMatchObject([{ scope: 'domain:news.example.com/bulk', reason: 'unsubscribe', domain: 'news.example.com', stream: 'bulk' }]);

    // The CLI answers per sending domain.
    const any = JSON.parse(cli(['suppressions', 'get', unsubscribe.email]).stdout);
    expect(any).toMatchObject({ suppressed: true, reason: 'unsubscribe', scopes: [{ scope: 'domain:news.example.com/bulk' }] });
    expect(JSON.parse(cli(['suppressions', 'get', unsubscribe.email, '--domain', 'news.example.com']).stdout)).toMatchObject({ suppressed: true });
    expect(JSON.parse(cli(['suppressions', 'get', unsubscribe.email, '--domain', 'billing.example.com']).stdout)).toMatchObject({
      suppressed: false,
      reason: null,
      scopes: [],
    });
  });

  it('reads JSON Lines bodies; soft bounces share the SES threshold', async () => {
    const email = uniqueEmail('mt-soft');
    const lines = [1, 2, 3].map((d) => JSON.stringify(event('bounce.json', { event: 'soft bounce', email, bounce_category: undefined, timestamp: 1_780_000_000 + d * 3600 })));
    const res = await post(lines.join('\n'), { contentType: 'application/x-ndjson' });
    expect(res.body).toMatchObject({ received: 3, enqueued: 3 });
    const s = await stateOf(email, (x) => x.suppressions.length > 0);
    expect(s.suppressions[0]).toMatchObject({ reason: 'bounce', scope: 'global' });
    expect(s.counts['soft-bounce']).toBe(3);
  });

  it('applies an event once across Mailtrap retries and redelivered batches', async () => {
    const soft = event('bounce.json', { event: 'soft bounce', bounce_category: undefined });
    const body = JSON.stringify({ events: [soft] });
    await post(body);
    await post(body);
    await post(JSON.stringify({ events: [soft, soft] }));
    await queueIdle();
    const s = await stateOf(soft.email as string);
    expect(s.counts['soft-bounce']).toBe(1);
    expect(s.version).toBe(1);
  });

  it('takes a 500-event batch in one request and applies all of it', async () => {
    const tag = `batch500-${randomUUID().slice(0, 6)}`;
    const events = Array.from({ length: 500 }, (_, i) =>
      event('bounce.json', { email: `${tag}-${i}@example.org`, bounce_category: i % 2 ? 'badrecipient' : 'overquota' }),
    );
    const res = await post(JSON.stringify({ events }));
    expect(res).toEqual({ status: 200, body: { received: 500, enqueued: 500, ignored: 0, quarantined: 0 } });
    await queueIdle();
    // Every page: a Scan reads 1 MB per page before its filter, and the shared table holds other files' items.
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateScan({ client: c.documents }, { TableName: table, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': tag } })) {
      items.push(...(page.Items ?? []));
    }
    expect(items).toHaveLength(500);
    expect(items.filter((i) => i.suppressed === true)).toHaveLength(250);
  });

  it('rejects bad and missing signatures with 401 and records nothing', async () => {
    const e = event('spam.json');
    const body = JSON.stringify({ events: [e] });
    const before = await quarantineKeys();
    expect((await post(body, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await post(body, { secret: null })).status).toBe(401);
    const tampered = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mailtrap-signature': signMailtrapBody(Buffer.from(body), WEBHOOK_SECRET) },
      body: body.replace('spam', 'delivery'),
    });
    expect(tampered.status).toBe(401);
    await queueIdle();
    expect(await store.get(e.email as string)).toBeUndefined();
    expect(await quarantinedSince(before)).toEqual([]);
  });

  it('quarantines a signed body it cannot parse and still answers 200', async () => {
    const before = await quarantineKeys();
    const garbage = '<<<this is not json at all>>>';
    const res = await post(garbage);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ quarantined: 'body', reason: 'line 1 is not JSON (neither a JSON body nor JSON Lines)' });
    const [key] = await quarantinedSince(before);
    expect(key).toMatch(/^quarantine\/mailtrap\//);
    const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.Metadata?.reason).toContain('not JSON');
    const object = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await object.Body?.transformToString()).toBe(garbage);
  });

  it('enqueues the valid events of a mixed body, quarantines invalid ones and ignores unknown names', async () => {
    const before = await quarantineKeys();
    const good = event('spam.json');
    const invalid = { event: 'bounce', email: 'x@example.org' };
    const audit = { event: 'activity_log.user.login', account_id: 1 };
    const res = await post(JSON.stringify({ events: [audit, good, invalid] }));
    expect(res).toMatchObject({ status: 200, body: { received: 3, enqueued: 1, ignored: 1, quarantined: 1 } });
    expect((await stateOf(good.email as string)).suppressions[0]?.reason).toBe('complaint');
    const [key] = await quarantinedSince(before);
    const kept = JSON.parse(String(await (await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()));
    expect(kept.invalid).toMatchObject([{ index: 2, event: invalid }]);
  });

  it('quarantines events the store would refuse (address rule, timestamp range) at the edge, with their reasons', async () => {
    const before = await quarantineKeys();
    const good = event('spam.json');
    const bad = [event('spam.json', { email: 'no-at-sign' }), event('spam.json', { email: 'a b@c.d' }), event('spam.json', { timestamp: 9e12 })];
    const res = await post(JSON.stringify({ events: [bad[0], good, bad[1], bad[2]] }));
    expect(res).toMatchObject({ status: 200, body: { received: 4, enqueued: 1, ignored: 0, quarantined: 3 } });
    const [key] = await quarantinedSince(before);
    expect(res.body.quarantineKey).toBe(key);
    const kept = JSON.parse(String(await (await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()));
    expect(kept.invalid).toMatchObject([
      { index: 0, reason: expect.stringMatching(/^spam: email /), event: bad[0] },
      { index: 2, reason: expect.stringMatching(/^spam: email /), event: bad[1] },
      { index: 3, reason: expect.stringMatching(/^spam: timestamp /), event: bad[2] },
    ]);
    expect((await stateOf(good.email as string)).suppressions[0]?.reason).toBe('complaint');
  });

  it('enqueues an event with a 300 KB custom_variables without it (the consumer does not need it)', async () => {
    const e = event('bounce.json', { bounce_category: 'badrecipient', custom_variables: { blob: 'v'.repeat(300 * 1024) } });
    const res = await post(JSON.stringify({ events: [e] }));
    expect(res).toEqual({ status: 200, body: { received: 1, enqueued: 1, ignored: 0, quarantined: 0 } });
    expect((await stateOf(e.email as string)).suppressions[0]?.reason).toBe('bounce');
  });

  it('answers 413 for a body over the limit', async () => {
    const huge = JSON.stringify({ events: [], padding: 'x'.repeat(5 * 1024 * 1024) });
    const res = await post(huge);
    expect(res.status).toBe(413);
  });

  it('CLI: simulate mailtrap signs a file with the local secret and posts it', async () => {
    const file = join(ROOT, 'events', 'mailtrap', 'delivery.jsonl');
    const out = cli(['simulate', 'mailtrap', file]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ status: 200, response: { received: 1, enqueued: 1, ignored: 0, quarantined: 0 } });
    const unsigned = cli(['simulate', 'mailtrap', file, '--unsigned']);
    expect(unsigned.code).toBe(1);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ status: 401 });
  });
});
