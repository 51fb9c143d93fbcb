/**
 * One SES `Received` notification, start to finish: verdict policy, streaming parse and
 * recognition, records, events. Ports only; the inbound-parse function wires S3, DynamoDB
 * and SNS in, tests wire fakes or the local stack.
 *
 * Idempotency (the same S3 object, delivered again):
 * - the message record and its invoices are written together, in one transaction, before any
 *   event: no invoice ever exists without its message record;
 * - once the message record exists, a delivery only publishes what is not published yet;
 * - attachment keys, invoice ids (`<messageId>:<n>`) and identity claims are derived from the
 *   message, so a re-run after a partial failure rewrites the same items;
 * - an invoice's identity claim and its seller's IBAN history are written before the records
 *   (conditional on their versions); a delivery that finds its entry there writes nothing, and
 *   every delivery settles the standing (duplicateOf, conflicts) of the message's invoices and
 *   of the earlier records they changed, before publishing;
 * - an invoice's event is published by whoever holds its publish lease, and `publishedAt`
 *   stops any later attempt. The window between publish and `publishedAt` makes delivery
 *   at-least-once in a crash; the event's `invoiceId` lets consumers dedupe. The lease is
 *   held by the delivery (`delivery.id`, the SQS message id): its retry takes it back at once
 *   after a failure that left it held (a claim whose answer was lost, a refused publish or
 *   `publishedAt`), instead of waiting out the lease.
 *
 * Bounded: every string of the records is bounded (shared/domain/inbound-bounds.ts); a write
 * refused for its size anyway is a content problem: the record is trimmed further and written
 * with `record-too-large`, never retried as is.
 *
 * Crash loops: recognition of each attachment is bracketed in the store (RecognitionGuard);
 * an attachment that earlier attempts died in `maxCrashedAttempts` times is stored without
 * being recognised. Outages outside that bracket (reading, claims, records, events) never
 * count, and its end is retried for ~15 s so a short store outage does not count either.
 */
import { decideVerdicts, type ReceiptVerdicts, type VerdictPolicyConfig } from '../domain/inbound-verdicts.ts';
import { invoiceId, invoiceIdentityKey, messageStatus, sellerKeys } from '../domain/inbound-mail.ts';
import { boundNullable, boundProblems, RECORD_LIMITS } from '../domain/inbound-bounds.ts';
import { addressOf, authenticateSender, type Sender } from '../domain/sender-authentication.ts';
import { canonicalJson, changedStandings, deriveStanding, paymentFields, sameEntries, withEntry, type ClaimEntry, type Standing } from '../domain/invoice-standing.ts';
import { checkBankAccount, intrinsicWarnings, sameWarnings, withConflicts, type BankAccountChangedWarning } from '../domain/invoice-warnings.ts';
import type { AttachmentSink } from '../ports/attachment-sink.ts';
import { RecordTooLargeError, type InboundStore, type SellerIbans } from '../ports/inbound-store.ts';
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
import { parseInboundMessage, type ParsedMessage, type ParseOptions, type RecognitionGuard } from './parse-inbound-message.ts';

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
   * After this many attempts died recognising one attachment (timeout, out of memory: a
   * hostile attachment the budgets did not catch), it is stored without being recognised.
   */
  maxCrashedAttempts: number;
  /** Waits before each retry of noting a recognition's end (default: 0.2 … 8 s, ~15 s in all). */
  guardRetryDelaysMs?: readonly number[];
  /** How long a worker may hold an invoice's publish lease. */
  publishLeaseMs: number;
  now: () => Date;
}

export type InboundOutcome = { kind: 'already-processed' | 'recorded'; record: InboundMessageRecord; published: number };

export class ClaimContentionError extends Error {
  override name = 'ClaimContentionError';
}

/**
 * The sender from the parsed message (its From headers, SES's Authentication-Results on top of
 * it) or, when not a byte was parsed (virus quarantine), from SES's notification.
 */
function senderOf(n: SesReceivedNotification, parsed: ParsedMessage | undefined, verdicts: ReceiptVerdicts): Sender {
  const fromAddresses = parsed ? parsed.fromAddresses : (n.mail.commonHeaders?.from ?? []).map(addressOf).filter((a): a is string => a !== null);
  const notificationAuthResults = n.mail.headers?.find((h) => h.name.toLowerCase() === 'authentication-results')?.value ?? null;
  const { address, domain, authenticated } = authenticateSender({
    fromAddresses: fromAddresses.map((a) => a.slice(0, RECORD_LIMITS.headerChars)),
    verdicts,
    authenticationResults: parsed ? parsed.authenticationResults : notificationAuthResults?.slice(0, RECORD_LIMITS.authenticationResultsChars),
  });
  return { address: boundNullable(address, RECORD_LIMITS.headerChars), domain: boundNullable(domain, RECORD_LIMITS.headerChars), authenticated };
}

