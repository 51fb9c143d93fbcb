/**
 * Fault figures: every pipeline on the local stack, once without faults (baseline) and once
 * with all of these at the same time, in the same run:
 *
 *  - DynamoDB unavailable for OUTAGE_SECONDS (default 10) in the middle of the feed: a TCP
 *    proxy in front of DynamoDB Local (bench/fault-proxy.ts) that the functions' clients go
 *    through resets every connection for the first half and blackholes them (requests hang
 *    until the outage ends, then are reset) for the second. The event sources themselves
 *    (SQS, the stream reader) are AWS's, not the functions': they keep their direct line;
 *  - provider storms: 429s (with and without Retry-After) and 500/502/503s from the SESv2 and
 *    Mailtrap simulators, injected while the sync drains run;
 *  - functions that die after their writes, before acknowledging: a share (DIE_RATE, default
 *    0.2) of successful invocations of every SQS and stream poller is treated as failed, so the
 *    batch comes back (local/event-sources/die-after-success.ts);
 *  - every message delivered twice: each SNS notification published twice, each webhook body
 *    posted twice, each store write made twice, each inbound notification published twice.
 *
 * Pipelines (fed in parallel over FEED_SECONDS, default 16):
 *  - ses:     SNS -> SQS -> ses-feedback -> suppression store (one bounce or complaint per address);
 *  - webhook: HTTP -> mailtrap-webhook -> SQS -> mailtrap-events -> store (bounce, spam, unsubscribe);
 *  - sync:    store writes -> stream -> suppression-changes -> outbox -> ses-sync / mailtrap-sync
 *             (run back to back) -> SESv2 suppression list + one Mailtrap record per (domain, stream);
 *  - inbound: raw mail in S3 + SNS -> SQS -> inbound-parse -> message record + invoice record,
 *             invoice.received on SNS (read through a queue this bench subscribes).
 *
 * Effects are read back from DynamoDB (direct, not through the proxy), the simulators' state
 * and the invoice events queue. "lost" = expected effects missing (whether or not a DLQ holds
 * the message); "doubled" = an effect applied more than once (a second suppression entry or a
 * count above one for an address that got one distinct event; more than one invoice, or
 * invoice.received event, per mail; more than one provider record per address and pair);
 * "in DLQ" = messages in the pipeline's dead-letter queue after the phase (read and removed).
 *
 *   npm run bench:faults     (SES_EVENTS=200 WEBHOOK_EVENTS=200 SYNC_ADDRESSES=150 INBOUND_MAILS=60
 *                             DIE_RATE=0.2 OUTAGE_SECONDS=10 FEED_SECONDS=16 RETRY_DELAY_SECONDS=4)
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { freePort } from '../local/emulators.ts';
import { startLocalStack } from '../local/stack.ts';
import { DynamoSuppressionStore } from '../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../shared/adapters/dynamo-sync-state.ts';
import { DynamoInboundStore } from '../shared/adapters/dynamo-inbound-store.ts';
import { applyManualSuppression, type AddressState } from '../shared/domain/suppression-policy.ts';
import { importKey } from '../shared/domain/suppression-import.ts';
import { signMailtrapBody } from '../shared/domain/webhook-signature.ts';
import { deliverInbound } from '../bin/commands/simulate-inbound.ts';
import { buildMail } from '../test/fixtures/inbound/mime.ts';
import { EXPECTED, renderSampleInvoice } from '../test/fixtures/invoices/sample-e-invoice.ts';
import type { Sesv2Fault } from '../local/simulators/sesv2-simulator.ts';
import type { MailtrapFault } from '../local/simulators/mailtrap-simulator.ts';
import { mapLimit } from '../shared/services/sync-drain.ts';
import { startFaultProxy } from './fault-proxy.ts';
import { machine } from './machine.ts';

const SIZES = {
  ses: Number(process.env.SES_EVENTS ?? 200),
  webhook: Number(process.env.WEBHOOK_EVENTS ?? 200),
  sync: Number(process.env.SYNC_ADDRESSES ?? 150),
  inbound: Number(process.env.INBOUND_MAILS ?? 60),
};
const DIE_RATE = Number(process.env.DIE_RATE ?? 0.2);
const OUTAGE_MS = Number(process.env.OUTAGE_SECONDS ?? 10) * 1000;
const FEED_MS = Number(process.env.FEED_SECONDS ?? 16) * 1000;
const TICKS = 8;
/**
 * Seconds before a failed SQS message is visible again. AWS waits the queue's visibility timeout
 * (180-720 s here), so five receives span 15-60 min, far past a 10 s outage; locally 4 s keeps
 * five receives (20 s) past the outage too, where the stack's default 1 s would dead-letter
 * healthy messages that only met the outage (and a kill) five times.
 */
