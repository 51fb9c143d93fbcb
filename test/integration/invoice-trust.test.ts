/**
 * Invoice fraud by e-mail, through the local stack: a forged invoice (another domain, not
 * authenticated, the real supplier's VAT id and invoice number, another IBAN) and the genuine
 * one, in both orders and at once, delivered as SES does (`mailbridge simulate inbound` with
 * From and verdicts). The genuine invoice must end with the same clean standing whatever the
 * order; the forged one with the warnings that make accounting hold it.
 *
 * Every assertion first waits for the state it asserts (records are written, then settled,
 * then published; an earlier record is settled again when a later one arrives).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { deliverInbound, receivedNotification, sesLikeMessageId } from '../../bin/commands/simulate-inbound.ts';
import { DynamoInboundStore } from '../../shared/adapters/dynamo-inbound-store.ts';
import { S3AttachmentSink } from '../../shared/adapters/s3-attachment-sink.ts';
import { S3RawMessageStore } from '../../shared/adapters/s3-raw-message-store.ts';
import { SnsInvoiceEvents } from '../../shared/adapters/sns-invoice-events.ts';
import { DEFAULT_VERDICT_POLICY } from '../../shared/domain/inbound-verdicts.ts';
import { parseSesReceivedBody } from '../../shared/schemas/ses-receipt.ts';
import { processInboundMail, type InboundDeps } from '../../shared/services/process-inbound-mail.ts';
import type { InvoiceReceivedEvent, InvoiceRecord } from '../../shared/schemas/inbound-records.ts';
import { EXPECTED, renderSampleInvoice, SAMPLE_INVOICE } from '../fixtures/invoices/sample-e-invoice.ts';
import { buildMail } from '../fixtures/inbound/mime.ts';
import { cli, clients, drain, localInfo, queue, queueIdle, subscribedQueue, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const target = { info, s3: c.s3, sns: c.sns };
const store = new DynamoInboundStore(c.documents, info.tables.InboundTable?.name ?? 'missing');
const invoiceTopicArn = info.topics.InvoiceEventsTopic?.arn ?? 'missing';
const runTag = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'mailbridge-trust-'));

const GENUINE_FROM = 'billing@beispiel-software.example';
const FORGED_FROM = 'Beispiel Software GmbH <rechnung@beispiel-softvvare.example>';
const FORGED_IBAN = 'GB33BUKB20201555555555';

/** The sample invoice for a seller and number of this run's own (no other test shares its claims or IBAN history). */
function invoiceOf(vatId: string | null, invoiceNumber: string, iban: string, sellerName?: string) {
  const invoice = structuredClone(SAMPLE_INVOICE);
  const ubl = invoice['ubl:Invoice'];
  ubl['cbc:ID'] = invoiceNumber;
  const party = ubl['cac:AccountingSupplierParty']['cac:Party'];
  if (vatId) party['cac:PartyTaxScheme'] = [{ 'cbc:CompanyID': vatId, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } }];
  else delete party['cac:PartyTaxScheme'];
  if (sellerName) party['cac:PartyLegalEntity'] = { 'cbc:RegistrationName': sellerName };
  ubl['cac:PaymentMeans'] = [{ 'cbc:PaymentMeansCode': '58', 'cac:PayeeFinancialAccount': { 'cbc:ID': iban } }];
  return invoice;
}

const uniqueVat = () => `DE${randomInt(100_000_000, 999_999_999)}`;

async function xrechnungMail(vatId: string | null, invoiceNumber: string, iban: string, tag: string, sellerName?: string): Promise<string> {
  const xml = await renderSampleInvoice('XRECHNUNG-UBL', invoiceOf(vatId, invoiceNumber, iban, sellerName));
  return buildMail({ subject: `Rechnung ${invoiceNumber}`, messageId: `<${tag}-${runTag}@beispiel-software.example>`, parts: [{ contentType: 'application/xml', filename: 'rechnung.xml', body: xml }] });
}

/** The genuine supplier's mail: its own domain, DMARC PASS (the simulator's defaults). */
async function deliverGenuine(vatId: string, invoiceNumber: string): Promise<string> {
  const { messageId } = await deliverInbound(target, { message: Buffer.from(await xrechnungMail(vatId, invoiceNumber, EXPECTED.iban, `genuine-${invoiceNumber}`)) });
  return `${messageId}:1`;
}

/**
 * The forged mail through the CLI: a look-alike domain with no DMARC policy (GRAY), DKIM-signed
 * by a bulk mailer's domain rather than its own, the real VAT id and number, another IBAN.
 */
