/**
 * Store outages: the real ses-feedback handler, the Lambda-style SQS poller and a real queue
 * with a redrive policy, against a DynamoDB table that is missing (an outage) and then back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { makeSesFeedbackHandler, type SesFeedbackDeps } from '../../functions/ses-feedback/handler.ts';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from '../../shared/adapters/sqs-dead-letter-sink.ts';
import { DEFAULT_POLICY } from '../../shared/domain/suppression-policy.ts';
import { clients, drain, localInfo, queueDepth, queueWithDlq, sesBounceEvent, startTestPoller, stopTestPollers, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const realTable = info.tables.SuppressionsTable?.name ?? 'missing';
afterAll(stopTestPollers);

const startPoller = (queue: { url: string; arn: string }, deps: SesFeedbackDeps, retryDelaySeconds = 0) =>
  startTestPoller(queue, makeSesFeedbackHandler(() => deps), { name: 'outage', retryDelaySeconds });

const bounceBody = (email: string): string => JSON.stringify(sesBounceEvent(email, `fb-outage-${email}`));

describe('ses-feedback during a store outage', () => {
  it('retries a record the store cannot take and redrives it to the DLQ after maxReceiveCount', async () => {
    // Prepare
    const queue = await queueWithDlq('outage', 3, c.sqs);
    const deps: SesFeedbackDeps = {
      store: new DynamoSuppressionStore(c.documents, 'table-that-is-down'),
      deadLetters: new SqsDeadLetterSink(c.sqs, queue.dlqUrl),
      policy: DEFAULT_POLICY,
    };
    const poller = startPoller(queue, deps);
    // Act
    await c.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: bounceBody(uniqueEmail('outage')) }));
    // Assess: delivered to the function maxReceiveCount times, then moved by the redrive policy
    const dead = await waitFor(async () => {
      const m = await drain(queue.dlqUrl, c.sqs);
      return m.length > 0 ? m : undefined;
    }, 'redrive to DLQ');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.MessageAttributes?.['mailbridge.error']).toBeUndefined();
    expect(poller.invocations).toBe(3);
  });

  it('loses nothing: once the store is back, the retried record is applied', async () => {
    const queue = await queueWithDlq('recover', 10, c.sqs);
    const deps: SesFeedbackDeps = {
      store: new DynamoSuppressionStore(c.documents, 'table-that-is-down'),
      deadLetters: new SqsDeadLetterSink(c.sqs, queue.dlqUrl),
      policy: DEFAULT_POLICY,
    };
    // Retries a second apart, so the outage can end while attempts remain.
    const poller = startPoller(queue, deps, 1);
    const email = uniqueEmail('recovers');
    await c.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: bounceBody(email) }));
    await waitFor(async () => poller.invocations >= 2, 'two failed attempts');
    // The outage ends.
    const healthy = new DynamoSuppressionStore(c.documents, realTable);
    deps.store = healthy;
    const state = await waitFor(() => healthy.get(email), 'the bounce to be applied');
    expect(state.suppressions[0]?.reason).toBe('bounce');
    await waitFor(async () => {
      const d = await queueDepth(queue.url, c.sqs);
      return d.visible + d.inFlight === 0;
    }, 'queue empty');
    expect(await drain(queue.dlqUrl, c.sqs)).toHaveLength(0);
  });
});
