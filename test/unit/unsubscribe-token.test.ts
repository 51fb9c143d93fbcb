/**
 * One-click unsubscribe tokens (shared/domain/unsubscribe-token.ts) and the one-click body rule
 * of the endpoint (RFC 8058 section 3.1).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_LENGTH,
  mintUnsubscribeToken,
  unsubscribeLink,
  UnsubscribeTokenError,
  verifyUnsubscribeToken,
} from '../../shared/domain/unsubscribe-token.ts';
import { isOneClickBody } from '../../functions/unsubscribe/handler.ts';

const CURRENT = 'c'.repeat(16) + 'urrent-secret-0123456789';
const PREVIOUS = 'p'.repeat(16) + 'revious-secret-012345678';
const AT = new Date('2026-12-01T12:00:00Z');

describe('unsubscribe tokens', () => {
  it('round-trips address, scope and issue time, URL-safe', () => {
    // Act
    const token = mintUnsubscribeToken({ email: 'Jane.Doe+news@Example.com', domain: 'News.ExampleSender.com', stream: 'bulk' }, CURRENT, AT);
    const check = verifyUnsubscribeToken(token, [CURRENT]);
    // Assess
    expect(token).toMatch(/^u1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(check).toEqual({
      ok: true,
      secretIndex: 0,
      claim: { email: 'Jane.Doe+news@Example.com', domain: 'news.examplesender.com', stream: 'bulk', issuedAt: AT.getTime() / 1000 },
    });
  });

  it('signs HMAC-SHA256 over the versioned payload', () => {
    const token = mintUnsubscribeToken({ email: 'jane@example.com' }, CURRENT, AT);
    const [version, payload, mac] = token.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toEqual(['jane@example.com', '', '', AT.getTime() / 1000]);
    expect(mac).toBe(createHmac('sha256', CURRENT).update(`${version}.${payload}`).digest('base64url'));
  });

  it('rotation: a token signed with the previous secret still verifies while both are configured, and not after', () => {
    const old = mintUnsubscribeToken({ email: 'jane@example.com' }, PREVIOUS, AT);
    expect(verifyUnsubscribeToken(old, [CURRENT, PREVIOUS])).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verifyUnsubscribeToken(old, [CURRENT])).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('fails closed without a usable secret', () => {
    const token = mintUnsubscribeToken({ email: 'jane@example.com' }, CURRENT, AT);
    expect(verifyUnsubscribeToken(token, [])).toEqual({ ok: false, reason: 'no-secret' });
    expect(verifyUnsubscribeToken(token, ['short'])).toEqual({ ok: false, reason: 'no-secret' });
    expect(() => mintUnsubscribeToken({ email: 'jane@example.com' }, 'short')).toThrow(UnsubscribeTokenError);
  });

  it('refuses tampered payloads, truncated tokens, unknown versions and foreign formats', () => {
    // Prepare
    const token = mintUnsubscribeToken({ email: 'jane@example.com' }, CURRENT, AT);
    const [, payload, mac] = token.split('.') as [string, string, string];
    const otherPayload = Buffer.from(JSON.stringify(['mallory@example.com', '', '', AT.getTime() / 1000])).toString('base64url');
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    // Act + Assess
    expect(verifyUnsubscribeToken(`u1.${otherPayload}.${mac}`, [CURRENT])).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyUnsubscribeToken(`u1.${payload}.${flipped}`, [CURRENT])).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyUnsubscribeToken(token.slice(0, -1), [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyUnsubscribeToken(token.slice(0, 20), [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyUnsubscribeToken(`u2.${payload}.${mac}`, [CURRENT])).toEqual({ ok: false, reason: 'unknown-version' });
    expect(verifyUnsubscribeToken(`${token}=`, [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyUnsubscribeToken('jane@example.com', [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyUnsubscribeToken('', [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyUnsubscribeToken(`u1.${'A'.repeat(MAX_TOKEN_LENGTH)}.${mac}`, [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a correctly signed payload that is not a claim (only a minting bug could make one)', () => {
    const payload = Buffer.from(JSON.stringify(['not an address', '', '', 1])).toString('base64url');
    const mac = createHmac('sha256', CURRENT).update(`u1.${payload}`).digest('base64url');
    expect(verifyUnsubscribeToken(`u1.${payload}.${mac}`, [CURRENT])).toEqual({ ok: false, reason: 'malformed' });
  });

  it('mints only valid claims', () => {
    expect(() => mintUnsubscribeToken({ email: 'nope' }, CURRENT)).toThrow(UnsubscribeTokenError);
    expect(() => mintUnsubscribeToken({ email: 'jane@example.com', stream: 'bulk' }, CURRENT)).toThrow(/needs a domain/);
    expect(() => mintUnsubscribeToken({ email: 'jane@example.com', domain: 'not a domain' }, CURRENT)).toThrow(/domain/);
  });

  it('gives a sending application the URL and the two RFC 8058 headers', () => {
    const { url, headers } = unsubscribeLink('https://api.example.com/', { email: 'jane@example.com' }, CURRENT, AT);
    expect(url).toMatch(/^https:\/\/api\.example\.com\/unsubscribe\/u1\./);
    expect(headers).toEqual({ 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
  });
});

describe('one-click body (RFC 8058 section 3.1)', () => {
  it.each([
    ['form-urlencoded', 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded'],
    ['form-urlencoded with charset', 'List-Unsubscribe=One-Click\r\n', 'application/x-www-form-urlencoded; charset=utf-8'],
    ['no content type', 'List-Unsubscribe=One-Click', ''],
    ['multipart', '--b0\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0--\r\n', 'multipart/form-data; boundary=b0'],
  ])('accepts %s', (_what, body, type) => {
    expect(isOneClickBody(body, type)).toBe(true);
  });

  it.each([
    ['an empty body', '', 'application/x-www-form-urlencoded'],
    ['another value', 'List-Unsubscribe=Yes', 'application/x-www-form-urlencoded'],
    ['JSON', '{"List-Unsubscribe":"One-Click"}', 'application/json'],
    ['multipart with another field', '--b0\r\nContent-Disposition: form-data; name="other"\r\n\r\nOne-Click\r\n--b0--\r\n', 'multipart/form-data; boundary=b0'],
  ])('refuses %s', (_what, body, type) => {
    expect(isOneClickBody(body, type)).toBe(false);
  });
});