const RETRY_DELAY_SECONDS = Number(process.env.RETRY_DELAY_SECONDS ?? 4);
const SETTLE_TIMEOUT_MS = 240_000;
const WEBHOOK_BODY_EVENTS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the stack, behind the proxy
const dynamoPort = await freePort();
const proxy = await startFaultProxy({ host: '127.0.0.1', port: dynamoPort });
const functionErrors: Record<string, number> = {};
/** Function errors by kind (function, error name, message without addresses), for the faults phase's account. */
const errorKinds = new Map<string, number>();
const stack = await startLocalStack({
  httpPort: 0,
  stateFile: null,
  logLevel: 'SILENT',
  dynamodbPort: dynamoPort,
  retryDelaySeconds: RETRY_DELAY_SECONDS,
  scheduleIntervalMs: 'off',
  env: {
    // The functions' DynamoDB clients go through the proxy.
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: proxy.url,
    MAILTRAP_SENDING_STREAMS: 'transactional',
    SYNC_RUN_SECONDS: '5',
    SYNC_CONCURRENCY: '8',
    SYNC_BACKOFF_BASE_MS: '200',
    SYNC_BACKOFF_MAX_MS: '2000',
    SES_PUSH_RATE: '150/1s',
    MAILTRAP_PUSH_RATE: '400/1s',
    // Single calls per address (the import-job path has its own tests and bench).
    SES_IMPORT_THRESHOLD: '100000',
  },
  simulators: { sesRateLimit: { perSecond: 200, burst: 20 }, mailtrapRateLimits: { suppressions: { limit: 500, windowMs: 1000 } } },
  onFunctionError: (name, error) => {
    functionErrors[name] = (functionErrors[name] ?? 0) + 1;
    // Powertools' full-batch failure carries the records' own errors.
    const inner = (error as { recordErrors?: unknown[] }).recordErrors?.[0] ?? error;
    const kind = `${name}: ${(inner as Error)?.name ?? 'Error'} ${String((inner as Error)?.message ?? inner).replace(/\S+@\S+/g, '<address>').replace(/[0-9a-z-]{20,}(:\d+)?/gi, '<id>').slice(0, 70)}`;
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  },
});
const info = stack.info;
const { sesv2, mailtrap } = stack.simulators;
const base = { region: info.region, credentials: { ...info.credentials } };
const sqs = new SQSClient({ ...base, endpoint: info.endpoints.sqs, useQueueUrlAsEndpoint: false });
const sns = new SNSClient({ ...base, endpoint: info.endpoints.sns });
const s3 = new S3Client({ ...base, endpoint: info.endpoints.s3, forcePathStyle: true });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...base, endpoint: info.endpoints.dynamodb }));
const store = new DynamoSuppressionStore(documents, info.tables.SuppressionsTable?.name ?? '');
const syncState = new DynamoSyncState(documents, info.tables.SuppressionSyncTable?.name ?? '');
const inboundTable = info.tables.InboundTable?.name ?? '';
const inboundStore = new DynamoInboundStore(documents, inboundTable);
const queueUrl = (id: string) => info.queues[id]?.url ?? '';
const mailtrapPairs = (info.sync?.mailtrapDomains ?? []).flatMap((d) => (info.sync?.mailtrapStreams ?? []).map((s) => ({ domain: d, stream: s })));

