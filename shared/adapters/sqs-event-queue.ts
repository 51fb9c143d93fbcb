/**
 * Enqueues one SQS message per event with SendMessageBatch (up to 10 per call, a few calls in
 * flight), packed so that no message and no request passes SQS's size limits.
 *
 * SQS limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html):
 * a message, and the sum of a SendMessageBatch request's messages, may not pass the queue's
 * MaximumMessageSize. That was 256 KiB (262,144 bytes) for years; since August 2025 it can be
 * up to 1 MiB, but queues keep their own setting, so we pack for the smaller figure.
 *
 * Outcomes:
 * - an entry SQS refuses for its content (`SenderFault`: too long, invalid characters) or one
 *   over the message limit before sending is returned in `rejected` with the reason: resending
 *   it can never succeed, so the caller quarantines it;
 * - a request SQS refuses as too long (`BatchRequestTooLong`, a limit lower than ours) is sent
 *   again one entry per request; a single entry refused that way is rejected for its content;
 * - entries failed on SQS's side are retried; if some still fail, or the call itself fails
 *   (SQS unavailable), `enqueue` throws EnqueueError: an infrastructure failure, the caller
 *   answers non-200 and the provider retries (events are idempotent downstream).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EnqueueResult, EventQueue } from '../ports/event-queue.ts';

/** @public Part of the adapter's contract (see above): an infrastructure failure. */
export class EnqueueError extends Error {
  override name = 'EnqueueError';
}

export interface SqsSizeLimits {
  /** Largest message body, in bytes. */
  messageBytes: number;
  /** Largest sum of the bodies of one SendMessageBatch request, in bytes. */
  batchBytes: number;
}

const SQS_SIZE_LIMITS: SqsSizeLimits = { messageBytes: 262_144, batchBytes: 262_144 };

const BATCH = 10;
const PARALLEL = 10;
const ATTEMPTS = 3;

interface Entry {
  index: number;
  body: string;
  bytes: number;
}

function isBatchTooLong(error: unknown): boolean {
  const name = (error as { name?: unknown; Code?: unknown })?.name;
  return name === 'BatchRequestTooLong' || name === 'BatchRequestTooLongException';
}

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly limits: SqsSizeLimits = SQS_SIZE_LIMITS,
  ) {}

  /** Send one request's entries; returns the entries refused for their content. */
  private async sendBatch(entries: Entry[]): Promise<EnqueueResult['rejected']> {
    const rejected: EnqueueResult['rejected'] = [];
    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let out;
      try {
        out = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending.map((e) => ({ Id: String(e.index), MessageBody: e.body })) }),
        );
      } catch (error) {
        if (!isBatchTooLong(error)) throw new EnqueueError(`SQS SendMessageBatch failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        if (pending.length === 1) {
          const [only] = pending;
          if (only) rejected.push({ index: only.index, reason: `SQS refused the message: ${(error as Error).name} (${only.bytes} bytes)` });
          return rejected;
        }
        for (const entry of pending) rejected.push(...(await this.sendBatch([entry])));
        return rejected;
      }
      const byId = new Map(pending.map((e) => [String(e.index), e]));
      const retry: Entry[] = [];
      for (const failed of out.Failed ?? []) {
        const entry = byId.get(String(failed.Id));
        if (!entry) continue;
        if (failed.SenderFault) rejected.push({ index: entry.index, reason: `SQS refused the message: ${failed.Code ?? 'SenderFault'} (${entry.bytes} bytes)` });
        else retry.push(entry);
      }
      if (retry.length > 0 && attempt >= ATTEMPTS) {
        throw new EnqueueError(`${retry.length} of ${entries.length} messages not accepted after ${ATTEMPTS} attempts: ${out.Failed?.[0]?.Code ?? 'unknown'}`);
      }
      pending = retry;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * attempt));
    }
    return rejected;
  }

  /** Group entries into requests of at most 10 entries and `batchBytes` bytes, in order. */
  private pack(entries: Entry[]): Entry[][] {
    const batches: Entry[][] = [];
    let current: Entry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      if (current.length > 0 && (current.length >= BATCH || bytes + entry.bytes > this.limits.batchBytes)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += entry.bytes;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  async enqueue(bodies: string[]): Promise<EnqueueResult> {
    const rejected: EnqueueResult['rejected'] = [];
    const entries: Entry[] = [];
    bodies.forEach((body, index) => {
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > this.limits.messageBytes) rejected.push({ index, reason: `message of ${bytes} bytes exceeds the SQS limit of ${this.limits.messageBytes}` });
      else entries.push({ index, body, bytes });
    });
    const batches = this.pack(entries);
    for (let i = 0; i < batches.length; i += PARALLEL) {
      const results = await Promise.all(batches.slice(i, i + PARALLEL).map((b) => this.sendBatch(b)));
      for (const r of results) rejected.push(...r);
    }
    return { rejected: rejected.sort((a, b) => a.index - b.index) };
  }
}