const CLAIM_ATTEMPTS = 25;

/**
 * Adds the invoice to its identity's claim (and, when authenticated, its IBAN to the seller's
 * history) with conditional writes, deciding again after every lost race, so concurrent
 * arrivals of one identity each see the others. A redelivery finds its entry already there
 * and writes nothing.
 */
async function claimStanding(
  deps: InboundDeps,
  input: { identityKey: string; sellers: { check: string | null; learn: string[] }; entry: ClaimEntry; iban: string | null },
): Promise<{ standing: Standing; version: number; bank: BankAccountChangedWarning | null }> {
  const { entry, sellers } = input;
  const sellerKeys = [...new Set([...(sellers.check ? [sellers.check] : []), ...sellers.learn])];
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const claim = await deps.store.readClaim(input.identityKey);
    const histories = new Map<string, SellerIbans>();
    for (const key of sellerKeys) histories.set(key, await deps.store.readSellerIbans(key));
    const bank = checkBankAccount(
      { check: sellers.check ? (histories.get(sellers.check)?.ibans ?? []) : null, learn: sellers.learn.map((k) => histories.get(k)?.ibans ?? []) },
      { invoiceId: entry.invoiceId, iban: input.iban, authenticated: entry.authenticated },
    );
    const entries = withEntry(claim.entries, entry);
    const sellerWrites = sellers.learn.flatMap((sellerKey, i) => {
      const before = histories.get(sellerKey);
      const ibans = bank.learned[i] ?? [];
      return before && canonicalJson(ibans) !== canonicalJson(before.ibans) ? [{ sellerKey, ibans, expectedVersion: before.version }] : [];
    });
    let version = claim.version;
    if (!sameEntries(entries, claim.entries) || sellerWrites.length > 0) {
      if (!(await deps.store.writeClaim({ identityKey: input.identityKey, entries, expectedVersion: claim.version }, sellerWrites))) continue;
      version = claim.version + 1;
    }
    return { standing: deriveStanding(entries, entry.invoiceId), version, bank: bank.warning };
  }
  throw new ClaimContentionError(`identity ${input.identityKey}: ${CLAIM_ATTEMPTS} concurrent writers in a row; retried later`);
}

/**
 * Writes a record's standing as of claim `version`, unless it holds that standing already
 * (a record current in content but older in version is left alone: a redelivery rewrites
 * nothing, and a stale writer still cannot overwrite it, its content being the same).
 */
async function applyStanding(record: InvoiceRecord, standing: Standing, version: number, deps: InboundDeps): Promise<void> {
  const warnings = withConflicts(record.warnings ?? [], standing.conflicts);
  if (record.duplicateOf === standing.duplicateOf && sameWarnings(warnings, record.warnings ?? [])) return;
  await deps.store.updateStanding(record.invoiceId, { duplicateOf: standing.duplicateOf, warnings, version });
}

/**
 * Brings the records of one identity up to its claim after `invoiceIds` were recorded: each
 * invoice's own record (a later arrival may have changed its standing before the record
 * existed), and the earlier records whose standing the invoice changed (the genuine invoice
 * arriving after a forged one makes it the duplicate, a conflict names both). Every update
 * is conditional on the claim version, so a stale writer never undoes a newer one; runs on
 * every delivery of the message (idempotent).
 */
async function settleStandings(invoiceIds: readonly string[], deps: InboundDeps): Promise<void> {
  for (const id of invoiceIds) {
    const record = await deps.store.getInvoice(id);
    if (!record?.identityKey) continue;
    const claim = await deps.store.readClaim(record.identityKey);
    if (!claim.entries.some((e) => e.invoiceId === id)) continue;
    if ((record.standingVersion ?? 0) < claim.version) await applyStanding(record, deriveStanding(claim.entries, id), claim.version, deps);
    const before = claim.entries.filter((e) => e.invoiceId !== id);
    for (const changed of changedStandings(before, claim.entries, id)) {
      const other = await deps.store.getInvoice(changed.invoiceId);
      // Missing: not recorded yet; its own settle will read this claim version.
      if (!other || (other.standingVersion ?? 0) >= claim.version) continue;
      await applyStanding(other, changed.standing, claim.version, deps);
    }
  }
}