// invoice.received as a subscriber sees it.
const eventsQueue = String((await sqs.send(new CreateQueueCommand({ QueueName: `bench-faults-invoice-events-${randomUUID().slice(0, 6)}` }))).QueueUrl);
const eventsQueueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventsQueue, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
await sns.send(new SubscribeCommand({ TopicArn: info.topics.InvoiceEventsTopic?.arn, Protocol: 'sqs', Endpoint: eventsQueueArn, Attributes: { RawMessageDelivery: 'true' } }));
const invoiceEvents = new Map<string, number>();

/** Reads (and deletes) everything in a queue; returns the bodies and each one's `mailbridge.error`. */
async function drainQueue(url: string): Promise<Array<{ body: string; error?: string | undefined }>> {
  const out: Array<{ body: string; error?: string | undefined }> = [];
  for (;;) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) return out;
    out.push(...messages.map((m) => ({ body: String(m.Body), error: m.MessageAttributes?.['mailbridge.error']?.StringValue })));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })) }));
  }
}

/** What a dead letter is, without the address: a stream batch given up on, a sync failure, a redriven message. */
function deadLetterKind(m: { body: string; error?: string | undefined }): string {
  try {
    const body = JSON.parse(m.body) as { DDBStreamBatchInfo?: { batchSize?: number }; requestContext?: { condition?: string }; kind?: string; provider?: string; error?: string };
    if (body.DDBStreamBatchInfo) return `stream batch of ${body.DDBStreamBatchInfo.batchSize} record(s), ${body.requestContext?.condition}`;
    if (body.kind === 'suppression-sync') return `${body.provider} sync failed: ${String(body.error).slice(0, 60)}`;
  } catch {
    // not JSON: a raw message
  }
  return m.error ? `dead-lettered: ${m.error.slice(0, 60)}` : 'redriven after maxReceiveCount';
}

async function depth(url: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Spreads `jobs` over TICKS ticks across FEED_MS; with `twice`, each job runs again one tick later. */
async function paced(jobs: Array<() => Promise<void>>, twice: boolean): Promise<void> {
  const perTick = Math.ceil(jobs.length / TICKS);
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let t = 0; t <= TICKS; t++) {
    await sleep(Math.max(0, started + (t * FEED_MS) / TICKS - Date.now()));
    const now = t < TICKS ? jobs.slice(t * perTick, (t + 1) * perTick) : [];
    const again = twice && t > 0 ? jobs.slice((t - 1) * perTick, t * perTick) : [];
    pending.push(mapLimit([...now, ...again], 8, (job) => job()));
  }
  await Promise.all(pending);
}

// ------------------------------------------------------------------ inputs
const invoiceXml = Buffer.from(await renderSampleInvoice('XRECHNUNG-UBL')).toString('utf8');
const numberTag = `<cbc:ID>${EXPECTED.invoiceNumber}</cbc:ID>`;
if (!invoiceXml.includes(numberTag)) throw new Error('the sample XRechnung has no invoice number element to vary');

interface Phase {
  name: 'baseline' | 'faults';
  tag: string;
  ses: Array<{ email: string; reason: 'bounce' | 'complaint' }>;
  webhook: Array<{ email: string; reason: 'bounce' | 'complaint' | 'unsubscribe' }>;
  sync: string[];
  inbound: Array<{ mail: string; invoiceNumber: string; messageId?: string }>;
}

