import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient, ReceiveMessageCommand, GetQueueAttributesCommand, DeleteMessageBatchCommand, CreateQueueCommand, DeleteQueueCommand, type Message } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import type { LocalInfo } from '../../local/stack.ts';
import { SqsPoller } from '../../local/event-sources/sqs-poller.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { DynamoInboundStore } from '../../shared/adapters/dynamo-inbound-store.ts';
import type { SuppressionStore } from '../../shared/ports/suppression-store.ts';
import type { AddressState } from '../../shared/domain/suppression-policy.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

export function localInfo(): LocalInfo {
  return inject('localInfo');
}

export function clients(info: LocalInfo = localInfo()) {
  const base = { region: info.region, credentials: { ...info.credentials } };
  const dynamodb = new DynamoDBClient({ ...base, endpoint: info.endpoints.dynamodb });
  return {
    sqs: new SQSClient({ ...base, endpoint: info.endpoints.sqs, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient({ ...base, endpoint: info.endpoints.sns }),
    s3: new S3Client({ ...base, endpoint: info.endpoints.s3, forcePathStyle: true }),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
  };
}

export function queue(id: string, info: LocalInfo = localInfo()) {
  const q = info.queues[id];
  if (!q) throw new Error(`queue ${id} is not in the local stack`);
  return q;
}

/**
 * A queue of the test's own, subscribed to `topicArn` with raw message delivery (the body is
 * the published message), as a downstream consumer would be; `remove` unsubscribes and deletes it.
 */
export async function subscribedQueue(topicArn: string, queueName: string, c = clients()): Promise<{ url: string; remove(): Promise<void> }> {
  const q = await testQueue(queueName, {}, c.sqs);
  const out = await c.sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: q.arn, Attributes: { RawMessageDelivery: 'true' }, ReturnSubscriptionArn: true }),
  );
  const subscriptionArn = String(out.SubscriptionArn);
  return {
    url: q.url,
    async remove() {
      await c.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
      await c.sqs.send(new DeleteQueueCommand({ QueueUrl: q.url }));
    },
  };
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function queueDepth(url: string, sqs = clients().sqs): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/**
 * Read and delete everything visible in a queue (e.g. a DLQ), so the next test starts from an
 * empty queue whatever ran before it. Receives until a receive comes back empty (bounded:
 * 100 receives of 10), deleting each batch once read.
 */
export async function drain(url: string, sqs = clients().sqs): Promise<Message[]> {
  const all: Message[] = [];
  for (let i = 0; i < 100; i++) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return all;
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle ?? '' })) }),
    );
    if ((deleted.Failed ?? []).length > 0) throw new Error(`drain: could not delete ${deleted.Failed?.length} message(s) from ${url}`);
    all.push(...messages);
  }
  throw new Error(`drain: ${url} still had messages after 1,000 were read`);
}

export function uniqueEmail(tag: string): string {
  return `${tag}-${randomUUID().slice(0, 8)}@Example.org`;
}

/** A reference payload under events/, parsed afresh (a test may change its copy). */
export function eventFile(...path: string[]): Record<string, any> {
  return JSON.parse(readFileSync(join(ROOT, 'events', ...path), 'utf8'));
}

/** The SES event-publishing bounce (events/ses/event_Bounce.json) of one recipient, with a feedbackId of its own. */
export function sesBounceEvent(email: string, feedbackId = `fb-${randomUUID()}`): Record<string, any> {
  const n = eventFile('ses', 'event_Bounce.json');
  n.bounce.bouncedRecipients = [{ emailAddress: email, status: '5.1.1' }];
  n.bounce.feedbackId = feedbackId;
  return n;
}

/** The SES classic bounce (events/ses/classic_bounce_with_dsn.json) to `recipients`, with a feedbackId and time of its own unless given. */
export function sesClassicBounce(recipients: string[], opts: { type?: string; feedbackId?: string; at?: string } = {}): Record<string, any> {
  const n = eventFile('ses', 'classic_bounce_with_dsn.json');
  n.bounce.bounceType = opts.type ?? 'Permanent';
  n.bounce.feedbackId = opts.feedbackId ?? `fb-${randomUUID()}`;
  n.bounce.timestamp = opts.at ?? new Date().toISOString();
  n.bounce.bouncedRecipients = recipients.map((emailAddress) => ({ emailAddress, status: '5.1.1', action: 'failed' }));
  n.mail.destination = recipients;
  return n;
}

