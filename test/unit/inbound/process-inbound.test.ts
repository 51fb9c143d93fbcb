/**
 * One Received notification through the whole inbound pipeline (policy, parse, records,
 * events) on in-memory adapters: idempotency, duplicates, quarantine, broken input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSesReceivedBody, type SesReceivedNotification } from '../../../shared/schemas/ses-receipt.ts';
import { invoiceReceivedEventSchema } from '../../../shared/schemas/inbound-records.ts';
import { ClaimContentionError, processInboundMail, PublishInProgressError } from '../../../shared/services/process-inbound-mail.ts';
import { EXPECTED } from '../../fixtures/invoices/sample-e-invoice.ts';
import { BUCKET, memoryDeps } from '../../fixtures/inbound/fakes.ts';
import { facturXMail, forwardedInvoiceMail, readFixture, truncatedPdfMail, ublMail } from '../../fixtures/inbound/mails.ts';
import { mailWith, namedParts, pdfEmbeddedFileBomb } from '../../fixtures/inbound/hostile.ts';
import * as z from 'zod/mini';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const alert = JSON.parse(readFileSync(join(ROOT, 'events', 'ses', 'receiving_s3_alert.json'), 'utf8'));

function notification(messageId: string, receipt: Record<string, unknown> = {}): SesReceivedNotification {
  const n = structuredClone(alert);
  n.mail.messageId = messageId;
  n.receipt.action.bucketName = BUCKET;
  n.receipt.action.objectKey = `inbound/${messageId}`;
  Object.assign(n.receipt, receipt);
  return parseSesReceivedBody(JSON.stringify(n));
}

describe('inbound pipeline: records and events', () => {
  it('records a Factur-X mail: message, attachments in S3, one invoice, one event', async () => {
    // Prepare
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-fx', await facturXMail());

    // Act
    const outcome = await processInboundMail(notification('msg-fx'), deps);

    // Assess
    expect(outcome).toMatchObject({ kind: 'recorded', published: 1 });
    const record = store.messages.get('msg-fx');
    expect(record).toMatchObject({
      status: 'processed',
      reason: null,
      from: 'billing@beispiel-software.example',
      subject: 'Rechnung FX-2024-0815',
      internetMessageId: '<fx-2024-0815@beispiel-software.example>',
      receivedAt: '2015-09-11T20:32:33.936Z',
      verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: null, dmarcPolicy: null },
      appliedVerdicts: [],
      invoiceIds: ['msg-fx:1'],
      rawKey: 'inbound/msg-fx',
      problems: [],
    });
    expect(record?.attachments.map((a) => a.key)).toEqual(['attachments/msg-fx/1-Rechnung_FX-2024-0815.pdf', 'attachments/msg-fx/2-logo.png']);
    expect(objects.objects.get(`${BUCKET}/attachments/msg-fx/1-Rechnung_FX-2024-0815.pdf`)?.length).toBe(record?.attachments[0]?.size);
    expect(store.invoices.get('msg-fx:1')).toMatchObject({
      ...EXPECTED,
      format: 'factur-x',
      method: 'embedded-xml',
      confidence: 1,
      sourceAttachmentKey: 'attachments/msg-fx/1-Rechnung_FX-2024-0815.pdf',
      duplicateOf: null,
      publishedAt: '2024-03-15T10:00:05.000Z',
    });
    expect(events.published).toHaveLength(1);
    const event = events.published[0];
    expect(z.safeParse(invoiceReceivedEventSchema, event).success).toBe(true);
    expect(event).toMatchObject({ type: 'invoice.received', invoiceId: 'msg-fx:1', messageId: 'msg-fx', invoice: { invoiceNumber: EXPECTED.invoiceNumber, totalWithVat: '1190.00' }, source: { bucket: BUCKET }, duplicateOf: null });
  });

  it('processing the same S3 object twice yields the same records and no second event', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-twice', await ublMail());
    await processInboundMail(notification('msg-twice'), deps);
    const before = structuredClone([...store.messages.values(), ...store.invoices.values()]);

    const again = await processInboundMail(notification('msg-twice'), deps);

    expect(again.kind).toBe('already-processed');
    expect([...store.messages.values(), ...store.invoices.values()]).toEqual(before);
    expect(events.published).toHaveLength(1);
  });

  it('a failed records write leaves nothing behind; the retry records and publishes once', async () => {
    // Prepare: the first attempt's one records write fails (DynamoDB unavailable).
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-crash', await ublMail());
    const recordMessage = store.recordMessage.bind(store);
    store.recordMessage = async () => {
      throw new Error('DynamoDB unavailable');
    };
    await expect(processInboundMail(notification('msg-crash'), deps)).rejects.toThrow('DynamoDB unavailable');
    expect(store.invoices.size).toBe(0);
    store.recordMessage = recordMessage;

    // Act
    const retry = await processInboundMail(notification('msg-crash'), deps);

    // Assess
    expect(retry).toMatchObject({ kind: 'recorded', published: 1, record: { status: 'processed', invoiceIds: ['msg-crash:1'] } });
    expect(events.published.map((e) => e.invoiceId)).toEqual(['msg-crash:1']);
  });

  it('a delivery after the records were written but not published publishes, once', async () => {
    // Prepare: the first attempt recorded message + invoice, then SNS failed.
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-late', await ublMail());
    events.failNext = true;
    await expect(processInboundMail(notification('msg-late'), deps)).rejects.toThrow('SNS unavailable');
    expect(store.messages.get('msg-late')?.invoiceIds).toEqual(['msg-late:1']);

    // Act: SQS redelivers after the publish lease ran out.
    const later = { ...deps, now: () => new Date('2024-03-15T10:10:00.000Z') };
    const again = await processInboundMail(notification('msg-late'), later);
    const third = await processInboundMail(notification('msg-late'), later);

    // Assess
    expect(again).toMatchObject({ kind: 'already-processed', published: 1 });
    expect(third).toMatchObject({ kind: 'already-processed', published: 0 });
    expect(events.published.map((e) => e.invoiceId)).toEqual(['msg-late:1']);
  });

  it('an SNS failure is thrown (retryable), is not taken for a crash, and the retry publishes exactly once', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-sns', await ublMail());
    events.failNext = true;

    await expect(processInboundMail(notification('msg-sns'), deps)).rejects.toThrow('SNS unavailable');
    // The failed attempt's lease is still running: a retry inside it waits for SQS to come back.
    await expect(processInboundMail(notification('msg-sns'), deps)).rejects.toThrow(PublishInProgressError);
    const later = { ...deps, now: () => new Date('2024-03-15T10:10:00.000Z') };
    await processInboundMail(notification('msg-sns'), later);

    expect(events.published).toHaveLength(1);
    expect(store.messages.get('msg-sns')).toMatchObject({ status: 'processed', problems: [] });
  });

  it('a retry of the delivery that failed holding the publish lease takes it back at once; another delivery waits', async () => {
    // Prepare: delivery sqs-1 records the mail, takes the lease, then SNS fails.
    const { deps, objects, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-held', await ublMail());
    events.failNext = true;
    await expect(processInboundMail(notification('msg-held'), deps, { id: 'sqs-1' })).rejects.toThrow('SNS unavailable');

    // Act / Assess: the duplicate notification (another SQS message) meets the live lease; the
    // retry of sqs-1, within the lease, publishes; nothing is published twice afterwards.
    await expect(processInboundMail(notification('msg-held'), deps, { id: 'sqs-2' })).rejects.toThrow(PublishInProgressError);
    await expect(processInboundMail(notification('msg-held'), deps, { id: 'sqs-1' })).resolves.toMatchObject({ kind: 'already-processed', published: 1 });
    await expect(processInboundMail(notification('msg-held'), deps, { id: 'sqs-2' })).resolves.toMatchObject({ kind: 'already-processed', published: 0 });
    expect(events.published.map((e) => e.invoiceId)).toEqual(['msg-held:1']);
  });

  it('flags the same invoice arriving in another message as a duplicate, by seller + number and by sha256', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-a', await ublMail());
    objects.put(BUCKET, 'inbound/msg-b', await forwardedInvoiceMail());
    await processInboundMail(notification('msg-a'), deps);

    await processInboundMail(notification('msg-b'), deps);

    expect(store.invoices.get('msg-a:1')?.duplicateOf).toBeNull();
    expect(store.invoices.get('msg-b:1')).toMatchObject({ duplicateOf: 'msg-a:1', sourceAttachmentKey: 'attachments/msg-b/2-xrechnung.xml' });
    expect(events.published.map((e) => [e.invoiceId, e.duplicateOf])).toEqual([
      ['msg-a:1', null],
      ['msg-b:1', 'msg-a:1'],
    ]);
  });

  it('an identity claim that keeps losing to other writers is a retryable error: nothing recorded, the retry records once', async () => {
    // Prepare: every claim write loses a race (another writer always moved the version first).
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-busy', await ublMail());
    const writeClaim = store.writeClaim.bind(store);
    store.writeClaim = async () => false;

    // Act
    const first = processInboundMail(notification('msg-busy'), deps);

    // Assess
    await expect(first).rejects.toThrow(ClaimContentionError);
    expect(store.messages.has('msg-busy')).toBe(false);
    expect(events.published).toEqual([]);

    // Act: the writers are gone; SQS delivers again.
    store.writeClaim = writeClaim;
    await processInboundMail(notification('msg-busy'), deps);

    // Assess
    expect(store.invoices.get('msg-busy:1')).toMatchObject({ duplicateOf: null, standingVersion: 1 });
    expect(events.published.map((e) => e.invoiceId)).toEqual(['msg-busy:1']);
  });
});

describe('inbound pipeline: verdicts', () => {
  it('a virus is quarantined untouched: raw moved to quarantine/, nothing extracted, no invoice', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-virus', await facturXMail());

    await processInboundMail(notification('msg-virus', { virusVerdict: { status: 'FAIL' } }), deps);

    expect(store.messages.get('msg-virus')).toMatchObject({
      status: 'quarantined',
      reason: 'quarantined by verdict virus:FAIL',
      appliedVerdicts: ['virus:FAIL'],
      attachments: [],
      invoiceIds: [],
      rawKey: 'quarantine/msg-virus',
      from: 'sender@example.com',
      subject: 'Example subject',
    });
    expect([...objects.objects.keys()]).toEqual([`${BUCKET}/quarantine/msg-virus`]);
    expect(events.published).toEqual([]);
  });

  it('spam is quarantined with its attachments listed under quarantine/, and no invoice', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-spam', await facturXMail());

    await processInboundMail(notification('msg-spam', { spamVerdict: { status: 'FAIL' }, dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'reject' }), deps);

    const record = store.messages.get('msg-spam');
    expect(record).toMatchObject({ status: 'quarantined', appliedVerdicts: ['spam:FAIL', 'dmarc:FAIL/reject'], invoiceIds: [] });
    expect(record?.attachments.map((a) => a.key)).toEqual(['quarantine/attachments/msg-spam/1-Rechnung_FX-2024-0815.pdf', 'quarantine/attachments/msg-spam/2-logo.png']);
    expect(store.invoices.size).toBe(0);
    expect(events.published).toEqual([]);
  });
});

describe('inbound pipeline: broken input is recorded, not retried', () => {
  it('a missing S3 object is failed with a reason', async () => {
    const { deps, store } = memoryDeps();

    const outcome = await processInboundMail(notification('msg-gone'), deps);

    expect(outcome.record).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^message-missing: .*inbound\/msg-gone does not exist/) });
    expect(store.messages.has('msg-gone')).toBe(true);
  });

  it('an empty message is failed with a reason', async () => {
    const { deps, objects } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-empty', '');

    const outcome = await processInboundMail(notification('msg-empty'), deps);

    expect(outcome.record).toMatchObject({ status: 'failed', reason: 'message-empty: the message has no bytes' });
  });

  it('a truncated PDF is no-invoice, with the problem on its attachment', async () => {
    const { deps, objects } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-trunc', truncatedPdfMail());

    const outcome = await processInboundMail(notification('msg-trunc'), deps);

    expect(outcome.record).toMatchObject({ status: 'no-invoice', reason: null, problems: [{ code: 'pdf-unreadable', attachment: 1 }] });
  });

  it('broken MIME is no-invoice with one problem per broken part', async () => {
    const { deps, objects } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-broken', readFixture('broken-mime.eml'));

    const outcome = await processInboundMail(notification('msg-broken'), deps);

    expect(outcome.record.status).toBe('no-invoice');
    expect(outcome.record.problems.map((p) => p.code)).toEqual(['pdf-unreadable', 'xml-invalid']);
    expect(outcome.record.attachments).toHaveLength(3);
  });

  it('MIME the parser gives up on, with no invoice out of it, is failed: nobody can vouch it holds none', async () => {
    // Prepare: 1,100 parts, past mailsplit's 1,000-node limit.
    const { deps, objects } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-mime', await mailWith(namedParts(1_100), { genuine: false }));

    const outcome = await processInboundMail(notification('msg-mime'), deps);

    expect(outcome.record).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^mime-malformed: message: MIME parsing stopped: Max allowed child nodes exceeded/), invoiceIds: [] });
  });

  it('MIME the parser gives up on after an invoice: processed, the invoice recorded, the problem noted', async () => {
    const { deps, objects } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-mime-inv', await mailWith(namedParts(1_100)));

    const outcome = await processInboundMail(notification('msg-mime-inv'), deps);

    expect(outcome.record).toMatchObject({ status: 'processed', reason: null, invoiceIds: ['msg-mime-inv:1'], problems: [{ code: 'mime-malformed' }] });
  });

  it('an attachment two attempts died recognising is stored unrecognised; the others are still recognised', async () => {
    // Prepare: two attempts started recognising attachment 1 and never ended (timeout, out of memory).
    const { deps, objects, store } = memoryDeps({ maxCrashedAttempts: 2 });
    objects.put(BUCKET, 'inbound/msg-loop', await mailWith([{ contentType: 'application/pdf', filename: 'bomb.pdf', body: pdfEmbeddedFileBomb(1024) }]));
    await store.beginRecognition('msg-loop', 2);
    await store.beginRecognition('msg-loop', 2);

    // Act
    const outcome = await processInboundMail(notification('msg-loop'), deps);

    // Assess
    expect(outcome.record).toMatchObject({ status: 'processed', invoiceIds: ['msg-loop:1'], problems: [{ code: 'recognition-skipped', attachment: 2, message: expect.stringContaining('"bomb.pdf": 2 earlier attempts died') }] });
    expect(outcome.record.attachments).toHaveLength(2);
    expect(store.invoices.get('msg-loop:1')).toMatchObject({ invoiceNumber: 'GENUINE-0001' });
  });

  it('store outages are not crashes: after two failed records writes the third attempt still recognises', async () => {
    // Prepare: DynamoDB refuses the records write twice (an outage), and the first end of
    // recognition too (retried within the attempt).
    const { deps, objects, store } = memoryDeps({ maxCrashedAttempts: 2 });
    objects.put(BUCKET, 'inbound/msg-outage', await ublMail());
    const recordMessage = store.recordMessage.bind(store);
    let outages = 2;
    store.recordMessage = async (record, invoices) => {
      if (outages-- > 0) throw new Error('DynamoDB unavailable');
      return recordMessage(record, invoices);
    };
    const endRecognition = store.endRecognition.bind(store);
    let endOutages = 1;
    store.endRecognition = async (id, index) => {
      if (endOutages-- > 0) throw new Error('DynamoDB unavailable');
      return endRecognition(id, index);
    };

    // Act
    await expect(processInboundMail(notification('msg-outage'), deps)).rejects.toThrow('DynamoDB unavailable');
    await expect(processInboundMail(notification('msg-outage'), deps)).rejects.toThrow('DynamoDB unavailable');
    const third = await processInboundMail(notification('msg-outage'), deps);

    // Assess
    expect(third.record).toMatchObject({ status: 'processed', invoiceIds: ['msg-outage:1'], problems: [] });
  });

  it('a records write refused for size is recorded trimmed with record-too-large, with its invoice, not retried', async () => {
    const { deps, objects, store, events } = memoryDeps();
    objects.put(BUCKET, 'inbound/msg-big', await ublMail());
    store.refuseForSize = 1;

    const outcome = await processInboundMail(notification('msg-big'), deps);

    expect(outcome.record).toMatchObject({ status: 'processed', attachments: [], omittedAttachments: 1, invoiceIds: ['msg-big:1'] });
    expect(outcome.record.problems.map((p) => p.code)).toEqual(['record-too-large']);
    expect(store.invoices.get('msg-big:1')).toMatchObject({ invoiceNumber: 'FX-2024-0815' });
    expect(events.published).toHaveLength(1);
  });
});