function phaseInputs(name: Phase['name']): Phase {
  const tag = `${name === 'baseline' ? 'b' : 'f'}${randomUUID().slice(0, 6)}`;
  return {
    name,
    tag,
    ses: Array.from({ length: SIZES.ses }, (_, i) => ({ email: `ses-${tag}-${i}@faults.example`, reason: i % 3 === 2 ? 'complaint' : 'bounce' })),
    webhook: Array.from({ length: SIZES.webhook }, (_, i) => ({
      email: `mt-${tag}-${i}@faults.example`,
      reason: (['bounce', 'complaint', 'unsubscribe'] as const)[i % 3] as 'bounce' | 'complaint' | 'unsubscribe',
    })),
    sync: Array.from({ length: SIZES.sync }, (_, i) => `Sync-${tag}-${i}@Faults.example`),
    inbound: Array.from({ length: SIZES.inbound }, (_, i) => {
      const invoiceNumber = `RE-${tag}-${i}`;
      const xml = invoiceXml.replace(numberTag, `<cbc:ID>${invoiceNumber}</cbc:ID>`);
      return { invoiceNumber, mail: buildMail({ subject: `Rechnung ${invoiceNumber}`, messageId: `<${invoiceNumber}@beispiel-software.example>`, parts: [{ contentType: 'application/xml', filename: `${invoiceNumber}.xml`, body: xml }] }) };
    }),
  };
}

// ------------------------------------------------------------------ feeders
const sesTopic = info.topics.SesFeedbackTopic?.arn ?? '';
function sesNotification(e: Phase['ses'][number]): string {
  const at = new Date().toISOString();
  const mail = { messageId: randomUUID(), timestamp: at, source: 'sender@examplesender.com', destination: [e.email] };
  return JSON.stringify(
    e.reason === 'complaint'
      ? { notificationType: 'Complaint', mail, complaint: { feedbackId: randomUUID(), timestamp: at, complaintFeedbackType: 'abuse', complainedRecipients: [{ emailAddress: e.email }] } }
      : { notificationType: 'Bounce', mail, bounce: { feedbackId: randomUUID(), timestamp: at, bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: e.email, status: '5.1.1' }] } },
  );
}

const webhookUrl = `${info.httpUrl}/webhooks/mailtrap`;
let webhookNon200 = 0;
function webhookBody(events: Phase['webhook']): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    events: events.map((e) => ({
      event: e.reason === 'complaint' ? 'spam' : e.reason,
      event_id: randomUUID(),
      email: e.email,
      timestamp: now,
      message_id: randomUUID(),
      sending_stream: 'transactional',
      sending_domain_name: 'examplesender.com',
      ...(e.reason === 'bounce' ? { bounce_category: 'badrecipient', response_code: 550 } : {}),
    })),
  });
}
/** Posts like Mailtrap: a non-200 is retried (Mailtrap: up to 40 times; here 10, a second apart). */
async function postWebhook(body: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'mailtrap-signature': signMailtrapBody(Buffer.from(body), info.secrets.mailtrapWebhook) }, body });
    await response.arrayBuffer();
    if (response.status === 200) return;
    webhookNon200++;
    await sleep(1000);
  }
}

async function feed(phase: Phase, twice: boolean): Promise<void> {
  // SES: a notification is built once; "twice" publishes the same body again (SNS at-least-once).
  const sesBodies = phase.ses.map(sesNotification);
  const sesJobs = sesBodies.map((body) => async () => void (await sns.send(new PublishCommand({ TopicArn: sesTopic, Message: body }))));
  const bodies: string[] = [];
  for (let i = 0; i < phase.webhook.length; i += WEBHOOK_BODY_EVENTS) bodies.push(webhookBody(phase.webhook.slice(i, i + WEBHOOK_BODY_EVENTS)));
  const webhookJobs = bodies.map((body) => () => postWebhook(body));
  const at = new Date().toISOString();
  const syncJobs = phase.sync.map((email) => async () => {
    await store.update(email, (s) => applyManualSuppression(s, { email, reason: 'bounce', at, source: 'import', key: importKey({ email, reason: 'bounce' }) }));
  });
  const inboundJobs = phase.inbound.map((m) => async () => {
    // The second delivery is the same S3 object's notification again.
    const delivered = await deliverInbound({ info, s3, sns }, { message: Buffer.from(m.mail), ...(m.messageId ? { messageId: m.messageId, upload: false } : {}) });
    m.messageId = delivered.messageId;
  });
  await Promise.all([paced(sesJobs, twice), paced(webhookJobs, twice), paced(syncJobs, twice), paced(inboundJobs, twice)]);
}