const MESSAGE_FAILURES = new Set(['message-empty', 'message-missing', 'mime-malformed']);

const DEFAULT_GUARD_RETRY_DELAYS_MS = [200, 500, 1_000, 2_000, 4_000, 8_000];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The store's recognition bracket, its end retried through a short outage. */
function recognitionGuard(messageId: string, deps: InboundDeps): RecognitionGuard {
  const delays = deps.guardRetryDelaysMs ?? DEFAULT_GUARD_RETRY_DELAYS_MS;
  return {
    maxDeaths: deps.maxCrashedAttempts,
    begin: (index) => deps.store.beginRecognition(messageId, index),
    async end(index) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await deps.store.endRecognition(messageId, index);
        } catch (error) {
          const delay = delays[attempt];
          if (delay === undefined) throw error;
          await sleep(delay);
        }
      }
    },
  };
}

/** Which delivery this is (the SQS message id: the same on each of its retries). */
export interface DeliveryRef {
  id: string;
}

export async function processInboundMail(n: SesReceivedNotification, deps: InboundDeps, delivery?: DeliveryRef): Promise<InboundOutcome> {
  const existing = await deps.store.getMessage(n.mail.messageId);
  if (existing) {
    await settleStandings(existing.invoiceIds, deps);
    return { kind: 'already-processed', record: existing, published: await publishPending(existing, n.receipt.action.bucketName, deps, delivery) };
  }
  return processOnce(n, deps, delivery);
}

async function processOnce(n: SesReceivedNotification, deps: InboundDeps, delivery: DeliveryRef | undefined): Promise<InboundOutcome> {
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
      const { body } = await deps.raw.open({ bucket: location.bucket, key: rawKey });
      parsed = await parseInboundMessage(body, deps.attachments(messageId, quarantined ? 'quarantine/' : ''), {
        ...deps.parse,
        recognise: !quarantined,
        guard: recognitionGuard(messageId, deps),
      });
      problems.push(...parsed.problems);
    }
  } catch (error) {
    if (!(error instanceof RawMessageMissingError)) throw error;
    problems.push({ code: 'message-missing', message: error.message });
  }

  const receivedAt = n.receipt.timestamp;
  let invoices = quarantined ? [] : (parsed?.invoices ?? []);
  if (invoices.length > RECORD_LIMITS.invoicesPerMessage) {
    problems.push({
      code: 'too-many-invoices',
      message: `${invoices.length} invoices found; the first ${RECORD_LIMITS.invoicesPerMessage} are recorded, the rest are not`,
    });
    invoices = invoices.slice(0, RECORD_LIMITS.invoicesPerMessage);
  }
  const sender = senderOf(n, parsed, verdicts);
  const invoiceRecords: InvoiceRecord[] = [];
  for (const [i, invoice] of invoices.entries()) {
    const attachment = parsed?.attachments.find((a) => a.index === invoice.attachmentIndex);
    if (!attachment) continue;
    const id = invoiceId(messageId, i);
    const identityKey = invoiceIdentityKey(invoice, attachment.sha256);
    const claimed = await claimStanding(deps, {
      identityKey,
      sellers: sellerKeys(invoice),
      iban: invoice.iban,
      entry: { invoiceId: id, receivedAt, authenticated: sender.authenticated, sha256: attachment.sha256, payment: paymentFields(invoice) },
    });
    const warnings = withConflicts(intrinsicWarnings({ sender, recognition: invoice.warnings, bank: claimed.bank }), claimed.standing.conflicts);
    invoiceRecords.push({
      ...pickInvoiceFields(invoice),
      invoiceId: id,
      messageId,
      receivedAt,
      fieldConfidence: invoice.fieldConfidence,
      sourceAttachmentKey: attachment.key,
      sourceAttachmentSha256: attachment.sha256,
      sourceFilename: attachment.filename,
      duplicateOf: claimed.standing.duplicateOf,
      sender,
      warnings,
      identityKey,
      standingVersion: claimed.version,
    });
  }

  const failure = problems.find((p) => MESSAGE_FAILURES.has(p.code) && p.attachment === undefined);
  const failedReason = failure && invoiceRecords.length === 0 ? `${failure.code}: ${failure.message}` : null;
  const headers = n.mail.commonHeaders;
  let record: InboundMessageRecord = {
    messageId,
    internetMessageId: parsed?.messageId ?? boundNullable(headers?.messageId, RECORD_LIMITS.headerChars),
    from: parsed?.from ?? boundNullable(addressOf(headers?.from?.[0]), RECORD_LIMITS.headerChars),
    sender,
    subject: parsed?.subject ?? boundNullable(headers?.subject, RECORD_LIMITS.subjectChars),
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
    omittedAttachments: parsed?.omittedAttachments ?? 0,
    status: messageStatus({ quarantined, failedReason, invoiceCount: invoiceRecords.length }),
    reason: quarantined ? `quarantined by verdict ${decision.applied.join(', ')}` : boundNullable(failedReason, RECORD_LIMITS.problemChars),
    problems: boundProblems(problems),
    invoiceIds: invoiceRecords.map((r) => r.invoiceId),
    rawKey,
    processedAt: deps.now().toISOString(),
  };
  let written: boolean;
  try {
    written = await deps.store.recordMessage(record, invoiceRecords);
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    // Cannot happen within RECORD_LIMITS; if it does, it is content: write less, never retry as is.
    record = trimmedRecord(record, error);
    written = await deps.store.recordMessage(record, invoiceRecords.map(trimmedInvoice));
  }
  if (!written) {
    const winner = await deps.store.getMessage(messageId);
    if (winner) record = winner;
  }
  await settleStandings(record.invoiceIds, deps);
  return { kind: 'recorded', record, published: await publishPending(record, location.bucket, deps, delivery) };
}

