/**
 * SES -> SNS -> SQS -> ses-feedback -> DynamoDB, on the local stack with real SDK clients.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import type { AddressState } from '../../shared/domain/suppression-policy.ts';
import { cli, clients, drain, eventFile, localInfo, queue, queueDepth, ROOT, sesClassicBounce, uniqueEmail, waitFor, queueIdle as waitForIdle, stateOf as stateOfAddress } from './helpers.ts';

const c = clients();
const info = localInfo();
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
const feedbackQueue = queue('SesFeedbackQueue');
const dlq = queue('SesFeedbackDLQ');
const topicArn = info.topics.SesFeedbackTopic?.arn ?? 'missing';

const fixture = (name: string) => eventFile('ses', name);

async function publish(notification: unknown): Promise<void> {
  await c.sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(notification) }));
}

const stateOf = (email: string, until?: (s: AddressState) => boolean) => stateOfAddress(store, email, until);

const queueIdle = () => waitForIdle(feedbackQueue.url);

describe('SES feedback loop', () => {
  it('suppresses every bounced recipient of an SNS-enveloped notification, keeping the spelling', async () => {
    // Prepare
    const recipients = [uniqueEmail('Hard-A'), uniqueEmail('hard-b'), uniqueEmail('HARD-C')];
    // Act
    await publish(sesClassicBounce(recipients));
    // Assess
    for (const r of recipients) {
      const s = await stateOf(r);
      expect(s.email).toBe(r.toLowerCase());
      expect(s.spellings).toEqual([r]);
      expect(s.suppressions).toMatchObject([{ scope: 'global', reason: 'bounce', source: 'ses' }]);
    }
    const out = cli(['suppressions', 'get', recipients[0]!.toUpperCase()]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ email: recipients[0]!.toLowerCase(), suppressed: true, reason: 'bounce' });
  });

  it('accepts raw message delivery bodies (SES JSON straight on the queue)', async () => {
    const email = uniqueEmail('raw-complaint');
    const n = fixture('event_Complaint.json');
    n.complaint.complainedRecipients = [{ emailAddress: email }];
    n.complaint.feedbackId = `fb-raw-${email}`;
    await c.sqs.send(new SendMessageCommand({ QueueUrl: feedbackQueue.url, MessageBody: JSON.stringify(n) }));
    const s = await stateOf(email);
    expect(s.suppressions[0]?.reason).toBe('complaint');
  });

  it('applies a redelivered notification exactly once', async () => {
    // Prepare: the same SES feedback delivered as two SNS messages, and one SQS body sent twice.
    const email = uniqueEmail('redelivered');
    const n = sesClassicBounce([email], { type: 'Transient', feedbackId: `fb-dup-${email}` });
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'sns-1', TopicArn: topicArn, Message: JSON.stringify(n), Timestamp: n.bounce.timestamp });
    // Act
    await publish(n);
    await publish(n);
    await c.sqs.send(new SendMessageCommand({ QueueUrl: feedbackQueue.url, MessageBody: body }));
    await c.sqs.send(new SendMessageCommand({ QueueUrl: feedbackQueue.url, MessageBody: body }));
    await queueIdle();
    // Assess: one soft bounce counted, not four (four would also have crossed the threshold).
    const s = await stateOf(email);
    expect(s.counts['soft-bounce']).toBe(1);
    expect(s.softBounces).toHaveLength(1);
    expect(s.suppressions).toEqual([]);
    expect(s.version).toBe(1);
  });

  it('suppresses after three soft bounces, unless a delivery came between', async () => {
    const repeat = uniqueEmail('soft-three');
    const delivered = uniqueEmail('soft-delivered');
    const day = (d: number) => new Date(Date.UTC(2026, 5, d)).toISOString();
    for (const d of [1, 2]) {
      await publish(sesClassicBounce([repeat], { type: 'Transient', at: day(d) }));
      await publish(sesClassicBounce([delivered], { type: 'Transient', at: day(d) }));
    }
    await stateOf(delivered, (s) => s.counts['soft-bounce'] === 2);
    await stateOf(repeat, (s) => s.counts['soft-bounce'] === 2);
    const delivery = fixture('event_Delivery.json');
    delivery.delivery.recipients = [delivered];
    delivery.delivery.timestamp = day(3);
    delivery.mail.messageId = `delivery-${delivered}`;
    await publish(delivery);
    await stateOf(delivered, (s) => s.softBounces.length === 0 && s.lastDeliveryAt === day(3));
    await publish(sesClassicBounce([repeat], { type: 'Transient', at: day(4) }));
    await publish(sesClassicBounce([delivered], { type: 'Transient', at: day(4) }));

    const suppressed = await stateOf(repeat, (s) => s.suppressions.length > 0);
    expect(suppressed.suppressions[0]).toMatchObject({ reason: 'bounce', scope: 'global' });
    const notSuppressed = await stateOf(delivered, (s) => (s.counts['soft-bounce'] ?? 0) === 3);
    expect(notSuppressed.suppressions).toEqual([]);
    expect(notSuppressed.softBounces).toHaveLength(1);
  });

  it('accepts informational and unknown event types without writing anything', async () => {
    const email = uniqueEmail('informational');
    for (const file of ['event_Send.json', 'event_Open.json', 'event_Click.json', 'event_DeliveryDelay.json', 'event_Reject.json']) {
      const n = fixture(file);
      n.mail.destination = [email];
      await publish(n);
    }
    await publish({ ...fixture('event_Send.json'), eventType: 'SomethingNew', mail: { messageId: 'x', destination: [email] } });
    await queueIdle();
    expect(await store.get(email)).toBeUndefined();
    expect((await drain(dlq.url, c.sqs)).length).toBe(0);
  });

  it('sends malformed bodies to the DLQ with the reason and processes the rest of the batch', async () => {
    const email = uniqueEmail('batch-neighbour');
    await c.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: feedbackQueue.url,
        Entries: [
          { Id: 'bad-json', MessageBody: 'definitely { not json' },
          { Id: 'good', MessageBody: JSON.stringify(sesClassicBounce([email])) },
          { Id: 'not-ses', MessageBody: JSON.stringify({ hello: 'world' }) },
        ],
      }),
    );
    expect((await stateOf(email)).suppressions[0]?.reason).toBe('bounce');
    const dead = await waitFor(async () => {
      const d = await queueDepth(dlq.url, c.sqs);
      return d.visible >= 2 ? drain(dlq.url, c.sqs) : undefined;
    }, 'two malformed messages in the DLQ');
    const reasons = dead.map((m) => m.MessageAttributes?.['mailbridge.error']?.StringValue).sort();
    expect(reasons).toEqual(['body is not JSON', expect.stringMatching(/^not an SES notification: /)]);
    expect(dead.map((m) => m.Body).sort()).toEqual(['definitely { not json', JSON.stringify({ hello: 'world' })]);
    // drain() took them out: the DLQ is empty for whatever runs next.
    expect(await queueDepth(dlq.url, c.sqs)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('CLI: queues and local info describe the stack; get answers for unknown addresses', () => {
    const queues = cli(['queues', '--json']);
    expect(queues.stderr).toBe('');
    expect(queues.code).toBe(0);
    const rows = JSON.parse(queues.stdout) as Array<{ queue: string; visible: number; inFlight: number; dlq: number }>;
    expect(rows.map((r) => r.queue)).toContain(feedbackQueue.name);
    expect(rows.find((r) => r.queue === feedbackQueue.name)).toMatchObject({ visible: expect.any(Number), inFlight: expect.any(Number), dlq: expect.any(Number) });

    const local = cli(['local', 'info', '--json']);
    expect(JSON.parse(local.stdout)).toMatchObject({ httpUrl: info.httpUrl, endpoints: { dynamodb: info.endpoints.dynamodb }, tables: { SuppressionsTable: { name: expect.any(String) } } });

    const unknown = cli(['suppressions', 'get', 'nobody-here@example.org']);
    expect(unknown.code).toBe(0);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ email: 'nobody-here@example.org', suppressed: false, reason: null });

    const bad = cli(['suppressions', 'get', 'not-an-address']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('needs an email address');
  });

  it('CLI: simulate ses replays a file through SNS (raw) or straight to SQS (envelope)', async () => {
    const out = cli(['simulate', 'ses', join(ROOT, 'events', 'ses', 'classic_complaint_with_feedback.json')]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ via: 'sns' });
    const email = fixture('classic_complaint_with_feedback.json').complaint.complainedRecipients[0].emailAddress as string;
    expect((await stateOf(email)).suppressions[0]?.reason).toBe('complaint');
  });
});