// ------------------------------------------------------------------ faults
function setDieRate(rate: number): void {
  for (const p of [...stack.pollers.values(), ...stack.streamPollers.values()]) p.dieAfterSuccess.rate = rate;
}
const killed = () => [...stack.pollers.values(), ...stack.streamPollers.values()].reduce((n, p) => n + p.dieAfterSuccess.killed, 0);

async function outage(): Promise<void> {
  await sleep(Math.max(0, FEED_MS / 4));
  proxy.setMode('reset');
  await sleep(OUTAGE_MS / 2);
  proxy.setMode('blackhole');
  await sleep(OUTAGE_MS / 2);
  proxy.setMode('pass');
}

const STORM: { ses: Sesv2Fault[]; mailtrap: MailtrapFault[] } = {
  ses: [
    { status: 429, count: 40, operation: 'PutSuppressedDestination' },
    { status: 500, count: 20, operation: 'PutSuppressedDestination' },
    { status: 503, count: 20, operation: 'PutSuppressedDestination' },
  ],
  mailtrap: [
    { status: 429, count: 30, operation: 'suppressions.create', retryAfter: 1 },
    { status: 429, count: 20, operation: 'suppressions.create', retryAfter: null },
    { status: 500, count: 20, operation: 'suppressions.create' },
    { status: 502, count: 20, operation: 'suppressions.create' },
  ],
};
const stormSize = (list: Array<{ count?: number }>) => list.reduce((n, f) => n + (f.count ?? 1), 0);

// ------------------------------------------------------------------ the drains, back to back
let draining = false;
async function drainLoop(fn: 'ses-sync' | 'mailtrap-sync'): Promise<void> {
  while (draining) {
    try {
      await stack.scheduler.run(fn);
    } catch {
      functionErrors[fn] = (functionErrors[fn] ?? 0) + 1;
    }
    await sleep(250);
  }
}

const FAR = '9999-12-31T00:00:00.000Z';
async function busy(): Promise<string[]> {
  const reasons: string[] = [];
  for (const id of ['SesFeedbackQueue', 'MailtrapEventsQueue', 'InboundMailQueue']) if ((await depth(queueUrl(id))) > 0) reasons.push(id);
  for (const provider of ['ses', 'mailtrap'] as const) if ((await syncState.due(provider, FAR, 1)).length > 0) reasons.push(`${provider} outbox`);
  return reasons;
}

/** Until every queue and the outbox are empty and no poller has been invoked for 6 s. */
async function settle(started: number): Promise<number> {
  let quietSince = 0;
  let lastInvocations = -1;
  for (;;) {
    const invocations = [...stack.pollers.values(), ...stack.streamPollers.values()].reduce((n, p) => n + p.invocations, 0);
    const reasons = await busy().catch(() => ['unreadable']);
    if (reasons.length === 0 && invocations === lastInvocations) {
      if (quietSince === 0) quietSince = Date.now();
      if (Date.now() - quietSince >= 6000) return (quietSince - started) / 1000;
    } else quietSince = 0;
    lastInvocations = invocations;
    if (Date.now() - started > SETTLE_TIMEOUT_MS) {
      console.error(`settle: gave up after ${SETTLE_TIMEOUT_MS / 1000} s (still busy: ${reasons.join(', ')})`);
      return Number.NaN;
    }
    await sleep(1000);
  }
}

