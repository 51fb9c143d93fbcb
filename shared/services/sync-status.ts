/**
 * Per-provider sync state of one address as a person reads it (API and CLI): the stored sync
 * item when there is one, else what the echo rules say (learned from that provider, nothing
 * to push, or not yet queued).
 */
import type { AddressState } from '../domain/suppression-policy.ts';
import { desiredFor, PROVIDERS, type Provider, type SyncConfig } from '../domain/suppression-sync.ts';
import type { SyncItem, SyncStatus } from '../ports/sync-state.ts';

/**
 * The status a person reads: an item the stream re-queued (`pending`) while its Mailtrap
 * targets still await a dashboard upload is `awaiting-import` (the drain holds it, see
 * mailtrap-import.ts), until the grace ends.
 */
export function displayStatus(item: Pick<SyncItem, 'status' | 'awaitImportUntil' | 'awaitTargets'>, nowIso: string): SyncStatus {
  if (item.status === 'pending' && item.awaitImportUntil && item.awaitImportUntil > nowIso && Object.keys(item.awaitTargets ?? {}).length > 0) return 'awaiting-import';
  return item.status;
}

export interface ProviderSyncView {
  status: SyncStatus | 'not-needed';
  attempts: number;
  lastError: string | null;
  dueAt: string | null;
  lastSyncedAt: string | null;
  /** What the provider is known to hold. */
  applied: Record<string, string>;
  /** Targets the provider holds because the entry came from there (never pushed back). */
  fromProvider: string[];
  skipped: string[];
  note?: string | undefined;
}

export function syncStatusView(state: AddressState | undefined, items: SyncItem[], config: SyncConfig, nowIso: string = new Date().toISOString()): Record<Provider, ProviderSyncView> {
  const out = {} as Record<Provider, ProviderSyncView>;
  for (const provider of PROVIDERS) {
    const item = items.find((i) => i.provider === provider);
    const desired = desiredFor(provider, state, config);
    const fromProvider = desired.targets.filter((t) => t.origin).map((t) => t.key);
    const pushable = desired.targets.filter((t) => !t.origin);
    if (!item) {
      out[provider] = {
        status: 'not-needed',
        attempts: 0,
        lastError: null,
        dueAt: null,
        lastSyncedAt: null,
        applied: {},
        fromProvider,
        skipped: desired.skipped,
        note: pushable.length > 0 ? 'change not yet queued (the stream handler is behind)' : fromProvider.length > 0 ? 'learned from this provider: not pushed back' : 'nothing to push',
      };
      continue;
    }
    out[provider] = {
      status: displayStatus(item, nowIso),
      attempts: item.attempts,
      lastError: item.lastError ?? null,
      dueAt: item.dueAt ?? null,
      lastSyncedAt: item.lastSyncedAt ?? null,
      applied: item.applied,
      fromProvider,
      skipped: item.skipped ?? desired.skipped,
    };
  }
  return out;
}
