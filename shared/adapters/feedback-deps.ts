/**
 * What every feedback pipeline (SES, Mailtrap) needs, built from its configuration on first
 * use: the DynamoDB suppression store, its DLQ for malformed messages, and the policy knobs.
 */
import { policyFromEnv, readConfig, requiredVar } from '../config.ts';
import type { PolicyConfig } from '../domain/suppression-policy.ts';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import { documentClient } from './clients/dynamodb.ts';
import { sqsClient } from './clients/sqs.ts';
import { DynamoSuppressionStore } from './dynamo-suppression-store.ts';
import { SqsDeadLetterSink } from './sqs-dead-letter-sink.ts';
import { requireAddressRefKey } from '../observability.ts';

export interface FeedbackDeps {
  store: SuppressionStore;
  deadLetters: DeadLetterSink;
  policy: PolicyConfig;
}

export function feedbackDepsFromEnv(dlqVariable: string, env: NodeJS.ProcessEnv = process.env): FeedbackDeps {
  const config = readConfig({ SUPPRESSION_TABLE: requiredVar() }, env);
  const dlqShape: Record<string, ReturnType<typeof requiredVar>> = { [dlqVariable]: requiredVar() };
  const dlq = String(readConfig(dlqShape, env)[dlqVariable]);
  requireAddressRefKey(env);
  return {
    store: new DynamoSuppressionStore(documentClient, config.SUPPRESSION_TABLE),
    deadLetters: new SqsDeadLetterSink(sqsClient, dlq),
    policy: policyFromEnv(env),
  };
}
