/**
 * What `suppression-changes` needs, built once per cold start: the sync table (the outbox it
 * writes to) and the sync settings that decide what each provider must learn.
 */
import type { SyncConfig } from '../domain/suppression-sync.ts';
import { requireAddressRefKey } from '../observability.ts';
import type { SyncStateStore } from '../ports/sync-state.ts';
import { storesFromEnv, syncConfigFromEnv } from './sync-deps.ts';

export interface SuppressionChangesDeps {
  sync: Pick<SyncStateStore, 'markPending'>;
  config: SyncConfig;
  now: () => string;
}

export function suppressionChangesDepsFromEnv(env: NodeJS.ProcessEnv = process.env): SuppressionChangesDeps {
  requireAddressRefKey(env);
  return { sync: storesFromEnv(env).sync, config: syncConfigFromEnv(env), now: () => new Date().toISOString() };
}
