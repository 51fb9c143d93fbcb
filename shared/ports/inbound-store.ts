import type { InboundMessageRecord, InvoiceRecord } from '../schemas/inbound-records.ts';

/**
 * Message and invoice records. Every write is keyed by ids derived from the SES message id,
 * so processing the same S3 object again rewrites the same items instead of adding new ones.
 */
export interface InboundStore {
  getMessage(messageId: string): Promise<InboundMessageRecord | undefined>;
  putMessage(record: InboundMessageRecord): Promise<void>;
  /**
   * Notes that an attempt on the message starts; returns how many earlier attempts started
   * and never finished (the function died: timeout, out of memory).
   */
  startAttempt(messageId: string): Promise<number>;
  /** Notes that an attempt ended, successfully or with an error it could report. */
  finishAttempt(messageId: string): Promise<void>;
  /**
   * Claims each identity key for `invoiceId` unless another invoice holds it; returns the
   * first other holder (the invoice this one duplicates), or null.
   */
  claimIdentity(invoiceId: string, keys: string[]): Promise<string | null>;
  /** Creates the invoice item; false when it already existed (redelivery). */
  createInvoice(record: InvoiceRecord): Promise<boolean>;
  getInvoice(invoiceId: string): Promise<InvoiceRecord | undefined>;
  /**
   * Takes the right to publish the invoice's event: true unless it was published already or
   * another worker holds an unexpired lease (a concurrent delivery of the same message).
   */
  claimPublish(invoiceId: string, now: Date, leaseMs: number): Promise<boolean>;
  markPublished(invoiceId: string, at: string): Promise<void>;
  listInvoices(limit: number): Promise<InvoiceRecord[]>;
}
