/**
 * Who sent an inbound message, as far as SES's receipt verdicts can vouch for it.
 *
 * `authenticated` is true only when
 *   - SES's DMARC verdict is PASS (the From domain's owner authorised this mail through an
 *     aligned SPF or DKIM pass), or
 *   - the From domain publishes no DMARC policy (SES: dmarcVerdict GRAY) and DKIM passed for
 *     the From domain itself (a passing `dkim=pass header.d/header.i` for exactly that domain
 *     in the Authentication-Results header SES put on top of the message);
 * and the message names exactly one From address (several From addresses or headers make
 * "the sender" ambiguous, and DMARC is undefined for them).
 * Everything else (DMARC FAIL whatever its policy, PROCESSING_FAILED, DISABLED, no verdict at
 * all, DKIM passing only for another domain, SPF alone) is not authenticated: fail closed.
 *
 * SES's verdicts: https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 * (PASS | FAIL | GRAY | PROCESSING_FAILED | DISABLED; `dmarcPolicy` only present when DMARC fails).
 * The verdicts do not name the DKIM signing domain; SES writes it into the
 * `Authentication-Results: amazonses.com; ... dkim=pass header.i=@example.com; dmarc=pass
 * header.from=example.com` header it prepends to the stored message (RFC 8601). A sender can
 * write Authentication-Results headers of its own, but only below SES's: only the topmost one
 * is read, and only when SES (authserv-id amazonses.com) wrote it.
 */
import type { ReceiptVerdicts } from './inbound-verdicts.ts';

export interface Sender {
  /** The From address (the first one when there are several). */
  address: string | null;
  /** Its domain, lower case. */
  domain: string | null;
  authenticated: boolean;
}

/** Why `authenticated` came out as it did (for people and logs, not stored). */
export type SenderBasis =
  | 'dmarc-pass'
  | 'dkim-pass-no-dmarc-policy'
  | 'no-from-address'
  | 'several-from-addresses'
  | 'dmarc-from-mismatch'
  | 'dmarc-fail'
  | 'dkim-not-from-domain'
  | 'dmarc-unknown';

export interface SenderInput {
  /** Every From address of the message, in order (all From headers, all addresses). */
  fromAddresses: readonly string[];
  verdicts: ReceiptVerdicts;
  /** The topmost Authentication-Results header's value, if the message has one. */
  authenticationResults?: string | null | undefined;
}

const SES_AUTHSERV_ID = 'amazonses.com';

export interface AuthenticationResult {
  method: string;
  result: string;
  properties: Record<string, string>;
}

/** RFC 8601 header value -> authserv-id and its method results. Comments and quoted text are dropped. */
export function parseAuthenticationResults(value: string): { authservId: string; results: AuthenticationResult[] } {
  let text = value.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  // Nested comments: strip innermost first, a bounded number of times.
  for (let i = 0; i < 10 && /\([^()]*\)/.test(text); i++) text = text.replace(/\([^()]*\)/g, ' ');
  const [head = '', ...clauses] = text.split(';');
  const authservId = head.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const results: AuthenticationResult[] = [];
  for (const clause of clauses) {
    const tokens = clause.trim().split(/\s+/).filter(Boolean);
    const first = tokens.shift();
    const m = first ? /^([a-z0-9-]+)=([a-z0-9-]+)$/i.exec(first) : null;
    if (!m?.[1] || !m[2]) continue;
    const properties: Record<string, string> = {};
    for (const t of tokens) {
      const p = /^([a-z0-9-]+\.[a-z0-9-]+)=(.+)$/i.exec(t);
      if (p?.[1] && p[2]) properties[p[1].toLowerCase()] = p[2];
    }
    results.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase(), properties });
  }
  return { authservId, results };
}

/** The domain of `local@domain` (or of an RFC 8601 `header.i=@domain`, when `bareAllowed`). */
const domainOf = (address: string, bareAllowed = false): string | null => {
  const at = address.lastIndexOf('@');
  const domain = at > 0 || (bareAllowed && at === 0) ? address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '') : '';
  return domain.length > 0 ? domain : null;
};

const isStatus = (status: string | undefined, expected: string): boolean => status?.toUpperCase() === expected;

/** The domains whose DKIM signatures SES's own Authentication-Results reports as passing. */
export function sesDkimPassDomains(authenticationResults: string | null | undefined): string[] {
  if (!authenticationResults) return [];
  const parsed = parseAuthenticationResults(authenticationResults);
  if (parsed.authservId !== SES_AUTHSERV_ID) return [];
  const domains = new Set<string>();
  for (const r of parsed.results) {
    if (r.method !== 'dkim' || r.result !== 'pass') continue;
    const d = r.properties['header.d'] ?? (r.properties['header.i'] ? domainOf(r.properties['header.i'], true) : null);
    if (d) domains.add(d.toLowerCase().replace(/\.$/, ''));
  }
  return [...domains];
}

/** The From domain SES's own Authentication-Results says DMARC was evaluated for, if it says so. */
function sesDmarcFromDomain(authenticationResults: string | null | undefined): string | null {
  if (!authenticationResults) return null;
  const parsed = parseAuthenticationResults(authenticationResults);
  if (parsed.authservId !== SES_AUTHSERV_ID) return null;
  const dmarc = parsed.results.find((r) => r.method === 'dmarc');
  return dmarc?.properties['header.from']?.toLowerCase().replace(/\.$/, '') ?? null;
}

export function authenticateSender(input: SenderInput): Sender & { basis: SenderBasis } {
  const address = input.fromAddresses[0]?.trim() || null;
  const domain = address ? domainOf(address) : null;
  const result = (authenticated: boolean, basis: SenderBasis) => ({ address, domain, authenticated, basis });
  if (!address || !domain) return result(false, 'no-from-address');
  if (input.fromAddresses.length > 1) return result(false, 'several-from-addresses');
  const { dmarc, dkim } = input.verdicts;
  if (isStatus(dmarc, 'PASS')) {
    // SES evaluated DMARC for the From domain it parsed; if its header names another one, the
    // two parsers disagree about who the sender is: trust neither.
    const evaluated = sesDmarcFromDomain(input.authenticationResults);
    return evaluated && evaluated !== domain ? result(false, 'dmarc-from-mismatch') : result(true, 'dmarc-pass');
  }
  if (isStatus(dmarc, 'FAIL')) return result(false, 'dmarc-fail');
  if (!isStatus(dmarc, 'GRAY')) return result(false, 'dmarc-unknown');
  // No DMARC policy: DKIM must have passed for the From domain itself.
  if (isStatus(dkim, 'PASS') && sesDkimPassDomains(input.authenticationResults).includes(domain)) return result(true, 'dkim-pass-no-dmarc-policy');
  return result(false, 'dkim-not-from-domain');
}

/** `"Name" <a@b>` or `a@b` (as SES writes commonHeaders.from) -> a@b. */
export function addressOf(value: string | undefined | null): string | null {
  if (!value) return null;
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  return angle?.[1] ?? (value.includes('@') ? value.trim() : null);
}
