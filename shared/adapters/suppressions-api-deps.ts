/**
 * What `suppressions-api` needs, built once per cold start from its configuration: the
 * suppression store and sync table, the sync settings (to show per-provider state), the
 * policy, and whether requests without IAM authoriser context may be served.
 *
 * Fail closed: deployed, every route is `AWS_IAM`-authorised, so API Gateway always passes
 * the caller's IAM identity. A request without it means the authoriser was lost (a template
 * edit, a stage deployed by hand) and is refused. Only the local stack, which has no
 * authoriser, says so with `MAILBRIDGE_LOCAL_STACK=true` (local/stack.ts sets it;
 * serverless.yml never does, checked by test).
 */
import { policyFromEnv, readConfig } from '../config.ts';
import * as z from 'zod/mini';
import type { PolicyConfig } from '../domain/suppression-policy.ts';
import type { SyncConfig } from '../domain/suppression-sync.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import { storesFromEnv, syncConfigFromEnv } from './sync-deps.ts';
import { requireAddressRefKey } from '../observability.ts';

export interface SuppressionsApiDeps {
  store: SuppressionStore;
  sync: Pick<SyncStateStore, 'forAddress'>;
  config: SyncConfig;
  policy: PolicyConfig;
  now: () => string;
  /** Serve requests that carry no IAM authoriser context (the local stack only). */
  allowUnauthenticated: boolean;
}

export const LOCAL_STACK_VARIABLE = 'MAILBRIDGE_LOCAL_STACK';

export function suppressionsApiDepsFromEnv(env: NodeJS.ProcessEnv = process.env): SuppressionsApiDeps {
  const c = readConfig({ [LOCAL_STACK_VARIABLE]: z.optional(z.string()) }, env);
  requireAddressRefKey(env);
  return {
    ...storesFromEnv(env),
    config: syncConfigFromEnv(env),
    policy: policyFromEnv(env),
    now: () => new Date().toISOString(),
    allowUnauthenticated: c[LOCAL_STACK_VARIABLE] === 'true',
  };
}