/** The first event of a Mailtrap reference file (events/mailtrap/), with a fresh event_id, address and time. */
export function mailtrapEvent(file: string, overrides: Record<string, unknown> = {}, addressTag = 'mt') {
  const reference: Record<string, unknown> = eventFile('mailtrap', file).events[0];
  return { ...reference, event_id: randomUUID(), email: uniqueEmail(addressTag), timestamp: Math.floor(Date.now() / 1000), ...overrides };
}

/** Run the CLI as a user would (`npx mailbridge ...`), against the test stack. */
export function cli(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [join(ROOT, 'bin', 'mailbridge.js'), ...args], {
    env: { ...process.env, MAILBRIDGE_LOCAL_STATE: inject('stateFile') },
    encoding: 'utf8',
    input,
  });
  return { code: out.status ?? -1, stdout: out.stdout, stderr: out.stderr };
}

/** The stored state of an address once it exists and `until` holds. */
export async function stateOf(store: SuppressionStore, email: string, until: (s: AddressState) => boolean = () => true): Promise<AddressState> {
  return waitFor(async () => {
    const s = await store.get(email);
    return s && until(s) ? s : undefined;
  }, `state of ${email}`);
}

/** Wait until a queue has nothing visible or in flight. */
export async function queueIdle(url: string, timeoutMs = 60_000, sqs = clients().sqs): Promise<void> {
  await waitFor(async () => {
    const d = await queueDepth(url, sqs);
    return d.visible === 0 && d.inFlight === 0;
  }, `queue ${url.split('/').pop()} to drain`, timeoutMs);
}

/** GET (no body) or POST (JSON body) a simulator's control plane, e.g. `sim(info.endpoints.sesv2, 'state')`. */
export async function sim<T>(endpoint: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${endpoint}/__sim/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${endpoint}/__sim/${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Run a scheduled function of the test stack now (`POST /__local/schedule/<fn>`). */
export async function runScheduled(fn: string, info: LocalInfo = localInfo()): Promise<Record<string, unknown>> {
  const response = await fetch(`${info.httpUrl}/__local/schedule/${fn}`, { method: 'POST' });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${fn}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** What the inbound tests talk to: the delivery target (S3 + SNS), the inbound store, bucket and queues. */
export function inboundStack(info: LocalInfo = localInfo()) {
  const c = clients(info);
  return {
    target: { info, s3: c.s3, sns: c.sns },
    store: new DynamoInboundStore(c.documents, info.tables.InboundTable?.name ?? 'missing'),
    bucket: info.buckets.InboundBucket?.name ?? 'missing',
    inboundQueue: queue('InboundMailQueue', info),
    inboundDlq: queue('InboundMailDLQ', info),
  };
}

/** A fresh queue of this test's own (a random suffix keeps runs and files apart). */
export async function testQueue(name: string, attributes: Record<string, string> = {}, sqs = clients().sqs): Promise<{ url: string; arn: string }> {
  const q = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID().slice(0, 8)}`, Attributes: attributes }));
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  return { url: String(q.QueueUrl), arn: String(arn) };
}

/** A test queue with a DLQ and a redrive policy (production's is 5 receives). */
export async function queueWithDlq(name: string, maxReceiveCount = 5, sqs = clients().sqs): Promise<{ url: string; arn: string; dlqUrl: string }> {
  const dlq = await testQueue(`${name}-dlq`, {}, sqs);
  const q = await testQueue(name, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }) }, sqs);
  return { ...q, dlqUrl: dlq.url };
}

const pollers: SqsPoller[] = [];

/**
 * The local stack's Lambda-style SQS poller (batches of 10, batch item failures, one batch at
 * a time) on a test queue, invoking a real handler with a Lambda context. Stop them all with
 * `stopTestPollers` in the file's afterAll.
 */
export function startTestPoller(
  queue: { url: string; arn: string },
  handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>,
  options: { name: string; retryDelaySeconds?: number },
  info: LocalInfo = localInfo(),
): SqsPoller {
  const poller = new SqsPoller({
    name: options.name,
    client: clients(info).sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: info.region,
    batchSize: 10,
    reportBatchItemFailures: true,
    concurrency: 1,
    retryDelaySeconds: options.retryDelaySeconds ?? 0,
    invoke: (event) => handler(event as SQSEvent, lambdaContext(options.name, 30, 256, info.region)),
    onError: () => undefined,
  });
  poller.start();
  pollers.push(poller);
  return poller;
}

export async function stopTestPollers(): Promise<void> {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
}
