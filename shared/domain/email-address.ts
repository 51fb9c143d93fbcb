/**
 * The one address rule: every entry point (Mailtrap webhook, SES mapping, import, API, CLI,
 * reconciliation, the store's and the sync table's keys) turns a provider's spelling into
 * the store's key here, so one mailbox is one item however a provider spelled it.
 *
 * The key is:
 * - Unicode NFC (`josé` typed precomposed or as `e` + combining accent is one address);
 * - lower-cased (providers deliver case-insensitively; the lookup must too);
 * - the domain as IDNA A-labels (`bücher.de` and `xn--bcher-kva.de` are one domain; UTS #46
 *   mapping through node:url's `domainToASCII`, the WHATWG URL algorithm);
 * - without the trailing dot of an absolute domain (`alice@example.com.`).
 *
 * What the store cannot hold is refused with a named problem, never silently mapped: control
 * characters, invisible format characters (zero-width space/joiners, bidi marks, soft hyphen,
 * BOM, tag characters, variation selectors, Hangul fillers: they make two different-looking
 * keys for one visible address, or one key for two), whitespace inside the address, a local
 * part that would need quoting (`"john doe"@example.com` is RFC-valid but cannot be one item
 * of ours: providers disagree on how they unquote it), and lengths past RFC 5321's limits.
 *
 * The spelling a provider used is kept apart from the key (`spellingOf`): SESv2's suppression
 * API matches exact spelling, so pushes use what the provider knows.
 */
import { domainToASCII } from 'node:url';

export type AddressProblem =
  | 'empty'
  | 'too-long'
  | 'control-character'
  | 'invisible-character'
  | 'whitespace'
  | 'no-at-sign'
  | 'empty-local-part'
  | 'local-part-too-long'
  | 'local-part-needs-quoting'
  | 'empty-domain'
  | 'invalid-domain'
  | 'domain-too-long';

export class InvalidEmailAddressError extends Error {
  override name = 'InvalidEmailAddressError';
  constructor(readonly problem: AddressProblem) {
    super(`not an email address (${problem})`);
  }
}

/** Longest raw input looked at (RFC 5321 path limit with room for a provider's padding). */
const MAX_RAW_ADDRESS_LENGTH = 320;
const MAX_LOCAL_OCTETS = 64;
const MAX_DOMAIN_OCTETS = 253;
const MAX_LABEL_OCTETS = 63;

const CONTROL = /\p{Cc}/u;
// Format characters (Cf: ZWSP, ZWNJ, ZWJ, LRM/RLM and the bidi embeddings, word joiner, soft
// hyphen, BOM, tags), lone surrogates, and the default-ignorable letters and marks that render
// as nothing (combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian
// variation selectors, variation selectors).
const INVISIBLE = /[\p{Cf}\p{Cs}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0\u{E0100}-\u{E01EF}]/u;
const WHITESPACE = /\s/u;
// Characters that RFC 5322 allows in a local part only inside quotes (and the quote itself).
const NEEDS_QUOTING = /["(),:;<>[\\\]@]/;
const LABEL = /^[a-z0-9_-]{1,63}$/;
const ADDRESS_LITERAL = /^\[[0-9a-f.:]+\]$|^\[ipv6:[0-9a-f.:]+\]$/;

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

export type AddressCheck = { ok: true; key: string; spelling: string } | { ok: false; problem: AddressProblem };

type DomainCheck = { ok: true; key: string } | { ok: false; problem: 'empty-domain' | 'invalid-domain' | 'domain-too-long'; lower: string };

function normaliseDomain(raw: string): DomainCheck {
  const domain = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  const lower = domain.normalize('NFC').toLowerCase();
  if (domain === '') return { ok: false, problem: 'empty-domain', lower };
  if (ADDRESS_LITERAL.test(lower)) return { ok: true, key: lower };
  const ascii = domainToASCII(lower);
  if (ascii === '') return { ok: false, problem: 'invalid-domain', lower };
  if (octets(ascii) > MAX_DOMAIN_OCTETS) return { ok: false, problem: 'domain-too-long', lower };
  const labels = ascii.split('.');
  if (labels.some((l) => !LABEL.test(l) || l.length > MAX_LABEL_OCTETS)) return { ok: false, problem: 'invalid-domain', lower };
  return { ok: true, key: ascii };
}

/**
 * The one spelling of a sending domain wherever one is compared (scopes, configured Mailtrap
 * domains, provider records, import rows, unsubscribe tokens): an address's domain rule (NFC,
 * lower case, IDN as A-labels, no trailing dot), so `Bücher.example` and `xn--bcher-kva.example`
 * are one domain. A value that rule refuses is kept trimmed, NFC and lower-cased.
 */
export function domainKey(raw: string): string {
  const check = normaliseDomain(raw.trim());
  return check.ok ? check.key : check.lower;
}

/** The store's key for `raw`, or the problem that keeps the store from holding it. */
export function checkEmailAddress(raw: string): AddressCheck {
  if (typeof raw !== 'string') return { ok: false, problem: 'empty' };
  if (raw.length > MAX_RAW_ADDRESS_LENGTH * 4) return { ok: false, problem: 'too-long' };
  const spelling = raw.trim();
  if (spelling === '') return { ok: false, problem: 'empty' };
  if (spelling.length > MAX_RAW_ADDRESS_LENGTH) return { ok: false, problem: 'too-long' };
  if (CONTROL.test(spelling)) return { ok: false, problem: 'control-character' };
  if (INVISIBLE.test(spelling)) return { ok: false, problem: 'invisible-character' };
  if (WHITESPACE.test(spelling)) return { ok: false, problem: 'whitespace' };
  const at = spelling.lastIndexOf('@');
  if (at < 0) return { ok: false, problem: 'no-at-sign' };
  const local = spelling.slice(0, at).normalize('NFC').toLowerCase().normalize('NFC');
  if (local === '') return { ok: false, problem: 'empty-local-part' };
  if (NEEDS_QUOTING.test(local)) return { ok: false, problem: 'local-part-needs-quoting' };
  if (octets(local) > MAX_LOCAL_OCTETS) return { ok: false, problem: 'local-part-too-long' };
  const domain = normaliseDomain(spelling.slice(at + 1));
  if (!domain.ok) return { ok: false, problem: domain.problem };
  return { ok: true, key: `${local}@${domain.key}`, spelling };
}

/** The store's key for an address; throws `InvalidEmailAddressError` naming the problem. */
export function normaliseEmail(raw: string): string {
  const check = checkEmailAddress(raw);
  if (!check.ok) throw new InvalidEmailAddressError(check.problem);
  return check.key;
}

export function isEmailAddress(raw: unknown): raw is string {
  return typeof raw === 'string' && checkEmailAddress(raw).ok;
}

/** The provider's spelling as kept and pushed back (only the surrounding blanks dropped). */
export function spellingOf(raw: string): string {
  return raw.trim();
}
