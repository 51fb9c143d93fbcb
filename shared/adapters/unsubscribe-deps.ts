/**
 * What the unsubscribe endpoint needs, built once per cold start: the suppression store, the
 * token secrets and the policy knobs.
 */
import { optionalVar, readConfig, requiredVar } from '../config.ts';
import type { PolicyConfig } from '../domain/suppression-policy.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import { documentClient } from './clients/dynamodb.ts';
import { DynamoSuppressionStore } from './dynamo-suppression-store.ts';
import { policyFromEnv } from '../config.ts';
import { unsubscribeSecretsSource, type SecretsSource } from './unsubscribe-secrets.ts';
import { requireAddressRefKey } from '../observability.ts';

export interface UnsubscribeDeps {
  store: SuppressionStore;
  secrets: SecretsSource;
  policy: PolicyConfig;
  now: () => Date;
}

export function unsubscribeDepsFromEnv(env: NodeJS.ProcessEnv = process.env): UnsubscribeDeps {
  const c = readConfig(
    { SUPPRESSION_TABLE: requiredVar(), UNSUBSCRIBE_SECRETS: optionalVar(), UNSUBSCRIBE_SECRET_PARAM: optionalVar(), UNSUBSCRIBE_PREVIOUS_SECRET_PARAM: optionalVar() },
    env,
  );
  requireAddressRefKey(env);
  return {
    store: new DynamoSuppressionStore(documentClient, c.SUPPRESSION_TABLE),
    secrets: unsubscribeSecretsSource({ secrets: c.UNSUBSCRIBE_SECRETS, currentParam: c.UNSUBSCRIBE_SECRET_PARAM, previousParam: c.UNSUBSCRIBE_PREVIOUS_SECRET_PARAM }),
    policy: policyFromEnv(env),
    now: () => new Date(),
  };
}
