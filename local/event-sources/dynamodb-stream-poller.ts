/**
 * A DynamoDB Streams event source mapping as Lambda runs it, against DynamoDB Local:
 * DescribeStream -> GetShardIterator -> GetRecords per shard, batches in Lambda's
 * `DynamoDBStreamEvent` shape, in order per shard.
 *
 * Failure handling as Lambda documents it
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html):
 * - `ReportBatchItemFailures`: the batch is retried from the lowest failed SequenceNumber
 *   (records before it are done); an empty list means success; a thrown error fails it all;
 * - `bisectBatchOnFunctionError`: a failing batch is split in two and each half retried;
 * - `maximumRetryAttempts`: after that many retries the batch is skipped and, with an
 *   `onFailure` SQS destination, its coordinates (not the records) are sent there in Lambda's
 *   invocation-record shape; without a limit (-1 / absent) it is retried until it succeeds.
 *
 * Local deviations: retries wait `retryDelayMs` (doubling, max 2 s) instead of Lambda's
 * immediate retry; `batchWindow`, `parallelizationFactor`, tumbling windows and event
 * filters are not implemented; new shards are discovered every `discoveryMs`, a child shard
 * is read only after its parent is exhausted (as Lambda does).
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ExpiredIteratorException,
  TrimmedDataAccessException,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DieAfterSuccess } from './die-after-success.ts';

export interface StreamPollerOptions {
  name: string;
  client: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  batchSize: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  reportBatchItemFailures: boolean;
  bisectOnError: boolean;
  /** -1 or undefined: until it succeeds. */
  maximumRetryAttempts?: number | undefined;
  onFailure?: { sqs: SQSClient; queueUrl: string; functionArn: string } | undefined;
  invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  onError: (error: unknown) => void;
  pollIntervalMs?: number;
  retryDelayMs?: number;
  discoveryMs?: number;
}

