import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { checkMailtrapSignature, signMailtrapBody } from '../../shared/domain/webhook-signature.ts';
import { MalformedWebhookBodyError, parseWebhookBody, triageEvent, type MailtrapEvent } from '../../shared/schemas/mailtrap-event.ts';
import { kindOfMailtrapEvent, mapMailtrapEvent } from '../../shared/domain/mailtrap-feedback.ts';
import { receiveMailtrapWebhook, type WebhookDeps } from '../../functions/mailtrap-webhook/handler.ts';

const EVENTS = join(import.meta.dirname, '..', '..', 'events', 'mailtrap');
const VECTOR = { body: readFileSync(join(EVENTS, 'signature-vector.body')), secret: '8d9a3c0e7f5b2d4a6c1e9f8b3a7d5c2e', signature: '6d262e2611cd09be1f948382b5c611d63b0e585c4c9c5e40139d6ac3876d5433' };

describe('Mailtrap signature', () => {
  it('verifies the published test vector over the raw bytes', () => {
    expect(signMailtrapBody(VECTOR.body, VECTOR.secret)).toBe(VECTOR.signature);
    expect(checkMailtrapSignature(VECTOR.body, VECTOR.signature, VECTOR.secret)).toBe('valid');
    expect(checkMailtrapSignature(VECTOR.body, VECTOR.signature.toUpperCase(), VECTOR.secret)).toBe('valid');
  });

  it('rejects a re-serialised body, a wrong secret, a missing or malformed header, and a missing secret', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(VECTOR.body.toString()), null, 1));
    expect(checkMailtrapSignature(reserialised, VECTOR.signature, VECTOR.secret)).toBe('mismatch');
    expect(checkMailtrapSignature(VECTOR.body, VECTOR.signature, 'another-secret')).toBe('mismatch');
    expect(checkMailtrapSignature(VECTOR.body, undefined, VECTOR.secret)).toBe('missing-signature');
    expect(checkMailtrapSignature(VECTOR.body, 'sha256=abc', VECTOR.secret)).toBe('malformed-signature');
    expect(checkMailtrapSignature(VECTOR.body, VECTOR.signature, undefined)).toBe('no-secret');
    expect(checkMailtrapSignature(VECTOR.body, VECTOR.signature, '')).toBe('no-secret');
  });
});

describe('Mailtrap bodies', () => {
  it.each(['bounce.json', 'spam.json', 'unsubscribe.json', 'reject.json'])('%s is a JSON body with events', (file) => {
    const parsed = parseWebhookBody(readFileSync(join(EVENTS, file), 'utf8'));
    expect(parsed.format).toBe('json');
    expect(parsed.events).toHaveLength(1);
    expect(triageEvent(parsed.events[0]).kind).toBe('valid');
  });

  it('reads JSON Lines, including a single line and blank lines', () => {
    const jsonl = readFileSync(join(EVENTS, 'delivery.jsonl'), 'utf8');
    const many = `${jsonl.trim()}\n\n${jsonl.trim().replace('evt-1', 'evt-2')}\r\n`;
    expect(parseWebhookBody(many)).toMatchObject({ format: 'jsonl', events: [{ event_id: 'evt-1' }, { event_id: 'evt-2' }] });
    expect(parseWebhookBody(VECTOR.body.toString())).toMatchObject({ format: 'jsonl', events: [{ event: 'delivery' }] });
  });

  it.each([
    ['', /empty body/],
    ['<xml/>', /line 1 is not JSON/],
    ['{"events": 3}', /without an "events" array/],
    ['{"event":"delivery"}\n{broken', /line 2 is not JSON/],
  ])('rejects %j with a reason', (body, reason) => {
    expect(() => parseWebhookBody(body)).toThrow(MalformedWebhookBodyError);
    expect(() => parseWebhookBody(body)).toThrow(reason);
  });

  it('triages unknown names and invalid events', () => {
    expect(triageEvent({ event: 'activity_log.user.login', user: 'x' })).toEqual({ kind: 'unknown', name: 'activity_log.user.login' });
    expect(triageEvent({ event: 'bounce', email: 'a@b.c', timestamp: 1 })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('event_id') });
    expect(triageEvent('just a string')).toMatchObject({ kind: 'invalid' });
  });
});

describe('Mailtrap event policy', () => {
  it.each([
    ['bounce', 'badrecipient', 'hard-bounce'],
    ['bounce', 'baddomain', 'hard-bounce'],
    ['bounce', 'overquota', 'soft-bounce'],
    ['bounce', 'timeout', 'soft-bounce'],
    ['bounce', undefined, 'soft-bounce'],
    ['bounce', 'spam', 'informational'],
    ['bounce', 'blocked', 'informational'],
    ['soft bounce', undefined, 'soft-bounce'],
    ['spam', undefined, 'complaint'],
    ['unsubscribe', undefined, 'unsubscribe'],
    ['delivery', undefined, 'delivery'],
    ['reject', undefined, 'informational'],
    ['suspension', undefined, 'informational'],
    ['open', undefined, 'informational'],
    ['click', undefined, 'informational'],
  ] as const)('%s (%s) -> %s', (event, bounce_category, kind) => {
    expect(kindOfMailtrapEvent({ event, bounce_category })).toBe(kind);
  });

  it('scopes unsubscribes to the sending domain and stream, and keys events by event_id', () => {
    const raw = JSON.parse(readFileSync(join(EVENTS, 'unsubscribe.json'), 'utf8')).events[0] as MailtrapEvent;
    const e = mapMailtrapEvent(structuredClone(raw));
    expect(e).toMatchObject({
      source: 'mailtrap',
      eventKey: 'mailtrap:bede7236-2284-43d6-a953-1fdcafd0fdbc',
      kind: 'unsubscribe',
      scope: { domain: 'examplesender.com', stream: 'transactional' },
      occurredAt: '2024-10-11T18:01:40.000Z',
    });
    const noDomain = mapMailtrapEvent({ ...structuredClone(raw), sending_domain_name: undefined });
    expect(noDomain.scope).toBeUndefined();
  });
});

describe('mailtrap-webhook without a secret', () => {
  it('rejects every request and enqueues nothing (fail closed)', async () => {
    const enqueued: string[][] = [];
    const deps: WebhookDeps = {
      secret: async () => undefined,
      queue: { enqueue: async (b) => (enqueued.push(b), { rejected: [] }) },
      quarantine: { keep: async () => 'never' },
      maxBodyBytes: 1024 * 1024,
    };
    const event = {
      body: VECTOR.body.toString(),
      isBase64Encoded: false,
      headers: { 'mailtrap-signature': VECTOR.signature },
    } as unknown as APIGatewayProxyEventV2;
    const response = await receiveMailtrapWebhook(event, deps);
    expect(response.statusCode).toBe(503);
    expect(enqueued).toEqual([]);
  });
});
