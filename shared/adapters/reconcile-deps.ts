/**
 * What `suppression-reconcile` needs, built once per cold start: both providers' suppression
 * APIs, the store and sync table (checkpoints, pace), the policy and run settings, and the SES
 * contact list whose unsubscribe-all contacts are read too.
 */
import { policyFromEnv } from '../config.ts';
import type { PolicyConfig } from '../domain/suppression-policy.ts';
import type { SyncConfig } from '../domain/suppression-sync.ts';
import { requireAddressRefKey } from '../observability.ts';
import type { MailtrapSuppressionApi, SesSuppressionApi } from '../ports/provider-suppressions.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import { systemClock, type Clock } from '../services/run-clock.ts';
import { sesv2Client } from './clients/sesv2.ts';
import { Sesv2Suppressions } from './sesv2-suppressions.ts';
import { mailtrapApiFromEnv, runSettingsFromEnv, storesFromEnv, syncConfigFromEnv, type RunSettings } from './sync-deps.ts';

export interface SuppressionReconcileDeps {
  ses: SesSuppressionApi;
  mailtrap: MailtrapSuppressionApi;
  store: SuppressionStore;
  sync: SyncStateStore;
  policy: PolicyConfig;
  settings: RunSettings;
  clock: Clock;
  /** SES contact list whose unsubscribe-all contacts are read too (none: skipped). */
  sesContactList?: string | undefined;
  /** Where the sync pushes (lets the Mailtrap pass confirm awaited dashboard uploads). */
  syncConfig?: SyncConfig | undefined;
}

export function reconcileDepsFromEnv(env: NodeJS.ProcessEnv = process.env): SuppressionReconcileDeps {
  requireAddressRefKey(env);
  const syncConfig = syncConfigFromEnv(env);
  return {
    ses: new Sesv2Suppressions(sesv2Client),
    mailtrap: mailtrapApiFromEnv(env),
    ...storesFromEnv(env),
    policy: policyFromEnv(env),
    settings: runSettingsFromEnv(env),
    clock: systemClock,
    sesContactList: syncConfig.sesContactList,
    syncConfig,
  };
}
