/**
 * Enqueues one SQS message per event with SendMessageBatch (10 per call, a few calls in
 * flight). Entries SQS reports as failed are retried; if some still fail the whole call fails,
 * so the caller can answer non-200 and the provider retries (duplicates are harmless: events
 * are idempotent downstream).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventQueue } from '../ports/event-queue.ts';

export class EnqueueError extends Error {
  override name = 'EnqueueError';
}

const BATCH = 10;
const PARALLEL = 10;
const ATTEMPTS = 3;

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  private async sendBatch(bodies: string[]): Promise<void> {
    let pending = bodies.map((body, i) => ({ Id: String(i), MessageBody: body }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      const retryable = (out.Failed ?? []).filter((f) => !f.SenderFault);
      if (retryable.length !== failed.size || attempt >= ATTEMPTS) {
        if (failed.size === 0) return;
        throw new EnqueueError(`${failed.size} of ${pending.length} messages not accepted: ${out.Failed?.[0]?.Code ?? 'unknown'}`);
      }
      pending = pending.filter((e) => failed.has(e.Id));
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }

  async enqueue(bodies: string[]): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < bodies.length; i += BATCH) batches.push(bodies.slice(i, i + BATCH));
    for (let i = 0; i < batches.length; i += PARALLEL) {
      await Promise.all(batches.slice(i, i + PARALLEL).map((b) => this.sendBatch(b)));
    }
  }
}
