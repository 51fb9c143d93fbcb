/**
 * The inbound-parse handler on SQS batches built from the real payloads in events/: what goes
 * to the DLQ, what is processed, what is reported as a batch item failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeInboundParseHandler, type InboundParseDeps } from '../../../functions/inbound-parse/handler.ts';
import type { DeadLetterSink } from '../../../shared/ports/dead-letter-sink.ts';
import { BUCKET, memoryDeps } from '../../fixtures/inbound/fakes.ts';
import { ublMail } from '../../fixtures/inbound/mails.ts';

const EVENTS = join(import.meta.dirname, '..', '..', '..', 'events');
const alert = JSON.parse(readFileSync(join(EVENTS, 'ses', 'receiving_s3_alert.json'), 'utf8'));
const envelope = JSON.parse(readFileSync(join(EVENTS, 'sns', 'sns-to-sqs-envelope.json'), 'utf8'));

function received(messageId: string, bucket = BUCKET): Record<string, any> {
  const n = structuredClone(alert);
  n.mail.messageId = messageId;
  n.receipt.action.bucketName = bucket;
  n.receipt.action.objectKey = `inbound/${messageId}`;
  return n;
}

function sqsRecord(id: string, body: string): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'sns', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:mailbridge-test-inbound-mail',
    awsRegion: 'eu-west-1',
  };
}

const inEnvelope = (n: unknown): string => JSON.stringify({ ...structuredClone(envelope), Message: JSON.stringify(n) });

function setup() {
  const memory = memoryDeps();
  const deadLetters: Array<{ body: string; reason: string; sourceMessageId: string }> = [];
  const sink: DeadLetterSink = { send: async (m) => void deadLetters.push(m) };
  const deps: InboundParseDeps = { ...memory.deps, bucket: BUCKET, deadLetters: sink };
  const handler = makeInboundParseHandler(() => deps);
  const run = (records: SQSRecord[]) => handler({ Records: records } as SQSEvent, {} as Context);
  return { ...memory, deadLetters, run };
}

describe('inbound-parse handler', () => {
  it('processes an SNS-enveloped Received notification and acknowledges it', async () => {
    const { objects, store, events, run } = setup();
    objects.put(BUCKET, 'inbound/h-ok', await ublMail());

    const response = await run([sqsRecord('1', inEnvelope(received('h-ok')))]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(store.messages.get('h-ok')?.status).toBe('processed');
    expect(events.published).toHaveLength(1);
  });

  it('sends malformed bodies and foreign buckets to the DLQ with the reason, and acknowledges them', async () => {
    const { deadLetters, run } = setup();
    const notReceived = { ...structuredClone(alert), notificationType: 'Bounce' };

    const response = await run([
      sqsRecord('bad-json', '{oops'),
      sqsRecord('bad-type', inEnvelope(notReceived)),
      sqsRecord('foreign', inEnvelope(received('h-foreign', 'someone-elses-bucket'))),
    ]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(deadLetters.map((d) => [d.sourceMessageId, d.reason])).toEqual([
      ['bad-json', 'body is not JSON'],
      ['bad-type', expect.stringMatching(/^not an SES S3-action Received notification: notificationType/)],
      ['foreign', 'notification names bucket someone-elses-bucket, not the inbound bucket'],
    ]);
  });

  it('reports a store outage as a batch item failure, so SQS retries only that record', async () => {
    const { objects, store, run } = setup();
    objects.put(BUCKET, 'inbound/h-ok2', await ublMail());
    objects.put(BUCKET, 'inbound/h-down', await ublMail());
    const getMessage = store.getMessage.bind(store);
    store.getMessage = async (id) => {
      if (id === 'h-down') throw new Error('DynamoDB unavailable');
      return getMessage(id);
    };

    const response = await run([sqsRecord('ok', inEnvelope(received('h-ok2'))), sqsRecord('down', inEnvelope(received('h-down')))]);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'down' }] });
    expect(store.messages.has('h-ok2')).toBe(true);
  });
});
