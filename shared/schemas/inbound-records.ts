/**
 * The shapes inbound mail leaves behind: the message record, one record per invoice (both in
 * the inbound DynamoDB table) and the `invoice.received` event downstream systems consume.
 * Schemas, not interfaces, so the CLI and consumers can validate what they read.
 */
import * as z from 'zod/mini';

const nullableString = () => z.nullable(z.string());

const inboundProblemSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** Index of the attachment the problem belongs to, when it belongs to one. */
  attachment: z.optional(z.number()),
});
export type InboundProblem = z.infer<typeof inboundProblemSchema>;

const storedAttachmentSchema = z.object({
  index: z.number(),
  filename: z.string(),
  contentType: z.string(),
  size: z.number(),
  sha256: z.string(),
  /** S3 key of the decoded bytes; null when not stored (virus quarantine, over the part limit). */
  key: nullableString(),
  depth: z.number(),
});

const verdictsSchema = z.object({
  spam: nullableString(),
  virus: nullableString(),
  spf: nullableString(),
  dkim: nullableString(),
  dmarc: nullableString(),
  dmarcPolicy: nullableString(),
});

/** Who sent the mail, and whether SES's verdicts vouch for it (shared/domain/sender-authentication.ts). */
const senderSchema = z.object({
  address: nullableString(),
  domain: nullableString(),
  authenticated: z.boolean(),
});

/** shared/domain/invoice-warnings.ts decides these. */
const invoiceWarningSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('unauthenticated-sender'), address: nullableString(), domain: nullableString() }),
  z.object({ code: z.literal('conflicting-duplicate'), invoiceId: z.string(), fields: z.array(z.enum(['iban', 'totalWithVat', 'amountDue', 'currency', 'dueDate'])) }),
  z.object({ code: z.literal('bank-account-changed'), iban: z.string(), previous: z.array(z.string()) }),
  z.object({ code: z.literal('einvoice-incomplete'), missing: z.array(z.string()) }),
]);

const inboundMessageRecordSchema = z.object({
  /** SES message id (also the last segment of the raw object's key). */
  messageId: z.string(),
  /** The Message-ID header. */
  internetMessageId: nullableString(),
  from: nullableString(),
  /** Absent on records from before sender authentication. */
  sender: z.optional(senderSchema),
  subject: nullableString(),
  receivedAt: z.string(),
  source: z.object({ bucket: z.string(), key: z.string() }),
  verdicts: verdictsSchema,
  /** Verdict rules that quarantined the message (empty when processed). */
  appliedVerdicts: z.array(z.string()),
  /** Failed verdicts the policy did not act on. */
  notedVerdicts: z.array(z.string()),
  attachments: z.array(storedAttachmentSchema),
  /** Parts past the attachment limit: counted, not listed (absent on records from before the limit). */
  omittedAttachments: z.optional(z.number()),
  status: z.enum(['processed', 'no-invoice', 'quarantined', 'failed']),
  reason: nullableString(),
  problems: z.array(inboundProblemSchema),
  invoiceIds: z.array(z.string()),
  /** Where the raw message is now (moved under quarantine/ when quarantined). */
  rawKey: z.string(),
  processedAt: z.string(),
});
export type InboundMessageRecord = z.infer<typeof inboundMessageRecordSchema>;

/** What recognition yields per invoice, as stored and published. */
const invoiceFieldsSchema = z.object({
  format: z.string(),
  documentType: z.string(),
  invoiceNumber: nullableString(),
  issueDate: nullableString(),
  dueDate: nullableString(),
  currency: nullableString(),
  totalWithVat: nullableString(),
  amountDue: nullableString(),
  sellerName: nullableString(),
  sellerVatId: nullableString(),
  buyerReference: nullableString(),
  iban: nullableString(),
  method: z.string(),
  confidence: z.number(),
});
export type InvoiceFields = z.infer<typeof invoiceFieldsSchema>;

const invoiceRecordSchema = z.object({
  ...invoiceFieldsSchema.shape,
  invoiceId: z.string(),
  messageId: z.string(),
  receivedAt: z.string(),
  fieldConfidence: z.record(z.string(), z.number()),
  sourceAttachmentKey: nullableString(),
  sourceAttachmentSha256: z.string(),
  sourceFilename: z.string(),
  /**
   * The invoice id this one repeats (the same attachment bytes, or the same seller + number with
   * the same payment-relevant fields); never an unauthenticated record for an authenticated one.
   */
  duplicateOf: nullableString(),
  sender: senderSchema,
  /** What accounting should know before paying it (empty when nothing). */
  warnings: z.array(invoiceWarningSchema),
  /** The identity claim this record's standing comes from (`seller#…` or `sha256#…`). */
  identityKey: z.optional(z.string()),
  /** The claim's version `duplicateOf` and the conflict warnings were derived from. */
  standingVersion: z.optional(z.number()),
  publishedAt: z.optional(z.string()),
});
export type InvoiceRecord = z.infer<typeof invoiceRecordSchema>;

export const INVOICE_RECEIVED = 'invoice.received';

export const invoiceReceivedEventSchema = z.object({
  type: z.literal(INVOICE_RECEIVED),
  version: z.literal(1),
  /** Stable per invoice: a consumer that sees it twice (at-least-once delivery) dedupes on it. */
  invoiceId: z.string(),
  messageId: z.string(),
  receivedAt: z.string(),
  invoice: invoiceFieldsSchema,
  source: z.object({ bucket: z.string(), attachmentKey: nullableString(), sha256: z.string(), filename: z.string() }),
  duplicateOf: nullableString(),
  sender: senderSchema,
  /** Hold payment until each is resolved (README: "Invoice warnings"). */
  warnings: z.array(invoiceWarningSchema),
});
export type InvoiceReceivedEvent = z.infer<typeof invoiceReceivedEventSchema>;

export function pickInvoiceFields(source: InvoiceFields): InvoiceFields {
  return {
    format: source.format,
    documentType: source.documentType,
    invoiceNumber: source.invoiceNumber,
    issueDate: source.issueDate,
    dueDate: source.dueDate,
    currency: source.currency,
    totalWithVat: source.totalWithVat,
    amountDue: source.amountDue,
    sellerName: source.sellerName,
    sellerVatId: source.sellerVatId,
    buyerReference: source.buyerReference,
    iban: source.iban,
    method: source.method,
    confidence: source.confidence,
  };
}
