/**
 * Inbound mail on the local stack, delivered the way an SES receipt rule does: the raw message
 * into the inbound bucket, the `Received` notification on the inbound mail topic (SNS -> SQS
 * -> inbound-parse). What comes out is read back with real SDK clients: message and invoice
 * records in DynamoDB, attachments in S3, `invoice.received` on the invoice events topic (seen
 * through an SQS queue this test subscribes).
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { deliverInbound, type InboundDelivery } from '../../bin/commands/simulate-inbound.ts';
import type { InboundMessageRecord, InvoiceReceivedEvent } from '../../shared/schemas/inbound-records.ts';
import { EXPECTED, renderSampleInvoice, SAMPLE_INVOICE } from '../fixtures/invoices/sample-e-invoice.ts';
import { facturXMail, readFixture } from '../fixtures/inbound/mails.ts';
import { buildMail } from '../fixtures/inbound/mime.ts';
import { cli, clients, drain, inboundStack, localInfo, queue, queueDepth, queueIdle, ROOT, subscribedQueue, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const { target, store, bucket, inboundQueue, inboundDlq } = inboundStack(info);
const invoiceTopicArn = info.topics.InvoiceEventsTopic?.arn ?? 'missing';

// XRECHNUNG_CORPUS_DIR: as in test/unit/invoice/xrechnung-corpus.test.ts.
const XRECHNUNG_CORPUS = process.env.XRECHNUNG_CORPUS_DIR ?? join(ROOT, '..', 'shared', 'corpus', 'xrechnung-testsuite');
const CORPUS_INVOICE = join(XRECHNUNG_CORPUS, 'business-cases', 'standard', '01.01a-INVOICE_ubl.xml');

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const runTag = randomUUID().slice(0, 8);

/** The sample invoice under a number of this run's own, so identity claims of other runs never match. */
function sampleWithNumber(invoiceNumber: string) {
  const invoice = structuredClone(SAMPLE_INVOICE);
  invoice['ubl:Invoice']['cbc:ID'] = invoiceNumber;
  return invoice;
}

async function deliver(message: string | Uint8Array, options: Omit<InboundDelivery, 'message'> = {}) {
  return deliverInbound(target, { message: typeof message === 'string' ? Buffer.from(message) : message, ...options });
}

const recordOf = (messageId: string): Promise<InboundMessageRecord> => waitFor(() => store.getMessage(messageId), `message record ${messageId}`);
/** The invoice once its event is out: the records are written first, `publishedAt` after the publish. */
const publishedInvoice = (invoiceId: string) => waitFor(async () => ((await store.getInvoice(invoiceId))?.publishedAt ? store.getInvoice(invoiceId) : undefined), `published invoice ${invoiceId}`);

// ---- invoice.received, as a downstream subscriber sees it ----
let eventsQueueUrl = '';
const seen: InvoiceReceivedEvent[] = [];
const seenAttributes = new Map<string, Record<string, string>>();

/** Everything published so far (raw delivery: the body is the event). */
async function events(): Promise<InvoiceReceivedEvent[]> {
  for (const m of await drain(eventsQueueUrl, c.sqs)) {
    const event = JSON.parse(String(m.Body)) as InvoiceReceivedEvent;
    seen.push(event);
    seenAttributes.set(event.invoiceId, Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, String(v.StringValue)])));
  }
  return seen;
}

const eventsFor = async (invoiceId: string) => (await events()).filter((e) => e.invoiceId === invoiceId);
const eventFor = (invoiceId: string) => waitFor(async () => (await eventsFor(invoiceId))[0], `invoice.received for ${invoiceId}`);

