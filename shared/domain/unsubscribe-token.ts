/**
 * One-click unsubscribe tokens (RFC 8058 links), minted by whoever sends the mail and checked by
 * functions/unsubscribe. Pure and dependency-free (node:crypto only), so a sending application
 * can import this file and mint the same tokens as `npx mailbridge unsubscribe link`.
 *
 * Format (URL-safe, no padding): `u1.<payload>.<mac>`
 * - `u1`: the version; anything else is refused (a future format gets a new prefix);
 * - payload: base64url of the JSON array `[email, domain, stream, issuedAt]` (domain and stream
 *   `""` when absent; issuedAt in Unix seconds);
 * - mac: base64url of HMAC-SHA256(secret, `u1.<payload>`), compared in constant time.
 *
 * Rotation: verification accepts any of the secrets it is given (the current one and the
 * previous one), minting always uses the first. No secret: nothing verifies (fail closed).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { domainKey, isEmailAddress } from './email-address.ts';

const TOKEN_VERSION = 'u1';
/** Longer than any token we mint (a 320-character address + a 253-character domain). */
export const MAX_TOKEN_LENGTH = 1200;
/** Shorter secrets are refused: HMAC-SHA256 wants at least 256 bits of key material. */
const MIN_SECRET_LENGTH = 32;

export type UnsubscribeStream = 'transactional' | 'bulk';

interface UnsubscribeClaim {
  email: string;
  /** A Mailtrap sending domain: the unsubscribe is scoped to it. Absent = everywhere. */
  domain?: string | undefined;
  /** Only with a domain: one Mailtrap sending stream. */
  stream?: UnsubscribeStream | undefined;
  /** When the token was minted (Unix seconds). */
  issuedAt: number;
}

export type TokenCheck =
  | { ok: true; claim: UnsubscribeClaim; /** 0 = signed with the current secret, 1 = the previous one. */ secretIndex: number }
  | { ok: false; reason: 'no-secret' | 'malformed' | 'unknown-version' | 'bad-signature' };

export class UnsubscribeTokenError extends Error {
  override name = 'UnsubscribeTokenError';
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,8}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{43}$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function mac(secret: string, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest();
}

function checkClaim(claim: UnsubscribeClaim): UnsubscribeClaim {
  const email = claim.email.trim();
  if (!isEmailAddress(email)) throw new UnsubscribeTokenError('not an email address');
  const domain = claim.domain?.trim() ? domainKey(claim.domain) : undefined;
  if (domain !== undefined && !DOMAIN.test(domain)) throw new UnsubscribeTokenError('not a domain name');
  if (claim.stream !== undefined && claim.stream !== 'transactional' && claim.stream !== 'bulk') throw new UnsubscribeTokenError('stream must be transactional or bulk');
  if (claim.stream !== undefined && domain === undefined) throw new UnsubscribeTokenError('a stream needs a domain');
  if (!Number.isSafeInteger(claim.issuedAt) || claim.issuedAt < 0) throw new UnsubscribeTokenError('issuedAt must be Unix seconds');
  return { email, domain, stream: claim.stream, issuedAt: claim.issuedAt };
}

/** Mint a token for `email` (and, optionally, one Mailtrap domain [and stream]) with the current secret. */
export function mintUnsubscribeToken(
  input: { email: string; domain?: string | undefined; stream?: UnsubscribeStream | undefined },
  secret: string,
  now: Date = new Date(),
): string {
  if (secret.length < MIN_SECRET_LENGTH) throw new UnsubscribeTokenError(`the secret must be at least ${MIN_SECRET_LENGTH} characters`);
  const claim = checkClaim({ ...input, issuedAt: Math.floor(now.getTime() / 1000) });
  const payload = Buffer.from(JSON.stringify([claim.email, claim.domain ?? '', claim.stream ?? '', claim.issuedAt])).toString('base64url');
  const signed = `${TOKEN_VERSION}.${payload}`;
  const token = `${signed}.${mac(secret, signed).toString('base64url')}`;
  if (token.length > MAX_TOKEN_LENGTH) throw new UnsubscribeTokenError('address and domain too long for a token');
  return token;
}

/** Check a token against the valid secrets (current first, then previous). Never throws. */
export function verifyUnsubscribeToken(token: string, secrets: readonly string[]): TokenCheck {
  const usable = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  if (usable.length === 0) return { ok: false, reason: 'no-secret' };
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) return { ok: false, reason: 'malformed' };
  const [version, payload, signature] = token.split('.') as [string, string, string];
  if (version !== TOKEN_VERSION) return { ok: false, reason: 'unknown-version' };
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== 32) return { ok: false, reason: 'malformed' };
  const signed = `${version}.${payload}`;
  // Every secret is tried (no early exit), so the time taken says nothing about which one matched.
  let secretIndex = -1;
  usable.forEach((secret, i) => {
    if (timingSafeEqual(mac(secret, signed), given) && secretIndex < 0) secretIndex = i;
  });
  if (secretIndex < 0) return { ok: false, reason: 'bad-signature' };
  try {
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(fields) || fields.length !== 4) return { ok: false, reason: 'malformed' };
    const [email, domain, stream, issuedAt] = fields as [unknown, unknown, unknown, unknown];
    if (typeof email !== 'string' || typeof domain !== 'string' || typeof stream !== 'string' || typeof issuedAt !== 'number') return { ok: false, reason: 'malformed' };
    const claim = checkClaim({ email, domain: domain || undefined, stream: (stream || undefined) as UnsubscribeStream | undefined, issuedAt });
    return { ok: true, claim, secretIndex };
  } catch {
    // Signed by us but unreadable: only a minting bug gets here; refuse it all the same.
    return { ok: false, reason: 'malformed' };
  }
}

/** The URL of the one-click endpoint for a token (`baseUrl` = the HTTP API's base URL). */
export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/unsubscribe/${token}`;
}

/** The two headers RFC 8058 asks of a message that offers one-click unsubscribe. */
function unsubscribeHeaders(url: string): { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string } {
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * Everything a sending application needs for one message: the URL and its two headers.
 *
 *   const { url, headers } = unsubscribeLink('https://api.example.com', { email: 'jane@example.com' }, secret);
 */
export function unsubscribeLink(
  baseUrl: string,
  input: { email: string; domain?: string | undefined; stream?: UnsubscribeStream | undefined },
  secret: string,
  now: Date = new Date(),
): { url: string; token: string; headers: { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string } } {
  const token = mintUnsubscribeToken(input, secret, now);
  const url = unsubscribeUrl(baseUrl, token);
  return { url, token, headers: unsubscribeHeaders(url) };
}
