/**
 * Pure decisions about one inbound message once it is parsed: where its attachments live in
 * S3, which status it ends with, and which keys identify "the same invoice" across messages.
 */
import type { RecognisedInvoice } from './invoice/types.ts';

export type InboundStatus = 'processed' | 'no-invoice' | 'quarantined' | 'failed';

/**
 * Message-level problem codes (attachment-level ones come from the recogniser,
 * shared/domain/invoice/types.ts):
 * - message-empty: the stored object has no bytes
 * - message-missing: the S3 object SES named does not exist (deleted, or wrong bucket/key)
 * - mime-malformed: the MIME parser gave up (the message so far is kept)
 * - attachment-too-large: a candidate part above the buffering cap; stored, not recognised
 * - nesting-too-deep: a forwarded message inside forwarded messages beyond the depth limit
 * - too-many-attachments: parts beyond the limit are hashed but neither stored nor recognised
 * - recognition-skipped: previous attempts on this message did not finish (timeout or crash
 *   in recognition?), so this attempt stores attachments without recognising them
 */
export type InboundProblemCode =
  | 'message-empty'
  | 'message-missing'
  | 'mime-malformed'
  | 'attachment-too-large'
  | 'nesting-too-deep'
  | 'too-many-attachments'
  | 'recognition-skipped';

/** Turns any attachment name into one S3 key segment: ASCII, no path, bounded length. */
export function safeFilename(name: string | undefined | null, fallback = 'attachment'): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const ascii = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/_+/g, '_');
  const trimmed = ascii.length > 100 ? `${ascii.slice(0, 60)}_${ascii.slice(-39)}` : ascii;
  return trimmed.length > 0 ? trimmed : fallback;
}

/** `<prefix>attachments/<messageId>/<n>-<safe filename>`; n is 1-based over the whole message tree. */
export function attachmentKey(messageId: string, index: number, filename: string | undefined | null, prefix = ''): string {
  return `${prefix}attachments/${messageId}/${index}-${safeFilename(filename)}`;
}

export function messageStatus(input: { quarantined: boolean; failedReason?: string | null; invoiceCount: number }): InboundStatus {
  if (input.quarantined) return 'quarantined';
  if (input.failedReason) return 'failed';
  return input.invoiceCount > 0 ? 'processed' : 'no-invoice';
}

const normaliseToken = (value: string): string =>
  value
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * The keys under which an invoice claims to be "first seen". Two invoices sharing any key are
 * the same invoice: same seller (VAT id, else name) and number, or the same attachment bytes.
 * A guessed (pdf-text) number alone is too weak to dedupe on, so pdf-text needs a seller too.
 */
export function invoiceIdentityKeys(invoice: Pick<RecognisedInvoice, 'invoiceNumber' | 'sellerVatId' | 'sellerName'>, attachmentSha256: string): string[] {
  const keys = [`sha256#${attachmentSha256}`];
  const seller = invoice.sellerVatId ? `vat:${normaliseToken(invoice.sellerVatId)}` : invoice.sellerName ? `name:${normaliseToken(invoice.sellerName)}` : null;
  const number = invoice.invoiceNumber ? normaliseToken(invoice.invoiceNumber) : '';
  if (seller && seller.length > 4 && number.length > 0) keys.unshift(`seller#${seller}#${number}`);
  return keys;
}

/** Stable id of the n-th (0-based) invoice found in a message. */
export function invoiceId(messageId: string, n: number): string {
  return `${messageId}:${n + 1}`;
}