async function attachmentKeys(messageId: string, prefix = ''): Promise<string[]> {
  const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}attachments/${messageId}/` }));
  return (listed.Contents ?? []).map((o) => String(o.Key)).sort();
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

let eventsQueue: Awaited<ReturnType<typeof subscribedQueue>> | undefined;

beforeAll(async () => {
  eventsQueue = await subscribedQueue(invoiceTopicArn, `it-invoice-events-${runTag}`);
  eventsQueueUrl = eventsQueue.url;
});

afterAll(async () => {
  await eventsQueue?.remove();
});

describe('inbound mail: SES receipt -> S3 + SNS -> SQS -> inbound-parse', () => {
  const facturXNumber = `FX-IT-${runTag}`;
  let facturXPdf: Uint8Array;
  let facturXMessageId = '';

  it('records a Factur-X mail sent through `mailbridge simulate inbound`: message, invoice, attachments in S3, invoice.received', async () => {
    // Prepare: a supplier's mail with a Factur-X PDF rendered by @e-invoice-eu/core, as an .eml file.
    facturXPdf = await renderSampleInvoice('Factur-X-EN16931', sampleWithNumber(facturXNumber));
    const file = join(mkdtempSync(join(tmpdir(), 'mailbridge-inbound-')), 'factur-x.eml');
    writeFileSync(file, await facturXMail({ pdf: facturXPdf, subject: `Rechnung ${facturXNumber}`, messageId: `<${facturXNumber}@beispiel-software.example>` }));

    // Act
    const simulated = cli(['simulate', 'inbound', file]);

    // Assess: the CLI's own account of what it did.
    expect(simulated.stderr).toBe('');
    expect(simulated.code).toBe(0);
    const delivered = JSON.parse(simulated.stdout);
    expect(delivered).toMatchObject({ via: 'sns', bucket, key: `inbound/${delivered.messageId}`, verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' } });
    facturXMessageId = delivered.messageId;

    // The message record.
    const record = await recordOf(facturXMessageId);
    const invoiceId = `${facturXMessageId}:1`;
    expect(record).toMatchObject({
      messageId: facturXMessageId,
      status: 'processed',
      reason: null,
      from: 'billing@beispiel-software.example',
      subject: `Rechnung ${facturXNumber}`,
      internetMessageId: `<${facturXNumber}@beispiel-software.example>`,
      source: { bucket, key: `inbound/${facturXMessageId}` },
      rawKey: `inbound/${facturXMessageId}`,
      verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS', dmarcPolicy: null },
      appliedVerdicts: [],
      invoiceIds: [invoiceId],
      problems: [],
    });

    // Attachments: decoded bytes in S3 under attachments/<messageId>/, size and sha256 of those bytes.
    const pdfKey = `attachments/${facturXMessageId}/1-Rechnung_FX-2024-0815.pdf`;
    expect(record.attachments).toEqual([
      { index: 1, filename: 'Rechnung FX-2024-0815.pdf', contentType: 'application/pdf', size: facturXPdf.length, sha256: sha256(facturXPdf), key: pdfKey, depth: 0 },
      expect.objectContaining({ index: 2, filename: 'logo.png', contentType: 'image/png', size: 12, key: `attachments/${facturXMessageId}/2-logo.png` }),
    ]);
    expect(await attachmentKeys(facturXMessageId)).toEqual([pdfKey, `attachments/${facturXMessageId}/2-logo.png`]);
    const storedPdf = await objectBytes(pdfKey);
    expect(storedPdf.length).toBe(facturXPdf.length);
    expect(sha256(storedPdf)).toBe(sha256(facturXPdf));
    const storedLogo = await objectBytes(`attachments/${facturXMessageId}/2-logo.png`);
    expect(sha256(storedLogo)).toBe(record.attachments[1]?.sha256);

    // The invoice record: EN 16931 fields from the CII embedded in the PDF/A-3.
    const invoice = await publishedInvoice(invoiceId);
    expect(invoice).toMatchObject({
      ...EXPECTED,
      invoiceNumber: facturXNumber,
      format: 'factur-x',
      documentType: 'invoice',
      method: 'embedded-xml',
      confidence: 1,
      messageId: facturXMessageId,
      sourceAttachmentKey: pdfKey,
      sourceAttachmentSha256: sha256(facturXPdf),
      sourceFilename: 'Rechnung FX-2024-0815.pdf',
      duplicateOf: null,
      publishedAt: expect.any(String),
    });

    // invoice.received on the invoice events topic.
    const event = await eventFor(invoiceId);
    expect(event).toMatchObject({
      type: 'invoice.received',
      version: 1,
      invoiceId,
      messageId: facturXMessageId,
      invoice: { ...EXPECTED, invoiceNumber: facturXNumber, format: 'factur-x', documentType: 'invoice', method: 'embedded-xml', confidence: 1 },
      source: { bucket, attachmentKey: pdfKey, sha256: sha256(facturXPdf), filename: 'Rechnung FX-2024-0815.pdf' },
      duplicateOf: null,
    });
    expect(seenAttributes.get(invoiceId)).toEqual({ type: 'invoice.received', format: 'factur-x', duplicate: 'false', warnings: '["none"]' });

    // And `mailbridge invoices list --json` shows it.
    const listed = cli(['invoices', 'list', '--json', '--limit', '50']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ invoiceId, invoiceNumber: facturXNumber, totalWithVat: '1190.00', format: 'factur-x' }));
  });

  it('records an XRechnung (UBL) from the KoSIT test suite, found by its content under a name and type that say nothing', async () => {
    // Prepare: the corpus invoice when ../shared is beside the clone, else the generated XRechnung.
    const fromCorpus = existsSync(CORPUS_INVOICE);
    if (!fromCorpus) console.warn(`XRechnung corpus not found at ${XRECHNUNG_CORPUS}: using the generated XRechnung fixture instead`);
    const fixtureNumber = `XR-IT-${runTag}`;
    const xml = fromCorpus ? readFileSync(CORPUS_INVOICE) : await renderSampleInvoice('XRECHNUNG-UBL', sampleWithNumber(fixtureNumber));
    const expected = fromCorpus
      ? {
          invoiceNumber: '123456XX',
          issueDate: '2016-04-04',
          dueDate: null,
          currency: 'EUR',
          totalWithVat: '336.9',
          amountDue: '336.9',
          sellerName: '[Seller name]',
          sellerVatId: 'DE123456789',
          buyerReference: '04011000-12345-03',
          iban: 'DE79000000001234567890',
        }
      : { ...EXPECTED, invoiceNumber: fixtureNumber };
    const mail = buildMail({ subject: 'XRechnung', messageId: `<xr-${runTag}@portal.example>`, parts: [{ contentType: 'application/octet-stream', filename: 'export-0001.dat', body: xml }] });

    // Act
    const { messageId } = await deliver(mail);

    // Assess
    const record = await recordOf(messageId);
    expect(record).toMatchObject({ status: 'processed', reason: null, invoiceIds: [`${messageId}:1`], problems: [] });
    expect(record.attachments).toEqual([
      { index: 1, filename: 'export-0001.dat', contentType: 'application/octet-stream', size: xml.length, sha256: sha256(xml), key: `attachments/${messageId}/1-export-0001.dat`, depth: 0 },
    ]);
    expect(sha256(await objectBytes(`attachments/${messageId}/1-export-0001.dat`))).toBe(sha256(xml));
    const fields = { ...expected, format: 'xrechnung-ubl', documentType: 'invoice', method: 'structured-xml', confidence: 1 };
    expect(await store.getInvoice(`${messageId}:1`)).toMatchObject({ ...fields, duplicateOf: null });
    expect(await eventFor(`${messageId}:1`)).toMatchObject({ invoice: fields, duplicateOf: null });
  });

  it('processes the same S3 object delivered twice once: same records, no second event', async () => {
    // Prepare: a message processed once.
    const pdf = await renderSampleInvoice('Factur-X-EN16931', sampleWithNumber(`FX-TWICE-${runTag}`));
    const mail = await facturXMail({ pdf, messageId: `<twice-${runTag}@beispiel-software.example>` });
    const first = await deliver(mail);
    const before = await recordOf(first.messageId);
    await eventFor(`${first.messageId}:1`);
    const invoiceBefore = await publishedInvoice(`${first.messageId}:1`);

    // Act: SES (or SNS, or SQS) delivers the notification for the same object again.
    await deliver(mail, { messageId: first.messageId, upload: false });
    await queueIdle(inboundQueue.url);

    // Assess
    expect(await store.getMessage(first.messageId)).toEqual(before);
    expect(await store.getInvoice(`${first.messageId}:1`)).toEqual(invoiceBefore);
    expect(await store.getInvoice(`${first.messageId}:2`)).toBeUndefined();
    expect(await attachmentKeys(first.messageId)).toHaveLength(2);
    expect(await eventsFor(`${first.messageId}:1`)).toHaveLength(1);
    expect((await events()).filter((e) => e.messageId === first.messageId)).toHaveLength(1);
  });

  it('flags the same invoice arriving in a second message as a duplicate of the first', async () => {
    // Prepare: the first test recorded the Factur-X invoice; the supplier's portal sends the same
    // invoice (seller VAT id + number) again, this time as XRechnung XML: other bytes, same invoice.
    expect(facturXMessageId).not.toBe('');
    const xml = await renderSampleInvoice('XRECHNUNG-UBL', sampleWithNumber(facturXNumber));

    // Act
    const { messageId } = await deliver(buildMail({ subject: 'Erinnerung', messageId: `<reminder-${runTag}@portal.example>`, parts: [{ contentType: 'application/xml', filename: 'xrechnung.xml', body: xml }] }));

    // Assess: recorded and published, but marked as the earlier invoice's duplicate.
    const record = await recordOf(messageId);
    expect(record).toMatchObject({ status: 'processed', invoiceIds: [`${messageId}:1`] });
    expect(await store.getInvoice(`${messageId}:1`)).toMatchObject({
      invoiceNumber: facturXNumber,
      format: 'xrechnung-ubl',
      sourceAttachmentSha256: sha256(xml),
      duplicateOf: `${facturXMessageId}:1`,
    });
    expect(await store.getInvoice(`${facturXMessageId}:1`)).toMatchObject({ duplicateOf: null });
    expect(await eventFor(`${messageId}:1`)).toMatchObject({ duplicateOf: `${facturXMessageId}:1` });
    expect(seenAttributes.get(`${messageId}:1`)).toMatchObject({ duplicate: 'true' });
  });

  it('quarantines a virus FAIL untouched: raw moved to quarantine/, no attachment, no invoice, no event', async () => {
    // Prepare
    const pdf = await renderSampleInvoice('Factur-X-EN16931', sampleWithNumber(`FX-VIRUS-${runTag}`));

    // Act
    const { messageId } = await deliver(await facturXMail({ pdf, messageId: `<virus-${runTag}@beispiel-software.example>` }), { verdicts: { virus: 'FAIL' } });

    // Assess
    const record = await recordOf(messageId);
    expect(record).toMatchObject({
      status: 'quarantined',
      reason: 'quarantined by verdict virus:FAIL',
      verdicts: { virus: 'FAIL', spam: 'PASS' },
      appliedVerdicts: ['virus:FAIL'],
      attachments: [],
      invoiceIds: [],
      rawKey: `quarantine/${messageId}`,
      // From SES's commonHeaders: not a byte of the message was parsed.
      from: 'billing@beispiel-software.example',
    });
    const raw = await c.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `inbound/${messageId}` }));
    expect(raw.KeyCount ?? 0).toBe(0);
    expect((await objectBytes(`quarantine/${messageId}`)).length).toBeGreaterThan(pdf.length);
    expect(await attachmentKeys(messageId)).toEqual([]);
    expect(await attachmentKeys(messageId, 'quarantine/')).toEqual([]);
    expect(await store.getInvoice(`${messageId}:1`)).toBeUndefined();
    await queueIdle(inboundQueue.url);
    expect((await events()).filter((e) => e.messageId === messageId)).toEqual([]);
  });

  it('records empty and malformed mail with a reason, without retries, and the queue keeps flowing', async () => {
    // Prepare
    const dlqBefore = await queueDepth(inboundDlq.url);
    const truncated = (await facturXMail({ pdf: facturXPdf })).slice(0, 3000);

    // Act: an empty object, hand-broken MIME, a message cut off mid-attachment, then a good mail behind them.
    const empty = await deliver(new Uint8Array(0));
    const broken = await deliver(readFixture('broken-mime.eml'));
    const cut = await deliver(truncated);
    const good = await deliver(buildMail({ subject: 'XRechnung', messageId: `<after-${runTag}@portal.example>`, parts: [{ contentType: 'application/xml', filename: 'x.xml', body: await renderSampleInvoice('XRECHNUNG-CII', sampleWithNumber(`XC-IT-${runTag}`)) }] }));

    // Assess
    expect(await recordOf(empty.messageId)).toMatchObject({ status: 'failed', reason: 'message-empty: the message has no bytes', attachments: [], invoiceIds: [] });
    const brokenRecord = await recordOf(broken.messageId);
    expect(brokenRecord).toMatchObject({ status: 'no-invoice', invoiceIds: [] });
    expect(brokenRecord.problems).toEqual([
      expect.objectContaining({ code: 'pdf-unreadable', attachment: 1, message: expect.stringContaining('rechnung.pdf') }),
      expect.objectContaining({ code: 'xml-invalid', attachment: 2, message: expect.stringContaining('not well-formed') }),
    ]);
    const cutRecord = await recordOf(cut.messageId);
    expect(cutRecord).toMatchObject({ status: 'no-invoice', invoiceIds: [] });
    expect(cutRecord.problems.map((p) => p.code)).toContain('pdf-unreadable');
    expect(await recordOf(good.messageId)).toMatchObject({ status: 'processed', invoiceIds: [`${good.messageId}:1`] });
    expect(await store.getInvoice(`${good.messageId}:1`)).toMatchObject({ format: 'xrechnung-cii', invoiceNumber: `XC-IT-${runTag}` });

    // Each was handled on its first receive: nothing waits for a retry, nothing went to the DLQ.
    await queueIdle(inboundQueue.url);
    expect(await queueDepth(inboundQueue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(inboundDlq.url)).toEqual(dlqBefore);
  });

  it('sends an unreadable notification to the DLQ with its reason and goes on with the next one', async () => {
    // Prepare
    await drain(inboundDlq.url);
    const pdf = await renderSampleInvoice('Factur-X-EN16931', sampleWithNumber(`FX-NEXT-${runTag}`));

    // Act: a body that is no SES notification, straight on the queue, then a real delivery.
    await c.sqs.send(new SendMessageCommand({ QueueUrl: inboundQueue.url, MessageBody: '{"notificationType":"Received","receipt":{}}' }));
    const next = await deliver(await facturXMail({ pdf, messageId: `<next-${runTag}@beispiel-software.example>` }));

    // Assess
    expect(await recordOf(next.messageId)).toMatchObject({ status: 'processed' });
    const dead = await waitFor(async () => {
      const messages = await drain(inboundDlq.url);
      return messages.length > 0 ? messages : undefined;
    }, 'the malformed notification in the DLQ');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.Body).toBe('{"notificationType":"Received","receipt":{}}');
    expect(dead[0]?.MessageAttributes?.['mailbridge.error']?.StringValue).toMatch(/receipt/);
    await queueIdle(inboundQueue.url);
  });
});
