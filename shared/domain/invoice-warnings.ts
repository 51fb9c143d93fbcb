/**
 * What accounting should know before paying an invoice: the one place that decides an invoice
 * record's `warnings` (stored on the record, listed by `invoices list`, sent in
 * `invoice.received`). Codes:
 * - unauthenticated-sender: the mail's sender is not authenticated (shared/domain/sender-authentication.ts)
 * - conflicting-duplicate: another record has the same identity (seller + number) but other
 *   payment-relevant fields; names it and the fields (shared/domain/invoice-standing.ts)
 * - bank-account-changed: the payee IBAN was never seen on this seller's authenticated invoices
 *   before; lists the IBANs that were
 * - einvoice-incomplete: an e-invoice lacks mandatory EN 16931 business terms (from recognition)
 */
import type { RecognitionWarning } from './invoice/types.ts';
import { canonicalJson, type Conflict, type PaymentField } from './invoice-standing.ts';
import type { Sender } from './sender-authentication.ts';

interface UnauthenticatedSenderWarning {
  code: 'unauthenticated-sender';
  address: string | null;
  domain: string | null;
}

interface ConflictingDuplicateWarning {
  code: 'conflicting-duplicate';
  invoiceId: string;
  fields: PaymentField[];
}

export interface BankAccountChangedWarning {
  code: 'bank-account-changed';
  iban: string;
  previous: string[];
}

export type InvoiceWarning = UnauthenticatedSenderWarning | ConflictingDuplicateWarning | BankAccountChangedWarning | RecognitionWarning;

/** IBANs remembered per seller, and listed in a bank-account-changed warning. */
const IBANS_PER_SELLER = 20;
const PREVIOUS_IBANS_LISTED = 10;

/** One IBAN seen on a seller's authenticated invoices, with the invoice that showed it first. */
export interface SeenIban {
  iban: string;
  firstInvoiceId: string;
}

const normaliseIban = (iban: string): string => iban.replace(/\s+/g, '').toUpperCase();

/**
 * The bank-account check for one invoice against its seller's history (`check`: by VAT id,
 * else name), and the histories after it (`learn`: an authenticated invoice's IBAN is added to
 * each). The invoice's own earlier contribution (a redelivery) is not "seen before", so the
 * same mail processed twice gets the same answer.
 */
export function checkBankAccount(
  histories: { check: readonly SeenIban[] | null; learn: readonly (readonly SeenIban[])[] },
  invoice: { invoiceId: string; iban: string | null; authenticated: boolean },
): { warning: BankAccountChangedWarning | null; learned: SeenIban[][] } {
  const unchanged = histories.learn.map((h) => [...h]);
  if (!invoice.iban) return { warning: null, learned: unchanged };
  const iban = normaliseIban(invoice.iban);
  const before = (histories.check ?? []).filter((h) => h.firstInvoiceId !== invoice.invoiceId);
  const warning =
    before.length > 0 && !before.some((h) => h.iban === iban) ? { code: 'bank-account-changed' as const, iban, previous: before.slice(-PREVIOUS_IBANS_LISTED).map((h) => h.iban) } : null;
  const learned = invoice.authenticated
    ? histories.learn.map((h) => (h.some((seen) => seen.iban === iban) ? [...h] : [...h, { iban, firstInvoiceId: invoice.invoiceId }].slice(-IBANS_PER_SELLER)))
    : unchanged;
  return { warning, learned };
}

/** Warnings that belong to the invoice itself and never change once it is recorded. */
export function intrinsicWarnings(input: { sender: Sender; recognition: readonly RecognitionWarning[]; bank: BankAccountChangedWarning | null }): InvoiceWarning[] {
  const warnings: InvoiceWarning[] = [];
  if (!input.sender.authenticated) warnings.push({ code: 'unauthenticated-sender', address: input.sender.address, domain: input.sender.domain });
  if (input.bank) warnings.push(input.bank);
  warnings.push(...input.recognition);
  return warnings;
}

/** The record's warnings with its conflicts replaced by `conflicts` (they change as other records arrive). */
export function withConflicts(warnings: readonly InvoiceWarning[], conflicts: readonly Conflict[]): InvoiceWarning[] {
  return [...warnings.filter((w) => w.code !== 'conflicting-duplicate'), ...conflicts.map((c) => ({ code: 'conflicting-duplicate' as const, invoiceId: c.invoiceId, fields: [...c.fields] }))];
}

export function sameWarnings(a: readonly InvoiceWarning[], b: readonly InvoiceWarning[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** One line per warning for the CLI. */
export function describeWarning(w: InvoiceWarning): string {
  switch (w.code) {
    case 'unauthenticated-sender':
      return `unauthenticated-sender (${w.address ?? 'no From address'})`;
    case 'conflicting-duplicate':
      return `conflicting-duplicate of ${w.invoiceId} (${w.fields.join(', ')} ${w.fields.length === 1 ? 'differs' : 'differ'})`;
    case 'bank-account-changed':
      return `bank-account-changed to ${w.iban} (before: ${w.previous.join(', ')})`;
    case 'einvoice-incomplete':
      return `einvoice-incomplete (missing ${w.missing.join(', ')})`;
  }
}