/** The record with its lists cut to their bare minimum and a `record-too-large` problem. */
function trimmedRecord(record: InboundMessageRecord, error: RecordTooLargeError): InboundMessageRecord {
  return {
    ...record,
    subject: boundNullable(record.subject, 200),
    attachments: [],
    omittedAttachments: (record.omittedAttachments ?? 0) + record.attachments.length,
    problems: [
      ...boundProblems(record.problems, 10).map((p) => ({ ...p, message: p.message.slice(0, 200) })),
      { code: 'record-too-large', message: boundNullable(`the full record was refused (${error.message}); attachments are only counted and problems cut`, 400) ?? '' },
    ],
  };
}

function trimmedInvoice(record: InvoiceRecord): InvoiceRecord {
  const cut = (v: string | null) => boundNullable(v, 64);
  return {
    ...record,
    invoiceNumber: cut(record.invoiceNumber),
    sellerName: cut(record.sellerName),
    sellerVatId: cut(record.sellerVatId),
    buyerReference: cut(record.buyerReference),
    iban: cut(record.iban),
    totalWithVat: cut(record.totalWithVat),
    amountDue: cut(record.amountDue),
    sourceFilename: cut(record.sourceFilename) ?? '',
  };
}

/** Publishes every invoice of the message whose event is not out yet; resolves with how many it published. */
async function publishPending(record: InboundMessageRecord, bucket: string, deps: InboundDeps, delivery: DeliveryRef | undefined): Promise<number> {
  let published = 0;
  for (const id of record.invoiceIds) {
    const invoice = await deps.store.getInvoice(id);
    if (!invoice || invoice.publishedAt) continue;
    if (await deps.store.claimPublish(id, deps.now(), deps.publishLeaseMs, delivery?.id)) {
      await deps.events.publish(toEvent(invoice, bucket));
      await deps.store.markPublished(id, deps.now().toISOString());
      published++;
    } else if (!(await deps.store.getInvoice(id))?.publishedAt) {
      // Another delivery of this message is publishing right now; let SQS bring us back.
      throw new PublishInProgressError(`invoice ${id} is being published by another worker`);
    }
  }
  return published;
}

function toEvent(record: InvoiceRecord, bucket: string): InvoiceReceivedEvent {
  return {
    type: INVOICE_RECEIVED,
    version: 1,
    invoiceId: record.invoiceId,
    messageId: record.messageId,
    receivedAt: record.receivedAt,
    invoice: pickInvoiceFields(record),
    source: { bucket, attachmentKey: record.sourceAttachmentKey, sha256: record.sourceAttachmentSha256, filename: record.sourceFilename },
    duplicateOf: record.duplicateOf,
    sender: record.sender,
    warnings: record.warnings ?? [],
  };
}