// ------------------------------------------------------------------ effects
/** The functions of each pipeline (function errors and injected kills are shown per pipeline). */
const FUNCTIONS: Record<string, string[]> = {
  ses: ['ses-feedback'],
  webhook: ['mailtrap-webhook', 'mailtrap-events', 'http'],
  sync: ['suppression-changes', 'ses-sync', 'mailtrap-sync'],
  inbound: ['inbound-parse'],
};
const killedBy = (fn: string) => (stack.pollers.get(fn) ?? stack.streamPollers.get(fn))?.dieAfterSuccess.killed ?? 0;

type Exposure = Record<string, Pick<Row, 'function errors' | 'kills after write'>>;

interface Row {
  pipeline: string;
  phase: string;
  'events in': number;
  deliveries: number;
  'effects expected': number;
  'effects observed': number;
  lost: number;
  doubled: number;
  'in DLQ': number;
  'function errors': number;
  'kills after write': number;
}

/** One suppression entry with this reason, and the distinct event counted once. */
function suppressionEffect(state: AddressState | undefined, reason: string): { observed: boolean; doubled: boolean } {
  const matching = (state?.suppressions ?? []).filter((s) => s.reason === reason);
  const counted = Object.values(state?.counts ?? {}).reduce((n, c) => n + (c ?? 0), 0);
  return { observed: matching.length > 0, doubled: matching.length > 1 || (state?.suppressions.length ?? 0) > 1 || counted > 1 };
}

async function storeRows(phase: Phase, exposure: Exposure, dlq: Record<string, number>, twice: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [pipeline, events] of [['ses', phase.ses], ['webhook', phase.webhook]] as const) {
    let observed = 0;
    let doubled = 0;
    await mapLimit([...events], 16, async (e) => {
      const state = await store.get(e.email);
      const effect = suppressionEffect(state, e.reason);
      if (effect.observed) observed++;
      if (effect.doubled) doubled++;
      if (!effect.observed || effect.doubled) missing.push(`${phase.name} ${pipeline} ${e.email}: ${e.reason} expected, store holds ${JSON.stringify(state?.suppressions.map((x) => x.reason) ?? null)}, counts ${JSON.stringify(state?.counts ?? {})}`);
    });
    rows.push({ pipeline, phase: phase.name, 'events in': events.length, deliveries: events.length * (twice ? 2 : 1), 'effects expected': events.length, 'effects observed': observed, lost: events.length - observed, doubled, 'in DLQ': dlq[pipeline] ?? 0, ...exposure[pipeline] } as Row);
  }
  return rows;
}

function syncRow(phase: Phase, exposure: Exposure, dlq: Record<string, number>, twice: boolean): Row {
  const ses = new Map<string, number>();
  for (const e of sesv2.entries()) ses.set(e.EmailAddress.toLowerCase(), (ses.get(e.EmailAddress.toLowerCase()) ?? 0) + 1);
  const mt = new Map<string, number>();
  for (const r of mailtrap.entries()) {
    const key = `${r.email.toLowerCase()}|${r.domain_name}|${r.sending_stream}`;
    mt.set(key, (mt.get(key) ?? 0) + 1);
  }
  let observed = 0;
  let doubled = 0;
  for (const email of phase.sync.map((e) => e.toLowerCase())) {
    const counts = [ses.get(email) ?? 0, ...mailtrapPairs.map((p) => mt.get(`${email}|${p.domain}|${p.stream}`) ?? 0)];
    observed += counts.filter((c) => c > 0).length;
    doubled += counts.filter((c) => c > 1).length;
    if (counts.some((c) => c !== 1)) missing.push(`${phase.name} sync ${email}: SES list ${counts[0]}, Mailtrap ${counts.slice(1).join('/')}`);
  }
  const expected = phase.sync.length * (1 + mailtrapPairs.length);
  return { pipeline: 'sync', phase: phase.name, 'events in': phase.sync.length, deliveries: phase.sync.length * (twice ? 2 : 1), 'effects expected': expected, 'effects observed': observed, lost: expected - observed, doubled, 'in DLQ': dlq.sync ?? 0, ...exposure.sync } as Row;
}

