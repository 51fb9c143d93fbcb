/**
 * What invoice trust (sender, identity claims, IBAN history, standing settlement) costs per
 * invoice, on the local stack's DynamoDB Local / fauxqs with the real adapters in this process:
 *
 *  1. distinct identities: N mails, one XRechnung each, processed one after another;
 *  2. contention: ROUNDS rounds of K mails of one identity (a genuine invoice and forgeries
 *     with other IBANs), each round processed all at once;
 *  3. redelivery: every phase-1 notification again.
 *
 * Store calls are timed and counted by a decorator around the DynamoDB store: the trust calls
 * (readClaim, readSellerIbans, writeClaim, updateStanding) next to the baseline measured in the
 * same run, the calls the pipeline made before trust (message transaction, recognition
 * bracket, publish lease, getInvoice/getMessage). Parsing and S3 are in the end-to-end time.
 *
 *   npm run bench:trust            (N=60 K=8 ROUNDS=5)
 */
import { randomInt } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalStack } from '../local/stack.ts';
import { receivedNotification, sesLikeMessageId } from '../bin/commands/simulate-inbound.ts';
import { DynamoInboundStore } from '../shared/adapters/dynamo-inbound-store.ts';
import { S3AttachmentSink } from '../shared/adapters/s3-attachment-sink.ts';
import { S3RawMessageStore } from '../shared/adapters/s3-raw-message-store.ts';
import { SnsInvoiceEvents } from '../shared/adapters/sns-invoice-events.ts';
import { DEFAULT_VERDICT_POLICY } from '../shared/domain/inbound-verdicts.ts';
import type { InboundStore } from '../shared/ports/inbound-store.ts';
import { parseSesReceivedBody, type SesReceivedNotification } from '../shared/schemas/ses-receipt.ts';
import { processInboundMail, type InboundDeps } from '../shared/services/process-inbound-mail.ts';
import { buildMail } from '../test/fixtures/inbound/mime.ts';
import { renderSampleInvoice, SAMPLE_INVOICE } from '../test/fixtures/invoices/sample-e-invoice.ts';
import { machine } from './machine.ts';

const N = Number(process.env.N ?? 60);
const K = Number(process.env.K ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TRUST_CALLS = new Set(['readClaim', 'readSellerIbans', 'writeClaim', 'updateStanding']);

const stack = await startLocalStack({ httpPort: 0, stateFile: null, logLevel: 'ERROR', onFunctionError: () => undefined });
const info = stack.info;
const base = { region: info.region, credentials: { ...info.credentials } };
const s3 = new S3Client({ ...base, endpoint: info.endpoints.s3, forcePathStyle: true });
const sns = new SNSClient({ ...base, endpoint: info.endpoints.sns });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...base, endpoint: info.endpoints.dynamodb }));
const bucket = info.buckets.InboundBucket?.name ?? '';

/** Time and count per store method; writeClaim results counted too (false = lost a race). */
const calls = new Map<string, { n: number; ms: number }>();
let lostClaimRaces = 0;
function timed(store: InboundStore): InboundStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          const result = await value.apply(target, args);
          if (prop === 'writeClaim' && result === false) lostClaimRaces++;
          return result;
        } finally {
          const c = calls.get(String(prop)) ?? { n: 0, ms: 0 };
          c.n++;
          c.ms += performance.now() - started;
          calls.set(String(prop), c);
        }
      };
    },
  });
}

const deps: InboundDeps = {
  raw: new S3RawMessageStore(s3),
  attachments: (messageId, prefix) => new S3AttachmentSink(s3, bucket, messageId, prefix),
  store: timed(new DynamoInboundStore(documents, info.tables.InboundTable?.name ?? '')),
  events: new SnsInvoiceEvents(sns, info.topics.InvoiceEventsTopic?.arn ?? ''),
  verdictPolicy: DEFAULT_VERDICT_POLICY,
  parse: {},
  maxCrashedAttempts: 2,
  publishLeaseMs: 60_000,
  now: () => new Date(),
};

async function stored(vat: string, number: string, iban: string, dmarc: string, at: Date): Promise<SesReceivedNotification> {
  const invoice = structuredClone(SAMPLE_INVOICE);
  const ubl = invoice['ubl:Invoice'];
  ubl['cbc:ID'] = number;
  ubl['cac:AccountingSupplierParty']['cac:Party']['cac:PartyTaxScheme'] = [{ 'cbc:CompanyID': vat, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } }];
  ubl['cac:PaymentMeans'] = [{ 'cbc:PaymentMeansCode': '58', 'cac:PayeeFinancialAccount': { 'cbc:ID': iban } }];
  const xml = await renderSampleInvoice('XRECHNUNG-UBL', invoice);
  const messageId = sesLikeMessageId();
  const mail = buildMail({ subject: `Rechnung ${number}`, messageId: `<${messageId}@bench.example>`, parts: [{ contentType: 'application/xml', filename: 'rechnung.xml', body: xml }] });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `inbound/${messageId}`, Body: mail }));
  const body = receivedNotification({ messageId, bucket, key: `inbound/${messageId}`, topicArn: 'arn:aws:sns:local:000000000000:bench', from: 'billing@beispiel-software.example', verdicts: { dmarc }, at });
  return parseSesReceivedBody(JSON.stringify(body));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] ?? 0;

