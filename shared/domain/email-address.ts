/**
 * Addresses are compared case-insensitively (lookup key), but the spelling a provider
 * reported is kept: SESv2's suppression API matches exact case, so a push to SES must use
 * the spelling SES knows.
 */
export class InvalidEmailAddressError extends Error {
  override name = 'InvalidEmailAddressError';
}

// Deliberately loose: providers already validated these addresses when they sent the mail.
// We only reject what cannot be an address at all (no @, whitespace, empty parts, too long).
const ADDRESS = /^[^\s@]+@[^\s@]+$/;

export function normaliseEmail(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > 320 || !ADDRESS.test(trimmed)) {
    throw new InvalidEmailAddressError('not an email address');
  }
  return trimmed.toLowerCase();
}

export function isEmailAddress(raw: string): boolean {
  try {
    normaliseEmail(raw);
    return true;
  } catch {
    return false;
  }
}

export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}