async function deliverForged(vatId: string, invoiceNumber: string, options: { iban?: string; via?: 'cli' | 'api' } = {}): Promise<string> {
  const iban = options.iban ?? FORGED_IBAN;
  const mail = await xrechnungMail(vatId, invoiceNumber, iban, `forged-${invoiceNumber}`);
  if (options.via === 'api') {
    // The CLI's own code path, without a child process (spawnSync would serialise "at once").
    const { messageId } = await deliverInbound(target, { message: Buffer.from(mail), from: FORGED_FROM, dkimDomain: 'bulk-mailer.example', verdicts: { dmarc: 'GRAY', dkim: 'PASS' } });
    return `${messageId}:1`;
  }
  const file = join(dir, `forged-${invoiceNumber}-${iban}.eml`);
  writeFileSync(file, mail);
  const out = cli(['simulate', 'inbound', file, '--from', FORGED_FROM, '--dmarc', 'GRAY', '--dkim', 'PASS', '--dkim-domain', 'bulk-mailer.example']);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  const delivered = JSON.parse(out.stdout);
  expect(delivered).toMatchObject({ from: 'rechnung@beispiel-softvvare.example', verdicts: { dmarc: 'GRAY', dkim: 'PASS' } });
  expect(delivered.authenticationResults).toContain('dkim=pass header.i=@bulk-mailer.example');
  return `${delivered.messageId}:1`;
}

/** The invoice once it is published and `until` holds (a later arrival may still settle it). */
const settled = (invoiceId: string, until: (r: InvoiceRecord) => boolean = () => true): Promise<InvoiceRecord> =>
  waitFor(async () => {
    const r = await store.getInvoice(invoiceId);
    return r?.publishedAt && until(r) ? r : undefined;
  }, `invoice ${invoiceId} published and settled`);

const hasConflictWith = (other: string) => (r: InvoiceRecord) => r.warnings.some((w) => w.code === 'conflicting-duplicate' && w.invoiceId === other);

// ---- invoice.received as a subscriber sees it ----
let eventsQueueUrl = '';
const seen = new Map<string, { event: InvoiceReceivedEvent; attributes: Record<string, string> }>();

async function eventFor(invoiceId: string) {
  return waitFor(async () => {
    for (const m of await drain(eventsQueueUrl, c.sqs)) {
      const event = JSON.parse(String(m.Body)) as InvoiceReceivedEvent;
      seen.set(event.invoiceId, { event, attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, String(v.StringValue)])) });
    }
    return seen.get(invoiceId);
  }, `invoice.received for ${invoiceId}`);
}

let eventsQueue: Awaited<ReturnType<typeof subscribedQueue>> | undefined;

beforeAll(async () => {
  eventsQueue = await subscribedQueue(invoiceTopicArn, `it-trust-events-${runTag}`);
  eventsQueueUrl = eventsQueue.url;
});

afterAll(async () => {
  await eventsQueue?.remove();
});

const GENUINE_SENDER = { address: GENUINE_FROM, domain: 'beispiel-software.example', authenticated: true };
const FORGED_SENDER = { address: 'rechnung@beispiel-softvvare.example', domain: 'beispiel-softvvare.example', authenticated: false };

