/**
 * Mailtrap webhook and mailtrap-events at their limits, with the real handlers, real SDK
 * clients and real queues / buckets on the local stack's fauxqs and DynamoDB Local:
 * - SQS refusing an entry for its content (size, characters) -> quarantined, 200;
 * - SendMessageBatch kept within SQS's request limit;
 * - SQS or S3 unavailable -> 500 (Mailtrap retries);
 * - a queued event that can never be applied -> DLQ after one receive, with its reason;
 * - a SES message the store refuses for its content -> DLQ after one receive, with its reason.
 */
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeMailtrapWebhookHandler } from '../../functions/mailtrap-webhook/handler.ts';
import { makeMailtrapEventsHandler } from '../../functions/mailtrap-events/handler.ts';
import { makeSesFeedbackHandler } from '../../functions/ses-feedback/handler.ts';
import { mailtrapWebhookDeps } from '../../shared/adapters/webhook-deps.ts';
import { SqsEventQueue } from '../../shared/adapters/sqs-event-queue.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from '../../shared/adapters/sqs-dead-letter-sink.ts';
import type { FeedbackDeps } from '../../shared/adapters/feedback-deps.ts';
import { DEFAULT_POLICY } from '../../shared/domain/suppression-policy.ts';
import { signMailtrapBody } from '../../shared/domain/webhook-signature.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { WEBHOOK_SECRET } from './global-setup.ts';
import { clients, localInfo, mailtrapEvent, queueDepth, queueWithDlq, sesBounceEvent, startTestPoller, stopTestPollers, testQueue, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const table = info.tables.SuppressionsTable?.name ?? 'missing';
const bucket = info.buckets.QuarantineBucket?.name ?? 'missing';
afterAll(stopTestPollers);

const createQueue = (name: string, attributes: Record<string, string> = {}) => testQueue(name, attributes, c.sqs);

/** Everything in a queue right now, each message deleted once read. */
async function takeAll(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 20; i++) {
    const got = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) await c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    out.push(...messages);
  }
  return out;
}

