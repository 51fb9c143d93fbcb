/**
 * The inbound-parse function's adapters and knobs, built once per cold start from its
 * environment: raw messages and attachments in the inbound bucket, records in the inbound
 * table, events on the invoice topic, malformed notifications to the DLQ.
 */
import * as z from 'zod/mini';
import { intVar, readConfig, requiredVar } from '../config.ts';
import type { VerdictPolicyConfig } from '../domain/inbound-verdicts.ts';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { InboundDeps } from '../services/process-inbound-mail.ts';
import { documentClient } from './clients/dynamodb.ts';
import { s3Client } from './clients/s3.ts';
import { snsClient } from './clients/sns.ts';
import { sqsClient } from './clients/sqs.ts';
import { DynamoInboundStore } from './dynamo-inbound-store.ts';
import { S3AttachmentSink } from './s3-attachment-sink.ts';
import { S3RawMessageStore } from './s3-raw-message-store.ts';
import { SnsInvoiceEvents } from './sns-invoice-events.ts';
import { SqsDeadLetterSink } from './sqs-dead-letter-sink.ts';

const flagVar = (fallback: boolean) => z._default(z.enum(['true', 'false']), fallback ? 'true' : 'false');

const inboundShape = {
  INBOUND_TABLE: requiredVar(),
  INBOUND_BUCKET: requiredVar(),
  INVOICE_EVENTS_TOPIC_ARN: requiredVar(),
  INBOUND_PARSE_DLQ_URL: requiredVar(),
  INBOUND_QUARANTINE_ON_VIRUS: flagVar(true),
  INBOUND_QUARANTINE_ON_SPAM: flagVar(true),
  INBOUND_QUARANTINE_ON_DMARC_REJECT: flagVar(true),
  /** Largest candidate invoice attachment held in memory for recognition (bytes). */
  INBOUND_MAX_CANDIDATE_BYTES: intVar(10 * 1024 * 1024),
  /** After this many attempts died unfinished, a message is stored without recognition. */
  INBOUND_MAX_CRASHED_ATTEMPTS: intVar(2),
};

export interface InboundFunctionDeps extends InboundDeps {
  /** The only bucket notifications may name. */
  bucket: string;
  deadLetters: DeadLetterSink;
}

function verdictPolicyFrom(c: { INBOUND_QUARANTINE_ON_VIRUS: string; INBOUND_QUARANTINE_ON_SPAM: string; INBOUND_QUARANTINE_ON_DMARC_REJECT: string }): VerdictPolicyConfig {
  return {
    quarantineOnVirus: c.INBOUND_QUARANTINE_ON_VIRUS === 'true',
    quarantineOnSpam: c.INBOUND_QUARANTINE_ON_SPAM === 'true',
    quarantineOnDmarcReject: c.INBOUND_QUARANTINE_ON_DMARC_REJECT === 'true',
  };
}

/**
 * How long a delivery holds the right to publish an invoice's event. Longer than the function
 * timeout, so a live worker never loses its lease; shorter than the inbound queue's visibility
 * timeout, so the retry of a delivery that failed holding it (its claim's answer lost in a store
 * outage, or the publish failing) finds it expired instead of waiting into the DLQ
 * (test/unit/inbound/publish-lease.test.ts; bench:faults, "Fault figures").
 */
export const PUBLISH_LEASE_MS = 5 * 60 * 1000;

export function inboundDepsFromEnv(env: NodeJS.ProcessEnv = process.env): InboundFunctionDeps {
  const c = readConfig(inboundShape, env);
  return {
    bucket: c.INBOUND_BUCKET,
    raw: new S3RawMessageStore(s3Client),
    attachments: (messageId, prefix) => new S3AttachmentSink(s3Client, c.INBOUND_BUCKET, messageId, prefix),
    store: new DynamoInboundStore(documentClient, c.INBOUND_TABLE),
    events: new SnsInvoiceEvents(snsClient, c.INVOICE_EVENTS_TOPIC_ARN),
    deadLetters: new SqsDeadLetterSink(sqsClient, c.INBOUND_PARSE_DLQ_URL),
    verdictPolicy: verdictPolicyFrom(c),
    parse: { maxCandidateBytes: c.INBOUND_MAX_CANDIDATE_BYTES },
    maxCrashedAttempts: c.INBOUND_MAX_CRASHED_ATTEMPTS,
    publishLeaseMs: PUBLISH_LEASE_MS,
    now: () => new Date(),
  };
}