describe('invoice trust: forged and genuine invoices of one supplier, through the local stack', () => {
  const standings: Record<string, { duplicateOf: string | null; warnings: unknown[]; sender: unknown }> = {};

  it('forged first, genuine second: the genuine invoice is the original, and both name each other as conflicting', async () => {
    // Prepare
    const vat = uniqueVat();
    const number = `TRUST-FF-${runTag}`;

    // Act
    const forgedId = await deliverForged(vat, number);
    const forgedPublished = await settled(forgedId);
    const genuineId = await deliverGenuine(vat, number);

    // Assess: the genuine one, once published; the forged one once settled by the genuine one's arrival.
    const genuine = await settled(genuineId);
    const forged = await settled(forgedId, hasConflictWith(genuineId));
    expect(genuine).toMatchObject({ invoiceNumber: number, sellerVatId: vat, iban: EXPECTED.iban, duplicateOf: null, sender: GENUINE_SENDER });
    expect(genuine.warnings).toEqual([{ code: 'conflicting-duplicate', invoiceId: forgedId, fields: ['iban'] }]);
    expect(forged).toMatchObject({ iban: FORGED_IBAN, duplicateOf: null, sender: FORGED_SENDER });
    // The seller was unknown when the forged invoice came (no authenticated invoice yet): no bank-account-changed.
    expect(forged.warnings).toEqual([
      { code: 'unauthenticated-sender', address: FORGED_SENDER.address, domain: FORGED_SENDER.domain },
      { code: 'conflicting-duplicate', invoiceId: genuineId, fields: ['iban'] },
    ]);
    expect(forgedPublished.warnings).toEqual([{ code: 'unauthenticated-sender', address: FORGED_SENDER.address, domain: FORGED_SENDER.domain }]);
    expect((await store.getMessage(forgedId.split(':')[0] ?? ''))?.sender).toEqual(FORGED_SENDER);

    // invoice.received: the forged one said "unauthenticated" at once; the genuine one names the conflict.
    const forgedEvent = await eventFor(forgedId);
    expect(forgedEvent.event).toMatchObject({ sender: FORGED_SENDER, warnings: [{ code: 'unauthenticated-sender' }] });
    expect(forgedEvent.attributes).toMatchObject({ warnings: '["unauthenticated-sender"]', duplicate: 'false' });
    const genuineEvent = await eventFor(genuineId);
    expect(genuineEvent.event).toMatchObject({ sender: GENUINE_SENDER, duplicateOf: null, warnings: [{ code: 'conflicting-duplicate', invoiceId: forgedId, fields: ['iban'] }] });
    expect(genuineEvent.attributes).toMatchObject({ warnings: '["conflicting-duplicate"]' });

    standings['forged-first'] = { duplicateOf: genuine.duplicateOf, warnings: genuine.warnings.map((w) => ({ ...w, invoiceId: 'the forged one' })), sender: genuine.sender };
  });

  it('genuine first, forged second: the same standing for the genuine invoice; the forged one also carries bank-account-changed', async () => {
    // Prepare
    const vat = uniqueVat();
    const number = `TRUST-GF-${runTag}`;

    // Act
    const genuineId = await deliverGenuine(vat, number);
    const genuinePublished = await settled(genuineId);
    const forgedId = await deliverForged(vat, number);

    // Assess
    const forged = await settled(forgedId);
    const genuine = await settled(genuineId, hasConflictWith(forgedId));
    expect(genuinePublished.warnings).toEqual([]);
    expect(genuine).toMatchObject({ duplicateOf: null, sender: GENUINE_SENDER });
    expect(genuine.warnings).toEqual([{ code: 'conflicting-duplicate', invoiceId: forgedId, fields: ['iban'] }]);
    expect(forged).toMatchObject({ duplicateOf: null, sender: FORGED_SENDER });
    expect(forged.warnings).toEqual([
      { code: 'unauthenticated-sender', address: FORGED_SENDER.address, domain: FORGED_SENDER.domain },
      { code: 'bank-account-changed', iban: FORGED_IBAN, previous: [EXPECTED.iban] },
      { code: 'conflicting-duplicate', invoiceId: genuineId, fields: ['iban'] },
    ]);
    const forgedEvent = await eventFor(forgedId);
    expect(forgedEvent.event.warnings.map((w) => w.code)).toEqual(['unauthenticated-sender', 'bank-account-changed', 'conflicting-duplicate']);
    expect(JSON.parse(forgedEvent.attributes.warnings ?? '[]')).toEqual(['unauthenticated-sender', 'bank-account-changed', 'conflicting-duplicate']);

    // The same standing as in the other order.
    expect({ duplicateOf: genuine.duplicateOf, warnings: genuine.warnings.map((w) => ({ ...w, invoiceId: 'the forged one' })), sender: genuine.sender }).toEqual(standings['forged-first']);
  });

  it('forged and genuine at once: the claims serialise them, and the genuine invoice ends with the same standing', async () => {
    // Prepare
    const vat = uniqueVat();
    const number = `TRUST-AT-ONCE-${runTag}`;

    // Act
    const [forgedId, genuineId] = await Promise.all([deliverForged(vat, number, { via: 'api' }), deliverGenuine(vat, number)]);

    // Assess
    const genuine = await settled(genuineId, hasConflictWith(forgedId));
    const forged = await settled(forgedId, hasConflictWith(genuineId));
    expect({ duplicateOf: genuine.duplicateOf, warnings: genuine.warnings.map((w) => ({ ...w, invoiceId: 'the forged one' })), sender: genuine.sender }).toEqual(standings['forged-first']);
    expect(forged.duplicateOf).toBeNull();
    expect(forged.warnings.map((w) => w.code)).toContain('unauthenticated-sender');
  });

  it('an unauthenticated copy with the genuine payment details first: it becomes the duplicate of the genuine invoice when that arrives', async () => {
    // Prepare
    const vat = uniqueVat();
    const number = `TRUST-COPY-${runTag}`;

    // Act
    const copyId = await deliverForged(vat, number, { iban: EXPECTED.iban });
    const copyPublished = await settled(copyId);
    const genuineId = await deliverGenuine(vat, number);

    // Assess
    const genuine = await settled(genuineId);
    const copy = await settled(copyId, (r) => r.duplicateOf === genuineId);
    expect(copyPublished.duplicateOf).toBeNull();
    expect(genuine).toMatchObject({ duplicateOf: null, warnings: [], sender: GENUINE_SENDER });
    expect(copy.warnings).toEqual([{ code: 'unauthenticated-sender', address: FORGED_SENDER.address, domain: FORGED_SENDER.domain }]);
  });

  it('a forgery that names the seller without its VAT id is checked against the IBANs its authenticated invoices showed', async () => {
    // Prepare: the seller's genuine invoice (VAT id and a name of this run's own).
    const name = `Trust Lieferant ${runTag} GmbH`;
    const genuine = await deliverInbound(target, { message: Buffer.from(await xrechnungMail(uniqueVat(), `TRUST-NAME-${runTag}`, EXPECTED.iban, 'name-genuine', name)) });
    await settled(`${genuine.messageId}:1`);

    // Act: the forgery, a later invoice number, no VAT id, another IBAN.
    const forged = await deliverInbound(target, {
      message: Buffer.from(await xrechnungMail(null, `TRUST-NAME-2-${runTag}`, FORGED_IBAN, 'name-forged', name)),
      from: FORGED_FROM,
      verdicts: { dmarc: 'FAIL' },
      dmarcPolicy: 'none',
    });

    // Assess
    const record = await settled(`${forged.messageId}:1`);
    expect(record).toMatchObject({ sellerVatId: null, sellerName: name, sender: FORGED_SENDER });
    expect(record.warnings).toEqual([
      { code: 'unauthenticated-sender', address: FORGED_SENDER.address, domain: FORGED_SENDER.domain },
      { code: 'bank-account-changed', iban: FORGED_IBAN, previous: [EXPECTED.iban] },
    ]);
  });

  it('a redelivery of the genuine mail changes nothing', async () => {
    // Prepare
    const vat = uniqueVat();
    const number = `TRUST-AGAIN-${runTag}`;
    const mail = Buffer.from(await xrechnungMail(vat, number, EXPECTED.iban, 'again'));
    const first = await deliverInbound(target, { message: mail });
    const before = await settled(`${first.messageId}:1`);

    // Act
    await deliverInbound(target, { message: mail, messageId: first.messageId, upload: false });
    await queueIdle(queue('InboundMailQueue').url);

    // Assess
    expect(await store.getInvoice(`${first.messageId}:1`)).toEqual(before);
  });

  it('`invoices list --warnings` lists only invoices with warnings, and the text output marks them', async () => {
    // Prepare: the records of the tests above; one clean invoice of its own.
    const cleanId = await deliverGenuine(uniqueVat(), `TRUST-CLEAN-${runTag}`);
    await settled(cleanId);

    // Act
    const json = cli(['invoices', 'list', '--warnings', '--json', '--limit', '200']);
    const text = cli(['invoices', 'list', '--warnings', '--limit', '200']);
    const all = cli(['invoices', 'list', '--limit', '200']);

    // Assess
    expect([json.code, json.stderr]).toEqual([0, '']);
    expect([text.code, text.stderr]).toEqual([0, '']);
    expect([all.code, all.stderr]).toEqual([0, '']);
    const listed = JSON.parse(json.stdout) as InvoiceRecord[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((i) => i.warnings.length > 0)).toBe(true);
    expect(listed.map((i) => i.invoiceId)).not.toContain(cleanId);
    expect(listed.filter((i) => i.invoiceNumber === `TRUST-FF-${runTag}`).length).toBe(2);
    expect(text.stdout).toMatch(new RegExp(`^! .*TRUST-FF-${runTag}`, 'm'));
    expect(text.stdout).toMatch(/^ {4}! unauthenticated-sender \(rechnung@beispiel-softvvare\.example\)$/m);
    expect(text.stdout).toMatch(/^ {4}! bank-account-changed to GB33BUKB20201555555555 \(before: DE02120300000000202051\)$/m);
    expect(text.stdout).not.toContain(cleanId);
    expect(all.stdout).toMatch(new RegExp(`^  \\S+  ${cleanId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  TRUST-CLEAN-`, 'm'));
  });

  it('eight arrivals of one identity processed at once on DynamoDB Local: the conditional claim writes serialise them, and a second run changes nothing', async () => {
    // Prepare: the real adapters in this process (not the stack's poller, which takes one at a
    // time): the genuine invoice, five forgeries with five IBANs, two unauthenticated copies of
    // the genuine payment details; raw objects stored as SES would, receipt times one second apart.
    const vat = uniqueVat();
    const number = `TRUST-RACE-${runTag}`;
    const bucket = info.buckets.InboundBucket?.name ?? 'missing';
    const deps: InboundDeps = {
      raw: new S3RawMessageStore(c.s3),
      attachments: (messageId, prefix) => new S3AttachmentSink(c.s3, bucket, messageId, prefix),
      store,
      events: new SnsInvoiceEvents(c.sns, invoiceTopicArn),
      verdictPolicy: DEFAULT_VERDICT_POLICY,
      parse: {},
      maxCrashedAttempts: 2,
      publishLeaseMs: 60_000,
      now: () => new Date(),
    };
    const forgedIbans = ['GB33BUKB20201555555555', 'GB94BARC10201530093459', 'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'BE68539007547034'];
    const arrivals = [
      { kind: 'genuine', iban: EXPECTED.iban, dmarc: 'PASS' },
      ...forgedIbans.map((iban) => ({ kind: 'forged', iban, dmarc: 'FAIL' })),
      { kind: 'copy', iban: EXPECTED.iban, dmarc: 'FAIL' },
      { kind: 'copy', iban: EXPECTED.iban, dmarc: 'FAIL' },
    ];
    const notifications = await Promise.all(
      arrivals.map(async (a, i) => {
        const messageId = sesLikeMessageId();
        await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `inbound/${messageId}`, Body: await xrechnungMail(vat, number, a.iban, `race-${i}`) }));
        // The genuine one arrives last by SES's clock: its standing must not depend on that either.
        const at = new Date(Date.UTC(2024, 6, 1, 10, 0, i === 0 ? 59 : i));
        const body = receivedNotification({ messageId, bucket, key: `inbound/${messageId}`, topicArn: 'arn:aws:sns:local:000000000000:none', from: GENUINE_FROM, verdicts: { dmarc: a.dmarc }, at });
        return { ...a, id: `${messageId}:1`, notification: parseSesReceivedBody(JSON.stringify(body)) };
      }),
    );

    // Act: all at once.
    await Promise.all(notifications.map((n) => processInboundMail(n.notification, deps)));

    // Assess: every record settled to the one standing the claim holds.
    const genuineId = notifications[0]?.id ?? '';
    const forgedIds = notifications.filter((n) => n.kind === 'forged').map((n) => n.id);
    const copyIds = notifications.filter((n) => n.kind === 'copy').map((n) => n.id);
    const genuine = await settled(genuineId);
    expect(genuine.duplicateOf).toBeNull();
    expect(genuine.warnings.map((w) => (w.code === 'conflicting-duplicate' ? w.invoiceId : w.code)).sort()).toEqual([...forgedIds].sort());
    for (const id of forgedIds) {
      const forged = await settled(id);
      expect(forged.duplicateOf).toBeNull();
      expect(forged.warnings.filter((w) => w.code === 'conflicting-duplicate').map((w) => w.invoiceId).sort()).toEqual([genuineId, ...forgedIds.filter((f) => f !== id)].sort());
      expect(forged.warnings.map((w) => w.code)).toContain('unauthenticated-sender');
    }
    for (const id of copyIds) expect(await settled(id)).toMatchObject({ duplicateOf: genuineId });
    const claim = await store.readClaim(genuine.identityKey ?? '');
    expect(claim.entries.map((e) => e.invoiceId).sort()).toEqual(notifications.map((n) => n.id).sort());

    // Act again: every notification redelivered, at once.
    const before = await Promise.all(notifications.map((n) => store.getInvoice(n.id)));
    const again = await Promise.all(notifications.map((n) => processInboundMail(n.notification, deps)));

    // Assess: the same records, the claim untouched.
    expect(again.map((o) => o.kind)).toEqual(notifications.map(() => 'already-processed'));
    expect(await Promise.all(notifications.map((n) => store.getInvoice(n.id)))).toEqual(before);
    expect((await store.readClaim(genuine.identityKey ?? '')).version).toBe(claim.version);
  });
});
