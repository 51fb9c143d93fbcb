/**
 * SES feedback throughput and DynamoDB write cost, end to end on the local stack:
 * SQS (fauxqs) -> ses-feedback (Lambda-style poller, 4 concurrent batches of 10) -> DynamoDB Local.
 *
 * Three phases, each its own measurement:
 *  1. "no effect": deliveries to unknown addresses and Send/Open/Click events;
 *  2. "suppressing": permanent bounces and complaints to new addresses (several recipients
 *     per notification), plus transient bounces;
 *  3. "redelivered": every phase-2 notification again (what SNS/SQS redelivery looks like).
 * Write requests are counted with a middleware on the function's own DynamoDB client, per
 * table: the goal is about the suppression store. The same process also runs
 * suppression-changes on the store's stream, which queues each newly suppressed address for
 * the two providers (writes to the sync table, asynchronously, so they can land in a later
 * phase); those are reported apart, at the end.
 *
 *   npm run bench:ses              (EVENTS=12000 to change the total)
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalStack } from '../local/stack.ts';
import { machine } from './machine.ts';

const TOTAL = Number(process.env.EVENTS ?? 12_000);

const stack = await startLocalStack({ httpPort: 0, stateFile: null, logLevel: 'ERROR', onFunctionError: () => undefined });
// Imported after the stack set the environment: this is the same module instance the function uses.
const { dynamoClient } = await import('../shared/adapters/clients/dynamodb.ts');
const storeTable = stack.info.tables.SuppressionsTable?.name;
const writes = { requests: 0, conditionalFailures: 0, otherTables: 0 };
dynamoClient.middlewareStack.add(
  (next, context) => async (args) => {
    const name = context.commandName ?? '';
    if (/^(PutItem|UpdateItem|DeleteItem)Command$/.test(name)) {
      if ((args.input as { TableName?: string }).TableName === storeTable) writes.requests++;
      else writes.otherTables++;
    }
    try {
      return await next(args);
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') writes.conditionalFailures++;
      throw error;
    }
  },
  { step: 'initialize', name: 'benchWriteCounter' },
);

const info = stack.info;
const queueUrl = info.queues.SesFeedbackQueue?.url ?? '';
const sqs = new SQSClient({ region: info.region, endpoint: info.endpoints.sqs, credentials: { ...info.credentials }, useQueueUrlAsEndpoint: false });
const topicArn = info.topics.SesFeedbackTopic?.arn ?? '';

function envelope(notification: unknown): string {
  return JSON.stringify({ Type: 'Notification', MessageId: randomUUID(), TopicArn: topicArn, Message: JSON.stringify(notification), Timestamp: new Date().toISOString() });
}

function mail(destination: string[]) {
  return { messageId: randomUUID(), timestamp: new Date().toISOString(), source: 'sender@example.com', destination };
}

const addr = (tag: string, i: number) => `${tag}-${i}-${randomUUID().slice(0, 6)}@bench.example`;

/** Notifications and how many recipient-level events each carries. */
type Batch = Array<{ body: string; events: number }>;

function noEffect(events: number): Batch {
  const out: Batch = [];
  for (let i = 0; i < events; i++) {
    const r = addr('quiet', i);
    const kind = i % 4;
    const n =
      kind === 0 || kind === 1
        ? { eventType: 'Delivery', mail: mail([r]), delivery: { timestamp: new Date().toISOString(), recipients: [r] } }
        : { eventType: kind === 2 ? 'Send' : 'Open', mail: mail([r]), ...(kind === 3 ? { open: { timestamp: new Date().toISOString() } } : {}) };
    out.push({ body: envelope(n), events: 1 });
  }
  return out;
}

function suppressing(events: number): Batch {
  const out: Batch = [];
  let made = 0;
  for (let i = 0; made < events; i++) {
    const kind = i % 4;
    const recipients = Array.from({ length: kind === 0 ? 3 : 1 }, (_, k) => addr('loud', i * 10 + k));
    made += recipients.length;
    const n =
      kind === 1
        ? { notificationType: 'Complaint', mail: mail(recipients), complaint: { feedbackId: randomUUID(), timestamp: new Date().toISOString(), complaintFeedbackType: 'abuse', complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })) } }
        : {
            notificationType: 'Bounce',
            mail: mail(recipients),
            bounce: {
              feedbackId: randomUUID(),
              timestamp: new Date().toISOString(),
              bounceType: kind === 3 ? 'Transient' : 'Permanent',
              bounceSubType: kind === 3 ? 'MailboxFull' : 'General',
              bouncedRecipients: recipients.map((emailAddress) => ({ emailAddress, status: '5.1.1' })),
            },
          };
    out.push({ body: envelope(n), events: recipients.length });
  }
  return out;
}

async function depth(): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function run(name: string, batch: Batch) {
  const before = { ...writes };
  const started = performance.now();
  for (let i = 0; i < batch.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.slice(i, i + 10).map((m, k) => ({ Id: String(k), MessageBody: m.body })) }));
  }
  while ((await depth()) > 0) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - started) / 1000;
  const events = batch.reduce((s, m) => s + m.events, 0);
  const w = writes.requests - before.requests;
  return {
    phase: name,
    notifications: batch.length,
    events,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(events / seconds),
    writeRequests: w,
    writesPerEvent: Number((w / events).toFixed(3)),
    conditionalRetries: writes.conditionalFailures - before.conditionalFailures,
  };
}

const quietCount = Math.round(TOTAL * 0.4);
const loudCount = Math.round(TOTAL * 0.3);
const loud = suppressing(loudCount);
const results = [
  await run('no effect (deliveries to unknown addresses, Send, Open)', noEffect(quietCount)),
  await run('suppressing (bounces x1 and x3 recipients, complaints, transient)', loud),
  await run('redelivered (phase 2 again)', loud.map((m) => ({ ...m }))),
];
const all = results.reduce((a, r) => ({ events: a.events + r.events, seconds: a.seconds + r.seconds, writes: a.writes + r.writeRequests }), { events: 0, seconds: 0, writes: 0 });

console.log(`ses-feedback bench: ${all.events} recipient-level events, ${machine()}`);
console.table(results);
console.log(
  `overall: ${Math.round(all.events / all.seconds)} events/s end to end, ${(all.writes / all.events).toFixed(3)} suppression-store write requests per event`,
);
console.log(`sync outbox (suppression-changes on the store's stream): ${writes.otherTables} write requests to the sync table so far`);
await stack.stop();
process.exit(0);