async function inboundRow(phase: Phase, exposure: Exposure, dlq: Record<string, number>, twice: boolean): Promise<Row> {
  for (const { body } of await drainQueue(eventsQueue)) {
    const id = (JSON.parse(body) as { invoiceId?: string }).invoiceId ?? '?';
    invoiceEvents.set(id, (invoiceEvents.get(id) ?? 0) + 1);
  }
  let observed = 0;
  let doubled = 0;
  await mapLimit([...phase.inbound], 8, async (m) => {
    const message = m.messageId ? await inboundStore.getMessage(m.messageId) : undefined;
    const items = m.messageId ? ((await documents.send(new QueryCommand({ TableName: inboundTable, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :inv)', ExpressionAttributeValues: { ':pk': `MSG#${m.messageId}`, ':inv': 'INVOICE#' } }))).Items ?? []) : [];
    const invoices = items.filter((i) => i.invoiceNumber === m.invoiceNumber);
    const published = invoices.map((i) => invoiceEvents.get(String(i.invoiceId)) ?? 0);
    // Three effects per mail: its message record, its invoice record, its invoice.received event.
    if (message?.status === 'processed') observed++;
    if (invoices.length > 0) observed++;
    if (published.some((n) => n > 0)) observed++;
    if (message?.status !== 'processed' || invoices.length === 0 || !published.some((n) => n > 0)) {
      missing.push(
        `${phase.name} inbound ${m.messageId}: message ${message ? `${message.status} (${message.problems.map((p) => p.code).join(', ') || 'no problems'})` : 'missing'}, ` +
          `${invoices.length} invoice record(s), ${published.reduce((a, b) => a + b, 0)} invoice.received`,
      );
    }
    if (items.length > 1 || (message?.invoiceIds.length ?? 0) > 1) doubled++;
    if (published.some((n) => n > 1)) doubled++;
  });
  const expected = phase.inbound.length * 3;
  return { pipeline: 'inbound', phase: phase.name, 'events in': phase.inbound.length, deliveries: phase.inbound.length * (twice ? 2 : 1), 'effects expected': expected, 'effects observed': observed, lost: expected - observed, doubled, 'in DLQ': dlq.inbound ?? 0, ...exposure.inbound } as Row;
}

const deadLetters: string[] = [];
/** Effects the run expected and did not find, one line each. */
const missing: string[] = [];
async function readDlqs(phase?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [pipeline, id] of [['ses', 'SesFeedbackDLQ'], ['webhook', 'MailtrapEventsDLQ'], ['inbound', 'InboundMailDLQ'], ['sync', 'SuppressionSyncDLQ']] as const) {
    const messages = await drainQueue(queueUrl(id));
    out[pipeline] = messages.length;
    if (phase) for (const m of messages) deadLetters.push(`${phase} ${pipeline}: ${deadLetterKind(m)}`);
  }
  return out;
}

// ------------------------------------------------------------------ a phase
async function runPhase(name: Phase['name']): Promise<{ rows: Row[]; notes: Record<string, number | string> }> {
  const phase = phaseInputs(name);
  const faults = name === 'faults';
  const before = { kills: Object.fromEntries(Object.values(FUNCTIONS).flat().map((fn) => [fn, killedBy(fn)])), killed: killed(), refused: proxy.refused, errors: { ...functionErrors }, ses: { ...sesv2.calls }, mt: { ...mailtrap.calls }, non200: webhookNon200 };
  await readDlqs();
  const started = Date.now();
  draining = true;
  const drains = [drainLoop('ses-sync'), drainLoop('mailtrap-sync')];
  if (faults) {
    setDieRate(DIE_RATE);
    sesv2.injectFaults(STORM.ses);
    mailtrap.injectFaults(STORM.mailtrap);
  }
  await Promise.all([feed(phase, faults), faults ? outage() : Promise.resolve()]);
  const settled = Number((await settle(started)).toFixed(1));
  draining = false;
  await Promise.all(drains);
  setDieRate(0);
  sesv2.clearFaults();
  mailtrap.clearFaults();
  const dlq = await readDlqs(name);
  const exposure: Exposure = Object.fromEntries(
    Object.entries(FUNCTIONS).map(([pipeline, fns]) => [
      pipeline,
      {
        'function errors': fns.reduce((n, fn) => n + (functionErrors[fn] ?? 0) - (before.errors[fn] ?? 0), 0),
        'kills after write': fns.reduce((n, fn) => n + killedBy(fn) - (before.kills[fn] ?? 0), 0),
      },
    ]),
  );
  const rows = [...(await storeRows(phase, exposure, dlq, faults)), syncRow(phase, exposure, dlq, faults), await inboundRow(phase, exposure, dlq, faults)];
  const sum = (now: Record<string, number>, then: Record<string, number>) => Object.entries(now).reduce((n, [k, v]) => n + v - (then[k] ?? 0), 0);
  const errors = Object.entries(functionErrors).map(([k, v]) => [k, v - (before.errors[k] ?? 0)] as const).filter(([, v]) => v > 0);
  return {
    rows,
    notes: {
      phase: name,
      'settled after s': settled,
      'invocations killed after success': killed() - before.killed,
      'DynamoDB connections reset/held': proxy.refused - before.refused,
      'SES calls (faults injected)': `${sum(sesv2.calls, before.ses)} (${faults ? stormSize(STORM.ses) : 0})`,
      'Mailtrap calls (faults injected)': `${sum(mailtrap.calls, before.mt)} (${faults ? stormSize(STORM.mailtrap) : 0})`,
      'webhook non-200 answers (re-posted)': webhookNon200 - before.non200,
      'function errors': errors.map(([k, v]) => `${k} ${v}`).join(', ') || 'none',
    },
  };
}

console.log(
  `fault bench: ${machine()}`,
);
console.log(
  `sizes: ses ${SIZES.ses} notifications, webhook ${SIZES.webhook} events (${WEBHOOK_BODY_EVENTS} per body), sync ${SIZES.sync} addresses (SES list + ${mailtrapPairs.length} Mailtrap pairs), inbound ${SIZES.inbound} mails; ` +
    `fed over ${FEED_MS / 1000} s; faults phase: DynamoDB down ${OUTAGE_MS / 1000} s from ${FEED_MS / 4000} s (half reset, half blackhole), die-after-success ${DIE_RATE}, ` +
    `SES storm ${stormSize(STORM.ses)} / Mailtrap storm ${stormSize(STORM.mailtrap)} faulted calls, every delivery twice; SQS retry delay ${RETRY_DELAY_SECONDS} s`,
);
const baseline = await runPhase('baseline');
const faulted = await runPhase('faults');
const rows = [...baseline.rows, ...faulted.rows].sort((a, b) => a.pipeline.localeCompare(b.pipeline) || (a.phase === 'baseline' ? -1 : 1));
console.table(rows);
console.table([baseline.notes, faulted.notes]);
console.log(`function errors by kind (both phases):\n  ${[...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${n} x ${k}`).join('\n  ') || 'none'}`);
if (deadLetters.length > 0) console.log(`dead letters:\n  ${deadLetters.join('\n  ')}`);
if (missing.length > 0) console.log(`missing effects:\n  ${missing.join('\n  ')}`);
const bad = faulted.rows.concat(baseline.rows).filter((r) => r.lost > 0 || r.doubled > 0 || r['in DLQ'] > 0);
console.log(bad.length === 0 ? 'goal met: 0 lost, 0 doubled, 0 in DLQs in every pipeline and phase' : `goal missed: ${bad.map((r) => `${r.pipeline}/${r.phase} lost ${r.lost} doubled ${r.doubled} DLQ ${r['in DLQ']}`).join('; ')}`);
await stack.stop();
await proxy.stop();
process.exit(bad.length === 0 ? 0 : 1);
