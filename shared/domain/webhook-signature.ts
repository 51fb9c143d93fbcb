/**
 * Mailtrap webhook signatures: header `Mailtrap-Signature` = lowercase hex
 * HMAC-SHA256(signing secret, raw request body). Verified over the bytes as received (never a
 * re-serialisation) with a constant-time comparison.
 * https://docs.mailtrap.io/email-api-smtp/advanced/webhooks
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing-signature' | 'malformed-signature' | 'mismatch' | 'no-secret';

export function signMailtrapBody(rawBody: Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

export function checkMailtrapSignature(rawBody: Uint8Array, header: string | undefined, secret: string | undefined): SignatureCheck {
  // Fail closed: without a secret nothing can be verified, so nothing is accepted.
  if (!secret) return 'no-secret';
  if (!header) return 'missing-signature';
  const given = header.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return 'malformed-signature';
  const expected = Buffer.from(signMailtrapBody(rawBody, secret), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? 'valid' : 'mismatch';
}
