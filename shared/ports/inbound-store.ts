import type { ClaimEntry } from '../domain/invoice-standing.ts';
import type { InvoiceWarning, SeenIban } from '../domain/invoice-warnings.ts';
import type { InboundMessageRecord, InvoiceRecord } from '../schemas/inbound-records.ts';

/** The invoices seen under one identity; `version` counts its writes (0: never written). */
export interface IdentityClaim {
  entries: ClaimEntry[];
  version: number;
}

/** The IBANs seen on one seller's authenticated invoices. */
export interface SellerIbans {
  ibans: SeenIban[];
  version: number;
}

/** The store refused a record for its size (DynamoDB: item over 400 KB, key over 2 KB): a content problem, never retried as is. */
export class RecordTooLargeError extends Error {
  override name = 'RecordTooLargeError';
}

/**
 * Message and invoice records. Every write is keyed by ids derived from the SES message id,
 * so processing the same S3 object again rewrites the same items instead of adding new ones.
 */
export interface InboundStore {
  getMessage(messageId: string): Promise<InboundMessageRecord | undefined>;
  /**
   * Writes the message record and its invoices together (all or nothing), so no invoice is
   * ever recorded without its message. Resolves false when the message was recorded already
   * (a concurrent delivery won); throws RecordTooLargeError when an item is too large.
   */
  recordMessage(record: InboundMessageRecord, invoices: InvoiceRecord[]): Promise<boolean>;
  /**
   * Notes that recognition of one attachment of the message starts; resolves with how many
   * earlier attempts started it and never noted its end (they died in it: timeout, out of memory).
   */
  beginRecognition(messageId: string, attachmentIndex: number): Promise<number>;
  /** Notes that recognition of the attachment ended. */
  endRecognition(messageId: string, attachmentIndex: number): Promise<void>;
  readClaim(identityKey: string): Promise<IdentityClaim>;
  readSellerIbans(sellerKey: string): Promise<SellerIbans>;
  /**
   * Writes the claim and the sellers' IBANs (at most 2: VAT id and name) together, each only if
   * its version is still `expectedVersion` (then it becomes expectedVersion + 1). Resolves false
   * when another writer came first: read again, decide again.
   */
  writeClaim(claim: { identityKey: string; entries: ClaimEntry[]; expectedVersion: number }, sellers: { sellerKey: string; ibans: SeenIban[]; expectedVersion: number }[]): Promise<boolean>;
  /**
   * Sets an invoice record's `duplicateOf` and `warnings` as derived from claim version
   * `version`, unless the record is missing or already holds a standing at least that new.
   */
  updateStanding(invoiceId: string, standing: { duplicateOf: string | null; warnings: InvoiceWarning[]; version: number }): Promise<boolean>;
  getInvoice(invoiceId: string): Promise<InvoiceRecord | undefined>;
  /**
   * Takes the right to publish the invoice's event: true unless it was published already or
   * another worker holds an unexpired lease (a concurrent delivery of the same message).
   * `holder` names the delivery (the SQS message): its own retry takes its lease back at once,
   * even when the answer to its first claim was lost.
   */
  claimPublish(invoiceId: string, now: Date, leaseMs: number, holder?: string): Promise<boolean>;
  markPublished(invoiceId: string, at: string): Promise<void>;
  /** Newest first; `withWarnings`: only invoices that carry at least one warning. */
  listInvoices(limit: number, options?: { withWarnings?: boolean }): Promise<InvoiceRecord[]>;
}
