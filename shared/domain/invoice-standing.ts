/**
 * Which recorded invoices are the same invoice, which contradict each other, and which one is
 * the original: a pure function of the invoices seen under one identity (seller + number,
 * else the attachment's sha256), whatever order they arrived or were processed in.
 *
 * - Two entries are the same invoice when their attachments have the same sha256, or their
 *   payment-relevant fields (payee IBAN, total, amount due, currency, due date) are equal
 *   after normalisation (a field missing on one and present on the other differs).
 * - Each group of the same invoice ("variant") has one original: its earliest authenticated
 *   entry, else its earliest entry (earliest by SES receipt time, then invoice id). The others
 *   are `duplicateOf` it. So an unauthenticated record never becomes the original of an
 *   authenticated one: when the genuine invoice arrives second, it takes the original's place.
 * - Different variants under one identity conflict: the original of each names the originals
 *   of the others (duplicates name them too) with the fields that differ.
 *
 * The entries are kept in one claims item per identity (bounded: CLAIM_CAPACITY); the records
 * materialise what this module derives from it.
 */
import type { InvoiceFields } from '../schemas/inbound-records.ts';

const PAYMENT_FIELDS = ['iban', 'totalWithVat', 'amountDue', 'currency', 'dueDate'] as const;
export type PaymentField = (typeof PAYMENT_FIELDS)[number];
export type PaymentFields = Record<PaymentField, string | null>;

export interface ClaimEntry {
  invoiceId: string;
  /** SES receipt timestamp (ISO 8601). */
  receivedAt: string;
  authenticated: boolean;
  sha256: string;
  payment: PaymentFields;
}

export interface Conflict {
  invoiceId: string;
  fields: PaymentField[];
}

export interface Standing {
  duplicateOf: string | null;
  conflicts: Conflict[];
}

/** Entries kept per identity; an identity seen more often than this drops its least telling entries. */
export const CLAIM_CAPACITY = 40;
/** Conflicts named per record. */
const CONFLICTS_PER_RECORD = 10;

const decimal = (value: string): string => {
  const m = /^\s*([+-]?)0*(\d*)(?:\.(\d*?)0*)?\s*$/.exec(value);
  if (!m) return value.trim();
  const int = m[2] || '0';
  const frac = m[3] ?? '';
  const sign = m[1] === '-' && (int !== '0' || frac !== '') ? '-' : '';
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
};

const NORMALISE: Record<PaymentField, (v: string) => string> = {
  iban: (v) => v.replace(/\s+/g, '').toUpperCase(),
  totalWithVat: decimal,
  amountDue: decimal,
  currency: (v) => v.trim().toUpperCase(),
  dueDate: (v) => v.trim(),
};

export function paymentFields(invoice: Pick<InvoiceFields, PaymentField>): PaymentFields {
  const out = {} as PaymentFields;
  for (const f of PAYMENT_FIELDS) {
    const v = invoice[f];
    out[f] = v === null || v === undefined || v.trim() === '' ? null : NORMALISE[f](v);
  }
  return out;
}

function differingFields(a: PaymentFields, b: PaymentFields): PaymentField[] {
  return PAYMENT_FIELDS.filter((f) => a[f] !== b[f]);
}

const byArrival = (a: ClaimEntry, b: ClaimEntry): number =>
  a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0;

interface Variant {
  payment: PaymentFields;
  members: ClaimEntry[];
  original: ClaimEntry;
}

const paymentKey = (p: PaymentFields): string => JSON.stringify(PAYMENT_FIELDS.map((f) => p[f]));

function variants(entries: readonly ClaimEntry[]): Variant[] {
  const sorted = [...entries].sort(byArrival);
  const groups: { payment: PaymentFields; members: ClaimEntry[] }[] = [];
  for (const e of sorted) {
    const group =
      groups.find((g) => g.members.some((m) => m.sha256 === e.sha256)) ?? groups.find((g) => paymentKey(g.payment) === paymentKey(e.payment));
    if (group) group.members.push(e);
    else groups.push({ payment: e.payment, members: [e] });
  }
  return groups.map((g) => ({ ...g, original: g.members.find((m) => m.authenticated) ?? (g.members[0] as ClaimEntry) }));
}

/** The standing of `invoiceId` among `entries` (which include it). */
export function deriveStanding(entries: readonly ClaimEntry[], invoiceId: string): Standing {
  const all = variants(entries);
  const own = all.find((v) => v.members.some((m) => m.invoiceId === invoiceId));
  if (!own) return { duplicateOf: null, conflicts: [] };
  const conflicts = all
    .filter((v) => v !== own)
    .map((v) => ({ invoiceId: v.original.invoiceId, fields: differingFields(own.payment, v.payment) }))
    // Same payment fields cannot be another variant unless the sha256 joined it elsewhere.
    .filter((c) => c.fields.length > 0)
    .slice(0, CONFLICTS_PER_RECORD);
  return { duplicateOf: own.original.invoiceId === invoiceId ? null : own.original.invoiceId, conflicts };
}

/** Canonical JSON (keys sorted at every level): a store need not keep a map's key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameStanding(a: Standing, b: Standing): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function sameEntries(a: readonly ClaimEntry[], b: readonly ClaimEntry[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * `entries` with `entry` in it (replacing an earlier entry of the same invoice: a redelivery),
 * at most CLAIM_CAPACITY long. When full, the entry given up is the one whose loss changes the
 * least: a duplicate before an original, unauthenticated before authenticated, newest first;
 * the new entry itself is always kept.
 */
export function withEntry(entries: readonly ClaimEntry[], entry: ClaimEntry, capacity = CLAIM_CAPACITY): ClaimEntry[] {
  // In place when it is there already, so a redelivery leaves the list as it was.
  const at = entries.findIndex((e) => e.invoiceId === entry.invoiceId);
  const next = at >= 0 ? entries.map((e, i) => (i === at ? entry : e)) : [...entries, entry];
  while (next.length > capacity) {
    const originals = new Set(variants(next).map((v) => v.original.invoiceId));
    const rank = (e: ClaimEntry) => (originals.has(e.invoiceId) ? 2 : 0) + (e.authenticated ? 1 : 0);
    const candidates = next.filter((e) => e.invoiceId !== entry.invoiceId).sort((a, b) => rank(a) - rank(b) || byArrival(b, a));
    const drop = candidates[0];
    if (!drop) break;
    next.splice(next.indexOf(drop), 1);
  }
  return next;
}

/** Invoices (other than `invoiceId`) whose standing differs between `before` and `after`. */
export function changedStandings(before: readonly ClaimEntry[], after: readonly ClaimEntry[], invoiceId: string): { invoiceId: string; standing: Standing }[] {
  const changed: { invoiceId: string; standing: Standing }[] = [];
  for (const e of after) {
    if (e.invoiceId === invoiceId) continue;
    const now = deriveStanding(after, e.invoiceId);
    if (!sameStanding(deriveStanding(before, e.invoiceId), now)) changed.push({ invoiceId: e.invoiceId, standing: now });
  }
  return changed;
}
