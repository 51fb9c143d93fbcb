/**
 * The local SQS event source honours the mapping's maximumConcurrency as Lambda does: never
 * more batches in flight than the mapping allows, the rest waits in the queue (not failed,
 * not redriven). Runs against the shared fauxqs with a queue of its own.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { pollerConcurrency, SqsPoller } from '../../local/event-sources/sqs-poller.ts';
import { loadServiceConfig, type SqsEvent } from '../../local/serverless-config.ts';
import { clients, localInfo, queueDepth, ROOT, waitFor } from './helpers.ts';
import { join } from 'node:path';

const { sqs } = clients();
const created: string[] = [];
afterAll(async () => {
  for (const url of created) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
});

describe('local SQS poller concurrency', () => {
  it('reads each SQS mapping maximum from serverless.yml and never runs more', () => {
    const config = loadServiceConfig(join(ROOT, 'serverless.yml'), { stage: 'local' });
    const mappings = Object.values(config.functions).flatMap((fn) =>
      (fn.events ?? []).filter((e): e is SqsEvent => 'sqs' in e).map((e) => ({ max: e.sqs.maximumConcurrency, local: pollerConcurrency(e.sqs, fn.reservedConcurrency) })),
    );
    expect(mappings.length).toBeGreaterThanOrEqual(3);
    for (const m of mappings) {
      expect(m.max).toBeGreaterThanOrEqual(2);
      expect(m.local).toBeLessThanOrEqual(Number(m.max));
    }
    expect(pollerConcurrency({ maximumConcurrency: 2 }, 10)).toBe(2);
    expect(pollerConcurrency({}, 3)).toBe(3);
    expect(() => pollerConcurrency({ maximumConcurrency: 0 })).toThrow(RangeError);
  });

  it('holds a burst at maximumConcurrency 2: at most two batches in flight, every message processed once', async () => {
    const info = localInfo();
    const name = `poller-test-${randomUUID().slice(0, 8)}`;
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const url = String(out.QueueUrl);
    created.push(url);
    const arn = String((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn);
    const total = 12;
    for (let i = 0; i < total; i += 6) {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: 6 }, (_, j) => ({ Id: String(j), MessageBody: `m${i + j}` })) }));
    }

    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    const release: Array<() => void> = [];
    const poller = new SqsPoller({
      name,
      client: sqs,
      queueUrl: url,
      queueArn: arn,
      region: info.region,
      batchSize: 1,
      reportBatchItemFailures: true,
      concurrency: pollerConcurrency({ maximumConcurrency: 2 }),
      retryDelaySeconds: 1,
      // Each invocation holds its slot until the test releases it.
      invoke: async (event) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seen.push(...event.Records.map((r) => r.body));
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return { batchItemFailures: [] };
      },
      onError: () => undefined,
    });
    poller.start();
    try {
      for (let released = 0; released < total; ) {
        // Wait until the poller has filled both slots (or taken the last message), then free them.
        await waitFor(async () => release.length >= Math.min(2, total - released) || undefined, 'invocations to start');
        expect(inFlight).toBeLessThanOrEqual(2);
        const batch = release.splice(0);
        released += batch.length;
        for (const r of batch) r();
      }
      await waitFor(async () => {
        const d = await queueDepth(url);
        return d.visible === 0 && d.inFlight === 0;
      }, 'queue to drain');
    } finally {
      for (const r of release.splice(0)) r();
      await poller.stop();
    }
    expect(maxInFlight).toBe(2);
    expect(seen.sort()).toEqual(Array.from({ length: total }, (_, i) => `m${i}`).sort());
  });
});
