/**
 * Pure decisions about one inbound message once it is parsed: where its attachments live in
 * S3, which status it ends with, and which keys identify "the same invoice" and its seller across messages.
 */
import type { RecognisedInvoice } from './invoice/types.ts';
import { boundKey } from './inbound-bounds.ts';

export type InboundStatus = 'processed' | 'no-invoice' | 'quarantined' | 'failed';

/*
 * Message-level problem codes (attachment-level ones come from the recogniser,
 * shared/domain/invoice/types.ts):
 * - message-empty: the stored object has no bytes
 * - message-missing: the S3 object SES named does not exist (deleted, or wrong bucket/key)
 * - mime-malformed: the MIME parser gave up (the message so far is kept)
 * - attachment-too-large: a candidate part above the buffering cap; stored, not recognised
 * - nesting-too-deep: a forwarded message inside forwarded messages beyond the depth limit
 * - too-many-attachments: parts beyond the limit are only counted (not listed, stored or recognised)
 * - too-many-invoices: invoices beyond RECORD_LIMITS.invoicesPerMessage are not recorded
 * - recognition-skipped: earlier attempts died while recognising this attachment (timeout or
 *   out of memory?), so it is stored without being recognised again
 * - record-too-large: DynamoDB refused the record for its size; a trimmed one was written
 * - problems-omitted: more problems than a record lists; counted by code
 */

/** Turns any attachment name into one S3 key segment: ASCII, no path, bounded length. */
function safeFilename(name: string | undefined | null, fallback = 'attachment'): string {
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

const vatToken = (vatId: string | null): string | null => (vatId ? `vat:${normaliseToken(vatId)}` : null);
const nameToken = (name: string | null): string | null => (name ? `name:${normaliseToken(name)}` : null);
const usable = (token: string | null): string | null => (token && token.length > 4 ? token : null);

/** `vat:<VAT id>`, else `name:<normalised name>`; null when neither is known well enough. */
function sellerToken(invoice: Pick<RecognisedInvoice, 'sellerVatId' | 'sellerName'>): string | null {
  return usable(vatToken(invoice.sellerVatId)) ?? (invoice.sellerVatId ? null : usable(nameToken(invoice.sellerName)));
}

/**
 * The keys of a seller's IBAN history. `check`: the seller an invoice is checked against, by
 * VAT id, else by normalised name. `learn`: every key an authenticated invoice teaches its IBAN
 * to, VAT id and name, so an invoice that names the seller without its VAT id is still checked
 * against the IBANs its authenticated invoices showed.
 */
export function sellerKeys(invoice: Pick<RecognisedInvoice, 'sellerVatId' | 'sellerName'>): { check: string | null; learn: string[] } {
  const vat = usable(vatToken(invoice.sellerVatId));
  const name = usable(nameToken(invoice.sellerName));
  const check = sellerToken(invoice);
  return { check: check ? boundKey(check) : null, learn: [vat, name].filter((k): k is string => k !== null).map(boundKey) };
}

/**
 * The identity an invoice is claimed under: `seller#<seller>#<number>` (the same invoice from
 * one seller, whatever the document's bytes), else `sha256#<attachment hash>` (a guessed
 * pdf-text number alone is too weak to dedupe on, so without a seller only the same bytes
 * count). Same bytes always read as the same seller + number, so they meet under one identity.
 */
export function invoiceIdentityKey(invoice: Pick<RecognisedInvoice, 'invoiceNumber' | 'sellerVatId' | 'sellerName'>, attachmentSha256: string): string {
  const seller = sellerToken(invoice);
  const number = invoice.invoiceNumber ? normaliseToken(invoice.invoiceNumber) : '';
  return seller && number.length > 0 ? `seller#${boundKey(`${seller}#${number}`)}` : `sha256#${attachmentSha256}`;
}

/** Stable id of the n-th (0-based) invoice found in a message. */
export function invoiceId(messageId: string, n: number): string {
  return `${messageId}:${n + 1}`;
}

/**
 * Types a browser may render or run when someone opens the stored object (HTML, SVG, XML with
 * scripts or XSLT, JavaScript…) are stored as application/octet-stream; only these inert ones
 * keep their type. Every attachment is also stored with `Content-Disposition: attachment`.
 */
const INERT_TYPES = new Set([
  'application/pdf',
  'application/zip',
  'application/octet-stream',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-excel',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/tiff',
  'image/webp',
  'text/plain',
  'text/csv',
]);

export function storedContentType(contentType: string): string {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return INERT_TYPES.has(type) ? type : 'application/octet-stream';
}

/** `attachment; filename="<ascii>"; filename*=UTF-8''<encoded>` (RFC 6266), from the safe file name. */
export function attachmentDisposition(filename: string): string {
  const safe = safeFilename(filename);
  return `attachment; filename="${safe}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}
