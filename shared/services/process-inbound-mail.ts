/**
 * One SES `Received` notification, start to finish: verdict policy, streaming parse and
 * recognition, records, events. Ports only; the inbound-parse function wires S3, DynamoDB
 * and SNS in, tests wire fakes or the local stack.
 *
 * Idempotency (the same S3 object, delivered again):
 * - the message record is written last; once it exists, a delivery is acknowledged as is;
 * - attachment keys, invoice ids (`<messageId>:<n>`) and identity claims are derived from the
 *   message, so a re-run after a partial failure rewrites the same items;
 * - an invoice's event is published by whoever holds its publish lease, and `publishedAt`
 *   stops any later attempt. The window between publish and `publishedAt` makes delivery
 *   at-least-once in a crash; the event's `invoiceId` lets consumers dedupe.
 *
 * Errors: content problems end in the record (status failed/no-invoice plus `problems`);
 * only infrastructure failures throw, and they are all worth retrying.
 */
import { decideVerdicts, type VerdictPolicyConfig } from '../domain/inbound-verdicts.ts';
import { invoiceId, invoiceIdentityKeys, messageStatus } from '../domain/inbound-mail.ts';
import type { AttachmentSink } from '../ports/attachment-sink.ts';
import type { InboundStore } from '../ports/inbound-store.ts';
import type { InvoiceEvents } from '../ports/invoice-events.ts';
import { RawMessageMissingError, type RawMessageStore } from '../ports/raw-message-store.ts';
import {
  INVOICE_RECEIVED,
  pickInvoiceFields,
  type InboundMessageRecord,
  type InboundProblem,
  type InvoiceReceivedEvent,
  type InvoiceRecord,
} from '../schemas/inbound-records.ts';
import { receiptVerdicts, type SesReceivedNotification } from '../schemas/ses-receipt.ts';
import { parseInboundMessage, type ParsedMessage, type ParseOptions } from './parse-inbound-message.ts';

export class PublishInProgressError extends Error {
  override name = 'PublishInProgressError';
}

export interface InboundDeps {
  raw: RawMessageStore;
  /** A sink for one message's attachments; `prefix` is '' or 'quarantine/'. */
  attachments: (messageId: string, prefix: string) => AttachmentSink;
  store: InboundStore;
  events: InvoiceEvents;
  verdictPolicy: VerdictPolicyConfig;
  parse: Partial<ParseOptions>;
  /**
   * After this many attempts on a message died without finishing (timeout, out of memory:
   * most likely pdf.js on a hostile PDF), the next one stores attachments without recognition.
   */
  maxCrashedAttempts: number;
  /** How long a worker may hold an invoice's publish lease. */
  publishLeaseMs: number;
  now: () => Date;
}

export type InboundOutcome = { kind: 'already-processed'; record: InboundMessageRecord } | { kind: 'recorded'; record: InboundMessageRecord; published: number };

/** "Name <a@b>" or "a@b" -> a@b, as SES writes commonHeaders.from. */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  return angle?.[1] ?? (value.includes('@') ? value.trim() : null);
}

const MESSAGE_FAILURES = new Set(['message-empty', 'message-missing', 'mime-malformed']);

export async function processInboundMail(n: SesReceivedNotification, deps: InboundDeps): Promise<InboundOutcome> {
  const messageId = n.mail.messageId;
  const existing = await deps.store.getMessage(messageId);
  if (existing) return { kind: 'already-processed', record: existing };

  // Counting attempts that never finished tells a crash loop from retried outages (an
  // outage throws, and the attempt is counted as finished).
  const crashed = await deps.store.startAttempt(messageId);
  try {
    return await processOnce(n, deps, crashed);
  } finally {
    await deps.store.finishAttempt(messageId).catch(() => undefined);
  }
}