function storeReport(invoices: number): string[] {
  let trust = 0;
  let baseline = 0;
  const lines: string[] = [];
  for (const [name, c] of [...calls.entries()].sort()) {
    (TRUST_CALLS.has(name) ? ((trust += c.ms), true) : ((baseline += c.ms), false));
    lines.push(`    ${TRUST_CALLS.has(name) ? 'trust   ' : 'baseline'} ${name.padEnd(18)} ${(c.n / invoices).toFixed(2).padStart(6)} calls/invoice  ${(c.ms / c.n).toFixed(2).padStart(7)} ms/call`);
  }
  lines.unshift(`  store time per invoice: trust ${(trust / invoices).toFixed(1)} ms, baseline (pre-trust calls) ${(baseline / invoices).toFixed(1)} ms`);
  calls.clear();
  return lines;
}

const out: string[] = [];
try {
  // Warm-up (pdf.js/XML parser loading, connections), not counted.
  await processInboundMail(await stored(`DE${randomInt(1e8, 1e9)}`, 'WARM-1', 'DE02120300000000202051', 'PASS', new Date()), deps);
  calls.clear();

  // 1. distinct identities, one after another
  const distinct: SesReceivedNotification[] = [];
  for (let i = 0; i < N; i++) distinct.push(await stored(`DE${randomInt(1e8, 1e9)}`, `BENCH-${i}`, 'DE02120300000000202051', 'PASS', new Date()));
  const times: number[] = [];
  for (const n of distinct) {
    const t = performance.now();
    await processInboundMail(n, deps);
    times.push(performance.now() - t);
  }
  out.push(`1. ${N} invoices, distinct identities, sequential: end to end median ${median(times).toFixed(1)} ms, p95 ${p95(times).toFixed(1)} ms per mail`, ...storeReport(N));

  // 2. contention: K arrivals of one identity at once
  const rounds: number[] = [];
  let unsettled = 0;
  const store = new DynamoInboundStore(documents, info.tables.InboundTable?.name ?? '');
  for (let r = 0; r < ROUNDS; r++) {
    const vat = `DE${randomInt(1e8, 1e9)}`;
    const batch = await Promise.all(
      Array.from({ length: K }, (_, i) => stored(vat, `RACE-${r}`, i === 0 ? 'DE02120300000000202051' : `GB${String(10 + i)}BUKB2020155555555${i}`, i === 0 ? 'PASS' : 'FAIL', new Date(Date.UTC(2024, 0, 1, 0, 0, i)))),
    );
    const t = performance.now();
    await Promise.all(batch.map((n) => processInboundMail(n, deps)));
    rounds.push(performance.now() - t);
    // Settled: the genuine invoice is the original and names each forgery as a conflict.
    const genuine = await store.getInvoice(`${batch[0]?.mail.messageId}:1`);
    const conflicts = genuine?.warnings.filter((w) => w.code === 'conflicting-duplicate').length ?? 0;
    if (!genuine || genuine.duplicateOf !== null || conflicts !== K - 1) unsettled++;
  }
  out.push(
    `2. ${ROUNDS} rounds of ${K} arrivals of one identity at once: median ${median(rounds).toFixed(1)} ms per round; ${lostClaimRaces} claim writes lost a race and were decided again (${(lostClaimRaces / (ROUNDS * K)).toFixed(2)} per invoice); ${ROUNDS - unsettled} of ${ROUNDS} rounds settled right`,
    ...storeReport(ROUNDS * K),
  );

  // 3. redelivery
  const again: number[] = [];
  for (const n of distinct) {
    const t = performance.now();
    await processInboundMail(n, deps);
    again.push(performance.now() - t);
  }
  const writes = [...calls.entries()].filter(([name]) => name === 'writeClaim' || name === 'updateStanding' || name === 'recordMessage').reduce((s, [, c]) => s + c.n, 0);
  out.push(`3. ${N} redeliveries: median ${median(again).toFixed(1)} ms per mail, ${writes} record/claim writes`, ...storeReport(N));
} finally {
  await stack.stop();
}

console.log(`invoice trust on the local stack (${machine()})`);
for (const line of out) console.log(line);
