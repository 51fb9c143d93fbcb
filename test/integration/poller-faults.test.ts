/**
 * The local event sources' injected "died after its writes" fault (bench:faults): a function
 * that did its work but never acknowledged gets its batch again, and the work still lands
 * exactly once. Real queue with a redrive policy, the real ses-feedback handler and the
 * suppression table on DynamoDB Local; for streams, a reader of its own on a real table's stream.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DeleteQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { makeSesFeedbackHandler } from '../../functions/ses-feedback/handler.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from '../../shared/adapters/sqs-dead-letter-sink.ts';
import { DEFAULT_POLICY } from '../../shared/domain/suppression-policy.ts';
import { DynamoDbStreamPoller } from '../../local/event-sources/dynamodb-stream-poller.ts';
import { clients, drain, localInfo, queueDepth, queueWithDlq, sesBounceEvent, startTestPoller, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

describe('injected fault: the function dies after its writes, before acknowledging', () => {
  it('SQS: the message is redelivered and its bounce is applied exactly once', async () => {
    // Prepare: a queue with a DLQ, the real handler on the real suppression table.
    const queue = await queueWithDlq('die-after-success', 3, c.sqs);
    const { url, dlqUrl: dlq } = queue;
    stops.push(() => c.sqs.send(new DeleteQueueCommand({ QueueUrl: url })), () => c.sqs.send(new DeleteQueueCommand({ QueueUrl: dlq })));
    const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
    const handler = makeSesFeedbackHandler(() => ({ store, deadLetters: new SqsDeadLetterSink(c.sqs, dlq), policy: DEFAULT_POLICY }));
    const poller = startTestPoller(queue, handler, { name: 'die-after-success' });
    // Every successful invocation dies once (a message at most once).
    poller.dieAfterSuccess.rate = 1;
    stops.push(() => poller.stop());
    const email = uniqueEmail('dies-after-write');

    // Act
    await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(sesBounceEvent(email, `fb-die-${email}`)) }));

    // Assess: handled, killed before the delete, handled again, deleted.
    await waitFor(async () => {
      const d = await queueDepth(url, c.sqs);
      return poller.invocations >= 2 && d.visible + d.inFlight === 0;
    }, 'the redelivered message to be deleted');
    expect(poller.dieAfterSuccess.killed).toBe(1);
    expect(poller.invocations).toBe(2);
    const state = await store.get(email);
    expect(state?.suppressions.map((s) => s.reason)).toEqual(['bounce']);
    // The second delivery was recognised as the same event: counted once.
    expect(Object.values(state?.counts ?? {}).reduce((n, v) => n + (v ?? 0), 0)).toBe(1);
    expect(await drain(dlq, c.sqs)).toHaveLength(0);
  });

  it('DynamoDB Streams: the batch is retried, not skipped, and counts as a retry', async () => {
    // Prepare: a table of its own with a stream, read from its start.
    const tableName = `die-after-success-${randomUUID().slice(0, 8)}`;
    const table = await c.dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    stops.push(() => c.dynamodb.send(new DeleteTableCommand({ TableName: tableName })));
    const streamArn = table.TableDescription?.LatestStreamArn ?? (await c.dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn;
    const streams = new DynamoDBStreamsClient({ region: info.region, credentials: { ...info.credentials }, endpoint: info.endpoints.dynamodb });
    stops.push(async () => streams.destroy());
    const deliveries: string[] = [];
    const poller = new DynamoDbStreamPoller({
      name: tableName,
      client: streams,
      streamArn: String(streamArn),
      region: info.region,
      batchSize: 100,
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: true,
      bisectOnError: false,
      maximumRetryAttempts: 2,
      invoke: async (event: DynamoDBStreamEvent) => {
        for (const r of event.Records) deliveries.push(String(r.dynamodb?.Keys?.pk?.S));
        return { batchItemFailures: [] };
      },
      onError: () => undefined,
      pollIntervalMs: 50,
      retryDelayMs: 10,
      discoveryMs: 200,
    });
    poller.dieAfterSuccess.rate = 1;
    poller.start();
    stops.push(() => poller.stop());

    // Act
    await c.documents.send(new PutCommand({ TableName: tableName, Item: { pk: 'only-item' } }));

    // Assess: delivered, killed, delivered again; never given up on.
    await waitFor(async () => deliveries.length >= 2, 'the record to be delivered again');
    expect(deliveries).toEqual(['only-item', 'only-item']);
    expect(poller.dieAfterSuccess.killed).toBe(1);
    expect(poller.discarded).toBe(0);
  });
});
