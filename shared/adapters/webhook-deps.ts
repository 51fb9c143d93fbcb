/**
 * The mailtrap-webhook function's adapters, built once per cold start from its environment:
 * the signing secret (SSM, or the variable locally), the events queue and the quarantine
 * bucket. Tests pass their own clients (for example ones pointed at a service that is down).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { intVar, optionalVar, readConfig, requiredVar } from '../config.ts';
import type { EventQueue } from '../ports/event-queue.ts';
import type { Quarantine } from '../ports/quarantine.ts';
import { s3Client } from './clients/s3.ts';
import { sqsClient } from './clients/sqs.ts';
import { S3Quarantine } from './s3-quarantine.ts';
import { SqsEventQueue } from './sqs-event-queue.ts';
import { webhookSecretSource, type SecretSource } from './webhook-secret.ts';

const webhookShape = {
  MAILTRAP_EVENTS_QUEUE_URL: requiredVar(),
  QUARANTINE_BUCKET: requiredVar(),
  MAILTRAP_WEBHOOK_SECRET: optionalVar(),
  MAILTRAP_WEBHOOK_SECRET_PARAM: optionalVar(),
  WEBHOOK_MAX_BODY_BYTES: intVar(4 * 1024 * 1024),
};

export interface WebhookConfig {
  MAILTRAP_EVENTS_QUEUE_URL: string;
  QUARANTINE_BUCKET: string;
  MAILTRAP_WEBHOOK_SECRET?: string | undefined;
  MAILTRAP_WEBHOOK_SECRET_PARAM?: string | undefined;
  WEBHOOK_MAX_BODY_BYTES: number;
}

export interface WebhookDeps {
  secret: SecretSource;
  queue: EventQueue;
  quarantine: Quarantine;
  maxBodyBytes: number;
}

export function mailtrapWebhookDeps(config: WebhookConfig, aws: { sqs: SQSClient; s3: S3Client } = { sqs: sqsClient, s3: s3Client }): WebhookDeps {
  return {
    secret: webhookSecretSource({ secret: config.MAILTRAP_WEBHOOK_SECRET, parameterName: config.MAILTRAP_WEBHOOK_SECRET_PARAM }),
    queue: new SqsEventQueue(aws.sqs, config.MAILTRAP_EVENTS_QUEUE_URL),
    quarantine: new S3Quarantine(aws.s3, config.QUARANTINE_BUCKET),
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
  };
}

export function mailtrapWebhookDepsFromEnv(): WebhookDeps {
  return mailtrapWebhookDeps(readConfig(webhookShape));
}