/** The SDK's stream record as Lambda hands it over (same member names, camel-cased envelope). */
function toLambdaRecord(r: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime instanceof Date ? d.ApproximateCreationDateTime.getTime() / 1000 : Date.now() / 1000;
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(created),
      Keys: d.Keys as never,
      ...(d.NewImage ? { NewImage: d.NewImage as never } : {}),
      ...(d.OldImage ? { OldImage: d.OldImage as never } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as never,
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DynamoDbStreamPoller {
  private running = false;
  private readonly readers = new Map<string, Promise<void>>();
  private readonly finished = new Set<string>();
  private discovery?: Promise<void>;
  /** Batches handed to the function, and batches given up on (for tests and `local info`). */
  invocations = 0;
  discarded = 0;
  /** Injected "died after its writes" faults (off unless a bench or test sets a rate). */
  readonly dieAfterSuccess = new DieAfterSuccess();

  constructor(private readonly o: StreamPollerOptions) {}

  start(): void {
    this.running = true;
    this.discovery = this.discover();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.discovery?.catch(() => undefined);
    await Promise.allSettled([...this.readers.values()]);
  }

  private async discover(): Promise<void> {
    while (this.running) {
      try {
        const shards: Shard[] = [];
        let start: string | undefined;
        do {
          const out = await this.o.client.send(new DescribeStreamCommand({ StreamArn: this.o.streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
          shards.push(...(out.StreamDescription?.Shards ?? []));
          start = out.StreamDescription?.LastEvaluatedShardId;
        } while (start);
        const known = new Set(shards.map((s) => s.ShardId));
        for (const shard of shards) {
          const id = String(shard.ShardId);
          if (this.readers.has(id)) continue;
          // A child waits until its parent has been read to the end (order per item key).
          const parent = shard.ParentShardId;
          if (parent && known.has(parent) && !this.finished.has(parent)) continue;
          this.readers.set(id, this.readShard(id));
        }
      } catch (error) {
        if (this.running) this.o.onError(error);
      }
      await sleep(this.o.discoveryMs ?? 2000);
    }
  }

  private async readShard(shardId: string): Promise<void> {
    let iterator: string | undefined;
    try {
      const out = await this.o.client.send(
        new GetShardIteratorCommand({ StreamArn: this.o.streamArn, ShardId: shardId, ShardIteratorType: this.o.startingPosition }),
      );
      iterator = out.ShardIterator;
    } catch (error) {
      this.o.onError(error);
      this.readers.delete(shardId);
      return;
    }
    let lastSequence: string | undefined;
    while (this.running && iterator) {
      let records: _Record[];
      try {
        const out = await this.o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(1000, this.o.batchSize) }));
        records = out.Records ?? [];
        iterator = out.NextShardIterator;
      } catch (error) {
        if (!this.running) return;
        if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
          const out = await this.o.client.send(
            new GetShardIteratorCommand({
              StreamArn: this.o.streamArn,
              ShardId: shardId,
              ...(lastSequence ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastSequence } : { ShardIteratorType: 'TRIM_HORIZON' }),
            }),
          );
          iterator = out.ShardIterator;
          continue;
        }
        this.o.onError(error);
        await sleep(500);
        continue;
      }
      if (records.length > 0) {
        await this.deliver(shardId, records.map((r) => toLambdaRecord(r, this.o.streamArn, this.o.region)));
        lastSequence = records.at(-1)?.dynamodb?.SequenceNumber;
      } else {
        await sleep(this.o.pollIntervalMs ?? 250);
      }
    }
    if (!iterator) this.finished.add(shardId);
  }

  /** Deliver one batch until it succeeds, is bisected into batches that do, or runs out of retries. */
  private async deliver(shardId: string, records: DynamoDBRecord[]): Promise<void> {
    const pending: DynamoDBRecord[][] = [records];
    const retries = new Map<DynamoDBRecord[], number>();
    let delay = this.o.retryDelayMs ?? 100;
    while (pending.length > 0 && this.running) {
      const batch = pending.shift() as DynamoDBRecord[];
      const failedFrom = await this.invokeOnce(batch);
      if (failedFrom < 0) {
        delay = this.o.retryDelayMs ?? 100;
        continue;
      }
      const rest = batch.slice(failedFrom);
      const attempt = (retries.get(batch) ?? 0) + 1;
      const max = this.o.maximumRetryAttempts;
      if (max !== undefined && max >= 0 && attempt > max) {
        await this.discard(shardId, rest, attempt);
        continue;
      }
      await sleep(delay);
      delay = Math.min(2000, delay * 2);
      if (this.o.bisectOnError && rest.length > 1) {
        const half = Math.ceil(rest.length / 2);
        const left = rest.slice(0, half);
        const right = rest.slice(half);
        // Lambda counts the retry against both halves.
        retries.set(left, attempt);
        retries.set(right, attempt);
        pending.unshift(left, right);
      } else {
        retries.set(rest, attempt);
        pending.unshift(rest);
      }
    }
  }

  /** -1 when the whole batch succeeded, else the index of the first record to retry from. */
  private async invokeOnce(batch: DynamoDBRecord[]): Promise<number> {
    this.invocations++;
    try {
      const result = (await this.o.invoke({ Records: batch })) as DynamoDBBatchResponse | undefined;
      if (this.dieAfterSuccess.strikes(batch.map((r) => String(r.dynamodb?.SequenceNumber)))) {
        this.o.onError(new Error(`${this.o.name}: died after its writes (injected fault)`));
        return 0;
      }
      if (!this.o.reportBatchItemFailures) return -1;
      const failures = (result?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      if (failures.length === 0) return -1;
      const indexes = failures.map((id) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === id));
      // An identifier that names no record of the batch fails the whole batch (as Lambda does).
      return indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
    } catch (error) {
      this.o.onError(error);
      return 0;
    }
  }

  private async discard(shardId: string, batch: DynamoDBRecord[], attempts: number): Promise<void> {
    this.discarded++;
    const first = batch[0]?.dynamodb;
    const last = batch.at(-1)?.dynamodb;
    this.o.onError(new Error(`${this.o.name}: giving up on ${batch.length} stream record(s) after ${attempts - 1} retries`));
    if (!this.o.onFailure) return;
    // Lambda's invocation record for stream sources: where the batch is, not the records.
    const body = {
      requestContext: {
        requestId: crypto.randomUUID(),
        functionArn: this.o.onFailure.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first?.SequenceNumber,
        endSequenceNumber: last?.SequenceNumber,
        approximateArrivalOfFirstRecord: first?.ApproximateCreationDateTime ? new Date(first.ApproximateCreationDateTime * 1000).toISOString() : undefined,
        approximateArrivalOfLastRecord: last?.ApproximateCreationDateTime ? new Date(last.ApproximateCreationDateTime * 1000).toISOString() : undefined,
        batchSize: batch.length,
        streamArn: this.o.streamArn,
      },
    };
    await this.o.onFailure.sqs.send(new SendMessageCommand({ QueueUrl: this.o.onFailure.queueUrl, MessageBody: JSON.stringify(body) }));
  }
}
