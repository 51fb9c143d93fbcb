/**
 * The stream side of the sync's failure paths: a store change that cannot be queued (the sync
 * table refuses it) fails only its own record; the event source mapping (the local poller,
 * which follows Lambda's documented stream semantics) bisects the batch, retries the failing
 * half up to maximumRetryAttempts and sends that record's coordinates to the sync DLQ, while
 * every other change in the batch is queued. Fakes stand in for DynamoDB Streams, the sync
 * table and SQS.
 */
import { describe, expect, it } from 'vitest';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type _Record, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { makeSuppressionChangesHandler } from '../../functions/suppression-changes/handler.ts';
import { toItem } from '../../shared/adapters/dynamo-suppression-store.ts';
import { applyManualSuppression, type AddressState } from '../../shared/domain/suppression-policy.ts';
import { DynamoDbStreamPoller } from '../../local/event-sources/dynamodb-stream-poller.ts';
import { join } from 'node:path';
import { loadServiceConfig } from '../../local/serverless-config.ts';

const STREAM = 'arn:aws:dynamodb:eu-west-1:000000000000:table/suppressions/stream/1';

function insert(email: string, seq: number): _Record {
  const state = applyManualSuppression(undefined, { email, reason: 'bounce', at: '2026-01-01T00:00:00.000Z', key: `k:${email}` }).next as AddressState;
  return {
    eventID: `e${seq}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      Keys: { pk: { S: state.email } },
      NewImage: marshall(toItem({ ...state, version: 1 }, '2026-01-01T00:00:00.000Z'), { removeUndefinedValues: true }) as never,
      SequenceNumber: String(seq),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** One shard holding `records`, read once, then closed. */
function fakeStream(records: _Record[]): DynamoDBStreamsClient {
  let served = false;
  return {
    send: async (command: unknown) => {
      if (command instanceof DescribeStreamCommand) return { StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } };
      if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'it-1' };
      if (command instanceof GetRecordsCommand) {
        if (served) return { Records: [] };
        served = true;
        return { Records: records, NextShardIterator: 'it-2' };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBStreamsClient;
}

describe('sync queueing: a stream batch with a change that cannot be queued', () => {
  it('is bisected; the failing record goes to the DLQ after maximumRetryAttempts, the others are queued', async () => {
    // Prepare: four new suppressions in one batch; the sync table refuses the third one every time.
    const emails = ['a@example.org', 'b@example.org', 'poison@example.org', 'd@example.org'];
    const queued: string[] = [];
    const attemptsOnPoison: number[] = [];
    const dlq: Array<Record<string, any>> = [];
    const handler = makeSuppressionChangesHandler(() => ({
      config: { mailtrapDomains: [], mailtrapStreams: ['transactional'], sesContactList: undefined },
      now: () => '2026-01-01T00:00:01.000Z',
      sync: {
        markPending: async (email) => {
          if (email === 'poison@example.org') {
            attemptsOnPoison.push(1);
            throw new Error('sync table unavailable');
          }
          queued.push(email);
        },
      },
    }));
    const errors: unknown[] = [];
    const poller = new DynamoDbStreamPoller({
      name: 'suppression-changes',
      client: fakeStream(emails.map((e, i) => insert(e, (i + 1) * 100))),
      streamArn: STREAM,
      region: 'eu-west-1',
      batchSize: 10,
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: true,
      bisectOnError: true,
      maximumRetryAttempts: 2,
      onFailure: {
        sqs: { send: async (c: { input: { MessageBody?: string } }) => void dlq.push(JSON.parse(c.input.MessageBody ?? '{}')) } as unknown as SQSClient,
        queueUrl: 'https://sqs.local/sync-dlq',
        functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:suppression-changes',
      },
      invoke: (event) => handler(event, { getRemainingTimeInMillis: () => 30_000 } as Context),
      onError: (error) => void errors.push(error),
      pollIntervalMs: 1,
      retryDelayMs: 1,
      discoveryMs: 5,
    });
    // Act
    poller.start();
    for (let i = 0; i < 2000 && poller.discarded === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await poller.stop();
    // Assess: the other three were queued (for each provider), the poisoned one is in the DLQ alone.
    expect(new Set(queued)).toEqual(new Set(['a@example.org', 'b@example.org', 'd@example.org']));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      DDBStreamBatchInfo: { shardId: 'shard-1', startSequenceNumber: '300', endSequenceNumber: '300', batchSize: 1, streamArn: STREAM },
    });
    // Tried once in the whole batch, once after the bisection, once more: maximumRetryAttempts (2) + 1.
    expect(attemptsOnPoison.length).toBeGreaterThanOrEqual(3);
    expect(poller.discarded).toBe(1);
    expect(errors.some((e) => String(e).includes('giving up on 1 stream record(s) after 2 retries'))).toBe(true);
  });

  it('with the mapping of serverless.yml, waits out a sync table outage longer than ten retries: queued, nothing in the DLQ', async () => {
    // Prepare: the suppression-changes mapping as deployed; the sync table refuses the first 12
    // writes, one more than the first try and ten retries (bench:faults: a 30 s DynamoDB outage
    // spent a budget of 10 retries and left an opt-out that never reached the providers).
    const config = loadServiceConfig(join(import.meta.dirname, '..', '..', 'serverless.yml'), { stage: 'test', region: 'eu-west-1' });
    const mapping = config.functions['suppression-changes']?.events?.find((e) => 'stream' in e) as { stream: Record<string, unknown> } | undefined;
    expect(mapping).toBeDefined();
    const spec = mapping?.stream ?? {};
    let refusals = 12;
    const queued: string[] = [];
    const dlq: unknown[] = [];
    const handler = makeSuppressionChangesHandler(() => ({
      config: { mailtrapDomains: [], mailtrapStreams: ['transactional'], sesContactList: undefined },
      now: () => '2026-01-01T00:00:01.000Z',
      sync: {
        markPending: async (email) => {
          if (refusals-- > 0) throw new Error('sync table unavailable');
          queued.push(email);
        },
      },
    }));
    const poller = new DynamoDbStreamPoller({
      name: 'suppression-changes',
      client: fakeStream([insert('outage@example.org', 100)]),
      streamArn: STREAM,
      region: 'eu-west-1',
      batchSize: Number(spec.batchSize ?? 100),
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: spec.functionResponseType === 'ReportBatchItemFailures',
      bisectOnError: spec.bisectBatchOnFunctionError === true,
      maximumRetryAttempts: spec.maximumRetryAttempts === undefined ? undefined : Number(spec.maximumRetryAttempts),
      onFailure: {
        sqs: { send: async (c: { input: { MessageBody?: string } }) => void dlq.push(JSON.parse(c.input.MessageBody ?? '{}')) } as unknown as SQSClient,
        queueUrl: 'https://sqs.local/sync-dlq',
        functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:suppression-changes',
      },
      invoke: (event) => handler(event, { getRemainingTimeInMillis: () => 30_000 } as Context),
      onError: () => undefined,
      pollIntervalMs: 1,
      retryDelayMs: 1,
      discoveryMs: 5,
    });
    // Act
    poller.start();
    for (let i = 0; i < 4000 && poller.discarded === 0 && queued.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await poller.stop();
    // Assess
    expect(poller.discarded).toBe(0);
    expect(dlq).toHaveLength(0);
    expect(queued).toContain('outage@example.org');
  });
});
