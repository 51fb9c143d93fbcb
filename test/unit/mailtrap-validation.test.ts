/**
 * What the webhook lets through to the queue: the store's address rule, a timestamp range, and
 * a bounded message body (README, "Failure behaviour (Mailtrap webhook)").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queuedEventBody, triageEvent } from '../../shared/schemas/mailtrap-event.ts';
import { isEmailAddress } from '../../shared/domain/email-address.ts';

const EVENTS = join(import.meta.dirname, '..', '..', 'events', 'mailtrap');
const NOW = Date.parse('2026-12-01T12:00:00Z');

function reference(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const raw = JSON.parse(readFileSync(join(EVENTS, 'bounce.json'), 'utf8')).events[0] as Record<string, unknown>;
  return { ...structuredClone(raw), timestamp: Math.floor(NOW / 1000) - 60, ...overrides };
}

describe('Mailtrap event triage at the edge', () => {
  it('accepts the reference event as it is', () => {
    expect(triageEvent(reference(), NOW)).toMatchObject({ kind: 'valid', event: { email: 'receiver@example.com' } });
  });

  it.each([['no-at-sign'], ['a b@c.d'], ['@example.com'], ['alice@'], [' '], ['x'.repeat(330) + '@example.com'], ['ali\u200bce@example.com'], ['"john doe"@example.com']])(
    'quarantines the address %j by the store rule',
    (email) => {
      // The store would refuse it: the edge must say so instead of enqueuing it.
      expect(isEmailAddress(email)).toBe(false);
      const t = triageEvent(reference({ email }), NOW);
      expect(t).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^bounce: email /) });
    },
  );

  it.each([
    [9e12, /timestamp/],
    [-1, /timestamp/],
    [1.5, /timestamp/],
    [0, /timestamp .*before/],
    [Math.floor(NOW / 1000) + 3 * 86_400, /timestamp .*future/],
  ])('quarantines timestamp %s', (timestamp, reason) => {
    const t = triageEvent(reference({ timestamp }), NOW);
    expect(t.kind).toBe('invalid');
    expect(t.kind === 'invalid' && t.reason).toMatch(reason);
  });

  it('accepts what the store holds: IDN domains, NFD spellings, a trailing dot', () => {
    for (const email of ['kunde@bücher.de', 'jose\u0301@example.com', 'alice@example.com.']) {
      expect(isEmailAddress(email)).toBe(true);
      expect(triageEvent(reference({ email }), NOW)).toMatchObject({ kind: 'valid', event: { email } });
    }
  });

  it('accepts a little clock skew ahead of now', () => {
    expect(triageEvent(reference({ timestamp: Math.floor(NOW / 1000) + 600 }), NOW).kind).toBe('valid');
  });

  it('quarantines identity fields past their bounds instead of truncating them', () => {
    expect(triageEvent(reference({ event_id: 'e'.repeat(201) }), NOW)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('event_id') });
    expect(triageEvent(reference({ sending_domain_name: `${'d'.repeat(300)}.com` }), NOW)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('sending_domain_name'),
    });
  });
});

describe('the queued body of a Mailtrap event', () => {
  it('drops what the consumer does not need and caps free text, so one event stays small', () => {
    const t = triageEvent(
      reference({ custom_variables: { blob: 'v'.repeat(300 * 1024) }, reason: 'r'.repeat(300 * 1024), category: 'c'.repeat(5000), response: 'x'.repeat(9000) }),
      NOW,
    );
    if (t.kind !== 'valid') throw new Error(`expected valid, got ${JSON.stringify(t)}`);
    const body = queuedEventBody(t.event);
    expect(Buffer.byteLength(body)).toBeLessThan(8 * 1024);
    const parsed = JSON.parse(body);
    expect(parsed).not.toHaveProperty('custom_variables');
    expect(parsed).not.toHaveProperty('response');
    expect(parsed.reason).toHaveLength(1000);
    expect(parsed).toMatchObject({ event: 'bounce', email: 'receiver@example.com', event_id: 'bede7236-2284-43d6-a953-1fdcafd0fdbc' });
  });

  it('writes characters SQS refuses (U+FFFE, U+FFFF) as JSON escapes: same value, valid message', () => {
    const t = triageEvent(reference({ reason: 'odd \uFFFF and \uFFFE' }), NOW);
    if (t.kind !== 'valid') throw new Error('expected valid');
    const body = queuedEventBody(t.event);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body).reason).toBe('odd \uFFFF and \uFFFE');
  });
});