async function processOnce(n: SesReceivedNotification, deps: InboundDeps, crashed: number): Promise<InboundOutcome> {
  const messageId = n.mail.messageId;

  const location = { bucket: n.receipt.action.bucketName, key: n.receipt.action.objectKey };
  const verdicts = receiptVerdicts(n);
  const decision = decideVerdicts(verdicts, deps.verdictPolicy);
  const quarantined = decision.action === 'quarantine';
  const problems: InboundProblem[] = [];
  let parsed: ParsedMessage | undefined;
  let rawKey = location.key;

  try {
    if (quarantined) rawKey = await deps.raw.quarantine(location, messageId);
    if (decision.extractAttachments) {
      const recognise = !quarantined && crashed < deps.maxCrashedAttempts;
      if (!quarantined && !recognise) {
        problems.push({
          code: 'recognition-skipped',
          message: `${crashed} earlier attempts died before finishing (timeout or out of memory?): attachments are stored but not recognised`,
        });
      }
      const { body } = await deps.raw.open({ bucket: location.bucket, key: rawKey });
      parsed = await parseInboundMessage(body, deps.attachments(messageId, quarantined ? 'quarantine/' : ''), { ...deps.parse, recognise });
      problems.push(...parsed.problems);
    }
  } catch (error) {
    if (!(error instanceof RawMessageMissingError)) throw error;
    problems.push({ code: 'message-missing', message: error.message });
  }

  const receivedAt = n.receipt.timestamp;
  const invoices = quarantined ? [] : (parsed?.invoices ?? []);
  const records: InvoiceRecord[] = [];
  for (const [i, invoice] of invoices.entries()) {
    const attachment = parsed?.attachments.find((a) => a.index === invoice.attachmentIndex);
    if (!attachment) continue;
    const id = invoiceId(messageId, i);
    const duplicateOf = await deps.store.claimIdentity(id, invoiceIdentityKeys(invoice, attachment.sha256));
    records.push({
      ...pickInvoiceFields(invoice),
      invoiceId: id,
      messageId,
      receivedAt,
      fieldConfidence: invoice.fieldConfidence,
      sourceAttachmentKey: attachment.key,
      sourceAttachmentSha256: attachment.sha256,
      sourceFilename: attachment.filename,
      duplicateOf,
    });
  }

  let published = 0;
  for (const record of records) {
    await deps.store.createInvoice(record);
    if (await deps.store.claimPublish(record.invoiceId, deps.now(), deps.publishLeaseMs)) {
      await deps.events.publish(toEvent(record, location.bucket));
      await deps.store.markPublished(record.invoiceId, deps.now().toISOString());
      published++;
    } else if (!(await deps.store.getInvoice(record.invoiceId))?.publishedAt) {
      // Another delivery of this message is publishing right now; let SQS bring us back.
      throw new PublishInProgressError(`invoice ${record.invoiceId} is being published by another worker`);
    }
  }

  const failure = problems.find((p) => MESSAGE_FAILURES.has(p.code) && p.attachment === undefined);
  const failedReason = failure && records.length === 0 ? `${failure.code}: ${failure.message}` : null;
  const record: InboundMessageRecord = {
    messageId,
    internetMessageId: parsed?.messageId ?? n.mail.commonHeaders?.messageId ?? null,
    from: parsed?.from ?? addressOf(n.mail.commonHeaders?.from?.[0]),
    subject: parsed?.subject ?? n.mail.commonHeaders?.subject ?? null,
    receivedAt,
    source: location,
    verdicts: {
      spam: verdicts.spam ?? null,
      virus: verdicts.virus ?? null,
      spf: verdicts.spf ?? null,
      dkim: verdicts.dkim ?? null,
      dmarc: verdicts.dmarc ?? null,
      dmarcPolicy: verdicts.dmarcPolicy ?? null,
    },
    appliedVerdicts: decision.applied,
    notedVerdicts: decision.noted,
    attachments: parsed?.attachments ?? [],
    status: messageStatus({ quarantined, failedReason, invoiceCount: records.length }),
    reason: quarantined ? `quarantined by verdict ${decision.applied.join(', ')}` : failedReason,
    problems,
    invoiceIds: records.map((r) => r.invoiceId),
    rawKey,
    processedAt: deps.now().toISOString(),
  };
  await deps.store.putMessage(record);
  return { kind: 'recorded', record, published };
}

export function toEvent(record: InvoiceRecord, bucket: string): InvoiceReceivedEvent {
  return {
    type: INVOICE_RECEIVED,
    version: 1,
    invoiceId: record.invoiceId,
    messageId: record.messageId,
    receivedAt: record.receivedAt,
    invoice: pickInvoiceFields(record),
    source: { bucket, attachmentKey: record.sourceAttachmentKey, sha256: record.sourceAttachmentSha256, filename: record.sourceFilename },
    duplicateOf: record.duplicateOf,
  };
}
