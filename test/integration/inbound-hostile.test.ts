/**
 * Hostile mail through the local stack (S3 + SNS + SQS + inbound-parse + DynamoDB Local, whose
 * item and key size limits are DynamoDB's): every one is recorded on its first receive with
 * bounded values, its genuine invoice recorded with it, nothing retried into the DLQ. Inputs
 * are generated (test/fixtures/inbound/hostile.ts).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { deliverInbound } from '../../bin/commands/simulate-inbound.ts';
import { RecordTooLargeError } from '../../shared/ports/inbound-store.ts';
import type { InboundMessageRecord } from '../../shared/schemas/inbound-records.ts';
import { foldedSubject, genuineInvoicePart, longFilenamePart, mailWith, namedParts, rawMultipartMail, rawPart, xrechnungWithNumber } from '../fixtures/inbound/hostile.ts';
import { clients, inboundStack, queueDepth, queueIdle, waitFor } from './helpers.ts';

const c = clients();
const { target, store, bucket, inboundQueue, inboundDlq } = inboundStack();
const runTag = randomUUID().slice(0, 8);

const deliver = (message: string) => deliverInbound(target, { message: Buffer.from(message) });
const recordOf = (messageId: string): Promise<InboundMessageRecord> => waitFor(() => store.getMessage(messageId), `message record ${messageId}`, 60_000);

/** The record and its genuine invoice, and the queue handled it on its first receive. */
async function expectRecordedWithInvoice(messageId: string, invoiceNumber: string): Promise<InboundMessageRecord> {
  const record = await recordOf(messageId);
  expect(record).toMatchObject({ status: 'processed', invoiceIds: [`${messageId}:1`] });
  expect(await store.getInvoice(`${messageId}:1`)).toMatchObject({ invoiceNumber, format: 'xrechnung-ubl', messageId });
  return record;
}

describe('hostile inbound mail is recorded bounded, with its genuine invoice', () => {
  it('a 600 KB folded subject', async () => {
    const number = `SUBJ-${runTag}`;
    const { messageId } = await deliver(rawMultipartMail([rawPart(await genuineInvoicePart(number))], foldedSubject(600_000)));

    const record = await expectRecordedWithInvoice(messageId, number);

    expect(record.subject?.length).toBeLessThanOrEqual(1_000);
    expect(record.subject).toMatch(/^Wort000 Wort001 .*…\[\d+ chars, sha256 [0-9a-f]{16}\]$/);
  });

  it('a 300 KB RFC 2231 file name', async () => {
    const number = `NAME-${runTag}`;
    const { messageId } = await deliver(rawMultipartMail([rawPart(await genuineInvoicePart(number)), longFilenamePart(300_000).raw]));

    const record = await expectRecordedWithInvoice(messageId, number);

    expect(record.attachments).toHaveLength(2);
    expect(record.attachments[1]?.filename).toMatch(/^ärger-ärger-.*…\[\d+ chars, sha256 [0-9a-f]{16}\]$/);
    expect(record.attachments[1]?.filename.length).toBeLessThanOrEqual(255);
  });

  it('900 named parts: the first 100 listed, the rest counted', async () => {
    const number = `PARTS-${runTag}`;
    const { messageId } = await deliver(await mailWith(namedParts(900), { genuine: number }));

    const record = await expectRecordedWithInvoice(messageId, number);

    expect(record.attachments).toHaveLength(100);
    expect(record.omittedAttachments).toBe(801);
    expect(record.problems).toEqual([expect.objectContaining({ code: 'too-many-attachments', message: expect.stringContaining('801 attachments past the first 100') })]);
  });

  it('a 3,000-digit invoice number: recorded cut, its identity key hashed', async () => {
    const number = `NUM-${runTag}`;
    const long = `${runTag.replace(/\D/g, '1')}${'7'.repeat(3000)}`;
    const { messageId } = await deliver(await mailWith([{ contentType: 'application/xml', filename: 'long.xml', body: await xrechnungWithNumber(long) }], { genuine: number }));

    const record = await recordOf(messageId);

    expect(record).toMatchObject({ status: 'processed', invoiceIds: [`${messageId}:1`, `${messageId}:2`] });
    expect(await store.getInvoice(`${messageId}:1`)).toMatchObject({ invoiceNumber: number });
    const cut = await store.getInvoice(`${messageId}:2`);
    expect(cut?.invoiceNumber?.length).toBeLessThanOrEqual(200);
    expect(cut?.invoiceNumber).toMatch(/^\d+…\[\d{4} chars, sha256 [0-9a-f]{16}\]$/);
    expect(cut?.duplicateOf).toBeNull();
  });

  it('stores active content (HTML, SVG) as a download with an inert type', async () => {
    const { messageId } = await deliver(
      await mailWith(
        [
          { contentType: 'text/html', filename: 'rechnung.html', body: '<script>alert(1)</script>' },
          { contentType: 'image/svg+xml', filename: 'logo.svg', body: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' },
        ],
        { genuine: `HTML-${runTag}` },
      ),
    );

    const record = await recordOf(messageId);

    const heads = await Promise.all(record.attachments.map((a) => c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: String(a.key) }))));
    expect(heads.map((h) => [h.ContentType, h.ContentDisposition])).toEqual([
      ['application/octet-stream', `attachment; filename="xrechnung.xml"; filename*=UTF-8''xrechnung.xml`],
      ['application/octet-stream', `attachment; filename="rechnung.html"; filename*=UTF-8''rechnung.html`],
      ['application/octet-stream', `attachment; filename="logo.svg"; filename*=UTF-8''logo.svg`],
    ]);
    // The record keeps what the sender said.
    expect(record.attachments.map((a) => a.contentType)).toEqual(['application/xml', 'text/html', 'image/svg+xml']);
  });

  it('none of them was retried or dead-lettered', async () => {
    await queueIdle(inboundQueue.url);
    expect(await queueDepth(inboundQueue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect((await queueDepth(inboundDlq.url)).visible).toBe(0);
  });
});

describe('DynamoDB refusing a record for its size', () => {
  it('is reported as RecordTooLargeError, and nothing of the transaction is written', async () => {
    // Prepare: a record past DynamoDB's 400 KB item limit, as no bounded record can be.
    const messageId = `too-large-${runTag}`;
    const record: InboundMessageRecord = {
      messageId,
      internetMessageId: null,
      from: null,
      subject: 'x'.repeat(450_000),
      receivedAt: '2024-03-15T10:00:00.000Z',
      source: { bucket, key: `inbound/${messageId}` },
      verdicts: { spam: null, virus: null, spf: null, dkim: null, dmarc: null, dmarcPolicy: null },
      appliedVerdicts: [],
      notedVerdicts: [],
      attachments: [],
      omittedAttachments: 0,
      status: 'processed',
      reason: null,
      problems: [],
      invoiceIds: [],
      rawKey: `inbound/${messageId}`,
      processedAt: '2024-03-15T10:00:01.000Z',
    };

    // Act / Assess
    await expect(store.recordMessage(record, [])).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(await store.getMessage(messageId)).toBeUndefined();
    expect(await store.recordMessage({ ...record, subject: 'short' }, [])).toBe(true);
    expect(await store.recordMessage({ ...record, subject: 'again' }, [])).toBe(false);
    expect(await store.getMessage(messageId)).toMatchObject({ subject: 'short' });
  });
});