/** A TCP port nothing listens on: a client pointed there sees the service as down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

const base = { region: info.region, credentials: { ...info.credentials }, maxAttempts: 1 };
const downSqs = async () => new SQSClient({ ...base, endpoint: `http://127.0.0.1:${await closedPort()}`, useQueueUrlAsEndpoint: false });
const downS3 = async () => new S3Client({ ...base, endpoint: `http://127.0.0.1:${await closedPort()}`, forcePathStyle: true });

const referenceEvent = (overrides: Record<string, unknown> = {}) => mailtrapEvent('bounce.json', overrides, 'mt-fault');

function webhookRequest(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/mailtrap',
    rawPath: '/webhooks/mailtrap',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'mailtrap-signature': signMailtrapBody(Buffer.from(body), WEBHOOK_SECRET) },
    requestContext: { http: { method: 'POST', path: '/webhooks/mailtrap', sourceIp: '127.0.0.1' } },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function callWebhook(clientsFor: { sqs: SQSClient; s3: S3Client }, queueUrl: string, body: string) {
  const deps = mailtrapWebhookDeps(
    { MAILTRAP_EVENTS_QUEUE_URL: queueUrl, QUARANTINE_BUCKET: bucket, MAILTRAP_WEBHOOK_SECRET: WEBHOOK_SECRET, WEBHOOK_MAX_BODY_BYTES: 4 * 1024 * 1024 },
    clientsFor,
  );
  const handler = makeMailtrapWebhookHandler(() => deps);
  const response = (await handler(webhookRequest(body), lambdaContext('mailtrap-webhook', 30, 256, info.region))) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, body: JSON.parse(String(response.body)) as Record<string, unknown> };
}

async function quarantined(key: string) {
  const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const object = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { reason: head.Metadata?.reason, body: JSON.parse(String(await object.Body?.transformToString())) as { invalid: Array<{ index: number; reason: string }> } };
}

describe('mailtrap-webhook: what SQS refuses for content is quarantined, 200', () => {
  it('quarantines an event whose queued form a queue refuses, enqueues the rest, and answers 200', async () => {
    // Prepare: a queue that takes at most 1 KiB per message (SQS's own size check, as on AWS).
    const small = await createQueue('mt-small', { MaximumMessageSize: '1024' });
    const fits = referenceEvent({ custom_variables: { blob: 'v'.repeat(300 * 1024) } });
    const tooLong = referenceEvent({ reason: 'r'.repeat(990) });
    // Act
    const res = await callWebhook(c, small.url, JSON.stringify({ events: [fits, tooLong] }));
    // Assess
    expect(res).toMatchObject({ status: 200, body: { received: 2, enqueued: 1, quarantined: 1 } });
    const kept = await quarantined(String(res.body.quarantineKey));
    expect(kept.reason).toMatch(/SQS refused/);
    expect(kept.body.invalid).toMatchObject([{ index: 1, reason: expect.stringMatching(/SQS refused.*InvalidParameterValue/) }]);
    const queued = await takeAll(small.url);
    expect(queued.map((m) => JSON.parse(String(m.Body)).event_id)).toEqual([fits.event_id]);
    expect(queued[0]?.Body).not.toContain('custom_variables');
  });

  it('keeps every SendMessageBatch request within the request limit (10 bodies of 200 KB)', async () => {
    const q = await createQueue('mt-batch');
    const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(200 * 1024) }));
    const result = await new SqsEventQueue(c.sqs, q.url).enqueue(bodies);
    expect(result.rejected).toEqual([]);
    expect((await takeAll(q.url)).map((m) => JSON.parse(String(m.Body)).i).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('falls back to one entry per request when SQS says a batch request is too long', async () => {
    const q = await createQueue('mt-fallback');
    // Limits above the emulator's 1 MiB request cap, as if SQS lowered its limit under us.
    const queue = new SqsEventQueue(c.sqs, q.url, { messageBytes: 2 * 1024 * 1024, batchBytes: 4 * 1024 * 1024 });
    const bodies = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(300 * 1024) }));
    const result = await queue.enqueue(bodies);
    expect(result.rejected).toEqual([]);
    expect(await takeAll(q.url)).toHaveLength(6);
  });
});

describe('mailtrap-webhook: only an infrastructure failure answers 500', () => {
  it('answers 500 when SQS is unavailable', async () => {
    const q = await createQueue('mt-down');
    const res = await callWebhook({ sqs: await downSqs(), s3: c.s3 }, q.url, JSON.stringify({ events: [referenceEvent()] }));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: 'internal error' });
  });

  it('answers 500 when the quarantine bucket (S3) is unavailable for an invalid event', async () => {
    const q = await createQueue('mt-s3-down');
    const res = await callWebhook({ sqs: c.sqs, s3: await downS3() }, q.url, JSON.stringify({ events: [referenceEvent(), referenceEvent({ email: 'no-at-sign' })] }));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: 'internal error' });
  });
});

async function deadLettered(dlqUrl: string, count: number): Promise<Message[]> {
  const found: Message[] = [];
  return waitFor(async () => {
    found.push(...(await takeAll(dlqUrl)));
    return found.length >= count ? found : undefined;
  }, `${count} message(s) in the DLQ`);
}

describe('a queued message that cannot be applied for its content goes to the DLQ at once', () => {
  it('mailtrap-events: an invalid address or timestamp is dead-lettered after one receive, with its reason', async () => {
    // Prepare: what an older webhook (or a person) may have queued.
    const queue = await queueWithDlq('mt-events-content');
    const deps: FeedbackDeps = { store: new DynamoSuppressionStore(c.documents, table), deadLetters: new SqsDeadLetterSink(c.sqs, queue.dlqUrl), policy: DEFAULT_POLICY };
    const handler = makeMailtrapEventsHandler(() => deps);
    const poller = startTestPoller(queue, handler, { name: 'mailtrap-events' });
    const good = referenceEvent({ bounce_category: 'badrecipient' });
    const bodies = [referenceEvent({ email: 'no-at-sign' }), referenceEvent({ email: 'a b@c.d' }), referenceEvent({ timestamp: 9e12 }), good].map((e) => JSON.stringify(e));
    // Act
    for (const body of bodies) await c.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    // Assess
    const dead = await deadLettered(queue.dlqUrl, 3);
    expect(dead.map((m) => m.Body).sort()).toEqual(bodies.slice(0, 3).sort());
    const reasons = dead.map((m) => String(m.MessageAttributes?.['mailbridge.error']?.StringValue)).sort();
    expect(reasons).toEqual([expect.stringMatching(/^bounce: email /), expect.stringMatching(/^bounce: email /), expect.stringMatching(/^bounce: timestamp /)]);
    const applied = await waitFor(() => deps.store.get(String(good.email)), 'the valid neighbour applied');
    expect(applied.suppressions[0]?.reason).toBe('bounce');
    await waitFor(async () => {
      const d = await queueDepth(queue.url, c.sqs);
      return d.visible + d.inFlight === 0;
    }, 'queue empty');
    // One receive each: four messages, at most four invocations; a retry would need more.
    expect(poller.invocations).toBeLessThanOrEqual(4);
  });

  it('ses-feedback: a notification with a value past its bound is dead-lettered after one receive, with its reason', async () => {
    const queue = await queueWithDlq('ses-content');
    const deps: FeedbackDeps = { store: new DynamoSuppressionStore(c.documents, table), deadLetters: new SqsDeadLetterSink(c.sqs, queue.dlqUrl), policy: DEFAULT_POLICY };
    const handler = makeSesFeedbackHandler(() => deps);
    const poller = startTestPoller(queue, handler, { name: 'ses-feedback' });
    const email = uniqueEmail('ses-huge');
    const n = sesBounceEvent(email);
    // A 500 KB bounce sub type: kept, it would take the item past DynamoDB's 400 KB limit on every retry.
    n.bounce.bounceSubType = 's'.repeat(500 * 1024);
    const body = JSON.stringify(n);
    await c.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const [dead] = await deadLettered(queue.dlqUrl, 1);
    expect(dead?.Body).toBe(body);
    expect(dead?.MessageAttributes?.['mailbridge.error']?.StringValue).toMatch(/^not an SES notification: bounce\.bounceSubType /);
    expect(poller.invocations).toBe(1);
    expect(await deps.store.get(email)).toBeUndefined();
  });
});
