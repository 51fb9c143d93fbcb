/**
 * An SQS event source mapping as Lambda runs it: long-poll the queue, hand the function a
 * batch in Lambda's SQS event shape, delete what succeeded, and leave what failed (listed in
 * `batchItemFailures`, or the whole batch when the function throws) for SQS to redeliver; the
 * queue's redrive policy moves a message to its DLQ after maxReceiveCount receives.
 *
 * One local deviation: instead of waiting for the queue's visibility timeout (minutes), a
 * failed message is made visible again after `retryDelaySeconds` (default 1) so retries and
 * redrive can be watched in seconds.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DieAfterSuccess } from './die-after-success.ts';

export interface SqsPollerOptions {
  name: string;
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  concurrency: number;
  retryDelaySeconds: number;
  invoke: (event: SQSEvent) => Promise<unknown>;
  onError: (error: unknown) => void;
}

/** Most batches one local poller runs at once, whatever the mapping allows (a 2-core laptop). */
const LOCAL_POLLER_CAP = 4;

/**
 * How many batches the local poller runs at once for one SQS mapping: the mapping's
 * `maximumConcurrency` as Lambda honours it (never more), else the function's reserved
 * concurrency, else 2; at most LOCAL_POLLER_CAP.
 */
export function pollerConcurrency(mapping: { maximumConcurrency?: unknown }, reservedConcurrency?: unknown): number {
  const declared = Number(mapping.maximumConcurrency ?? reservedConcurrency ?? 2);
  if (!Number.isInteger(declared) || declared < 1) throw new RangeError(`SQS mapping concurrency must be a positive integer, got ${String(mapping.maximumConcurrency ?? reservedConcurrency)}`);
  return Math.min(LOCAL_POLLER_CAP, declared);
}

function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: String(m.MessageId),
    receiptHandle: String(m.ReceiptHandle),
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        {
          dataType: String(v.DataType),
          ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
          ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export class SqsPoller {
  private running = false;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();
  /** Batches handed to the function, for `mailbridge local info` and tests. */
  invocations = 0;
  /** Injected "died after its writes" faults (off unless a bench or test sets a rate). */
  readonly dieAfterSuccess = new DieAfterSuccess();

  constructor(private readonly o: SqsPollerOptions) {}

  start(): void {
    this.running = true;
    for (let i = 0; i < this.o.concurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (error) {
        if (!this.running) return;
        this.o.onError(error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async pollOnce(): Promise<void> {
    const out = await this.o.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.o.queueUrl,
        MaxNumberOfMessages: Math.min(10, this.o.batchSize),
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, this.o.queueArn, this.o.region)) };
    this.invocations++;
    let failed: Set<string>;
    try {
      const result = (await this.o.invoke(event)) as SQSBatchResponse | undefined;
      failed = new Set(this.o.reportBatchItemFailures ? (result?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : []);
      if (this.dieAfterSuccess.strikes(event.Records.map((r) => r.messageId))) failed = new Set(event.Records.map((r) => r.messageId));
    } catch (error) {
      // A function error fails the whole batch, as in Lambda.
      this.o.onError(error);
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    const succeeded = messages.filter((m) => !failed.has(String(m.MessageId)));
    const retry = messages.filter((m) => failed.has(String(m.MessageId)));
    if (succeeded.length > 0) {
      await this.o.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.o.queueUrl,
          Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
        }),
      );
    }
    if (retry.length > 0) {
      await this.o.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.o.queueUrl,
          Entries: retry.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle), VisibilityTimeout: this.o.retryDelaySeconds })),
        }),
      );
    }
  }
}
