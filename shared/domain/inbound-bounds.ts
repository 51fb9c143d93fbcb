/**
 * Every string inbound mail leaves in a record or an event is bounded here, so no sender can
 * make a write fail for size: DynamoDB refuses items over 400 KB and keys over 2 KB, SNS
 * messages over 256 KB. A 600 KB folded subject, a 300 KB RFC 2231 file name, 900 named parts
 * or a 3,000-digit invoice number are content, and content never makes a write fail.
 *
 * Worst case with these limits (UTF-8, 4 bytes a character at most): a message record with 100
 * attachments and 50 problems stays under ~330 KB; an invoice record under ~30 KB; an
 * identity key under 2 KB.
 */
import { createHash } from 'node:crypto';

export const RECORD_LIMITS = {
  subjectChars: 1_000,
  /** From address, Message-ID header. */
  headerChars: 500,
  filenameChars: 255,
  /** The Authentication-Results header read for the sender's DKIM domain (never stored). */
  authenticationResultsChars: 4_000,
  contentTypeChars: 100,
  problemChars: 500,
  /** Problems listed per message; the rest are summarised in one more entry. */
  problems: 50,
  /** Every recognised invoice field (number, seller name, VAT id, reference, IBAN, amounts…). */
  fieldChars: 200,
  /** Identity keys longer than this are stored as their SHA-256. */
  identityKeyChars: 256,
  /** Invoices recorded per message: with the message record, one DynamoDB transaction (100 items). */
  invoicesPerMessage: 99,
} as const;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * `value` cut to at most `max` characters. A cut value says so and carries a hash of the
 * whole, so two long values that differ only after the cut stay different.
 */
export function boundText(value: string, max: number): string {
  if (value.length <= max) return value;
  const marker = `…[${value.length} chars, sha256 ${sha256(value).slice(0, 16)}]`;
  let head = value.slice(0, Math.max(0, max - marker.length));
  // Never split a surrogate pair.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}${marker}`;
}

export function boundNullable(value: string | null | undefined, max: number): string | null {
  return value === null || value === undefined ? null : boundText(value, max);
}

/** A key for `ID#…` items: as it is when short, else its SHA-256 (DynamoDB keys are at most 2 KB). */
export function boundKey(key: string): string {
  return key.length <= RECORD_LIMITS.identityKeyChars ? key : `sha256:${sha256(key)}`;
}

interface ProblemLike {
  code: string;
  message: string;
  attachment?: number;
}

/** Each problem's text bounded, and at most `max` of them: the rest counted by code in one last entry. */
export function boundProblems<P extends ProblemLike>(problems: readonly P[], max: number = RECORD_LIMITS.problems): ProblemLike[] {
  const bounded = problems.slice(0, max).map((p) => ({ ...p, code: boundText(p.code, 64), message: boundText(p.message, RECORD_LIMITS.problemChars) }));
  if (problems.length <= max) return bounded;
  const counts = new Map<string, number>();
  for (const p of problems.slice(max)) counts.set(p.code, (counts.get(p.code) ?? 0) + 1);
  const summary = [...counts.entries()].slice(0, 20).map(([code, n]) => `${boundText(code, 64)} x${n}`).join(', ');
  return [...bounded, { code: 'problems-omitted', message: boundText(`${problems.length - max} more problems not listed: ${summary}`, RECORD_LIMITS.problemChars) }];
}

/** The same object with every string field in `fields` bounded to `max`. */
export function boundFields<T extends object>(value: T, fields: readonly (keyof T)[], max: number): T {
  const copy = { ...value };
  for (const f of fields) {
    const v = copy[f];
    if (typeof v === 'string') (copy as Record<keyof T, unknown>)[f] = boundText(v, max);
  }
  return copy;
}
