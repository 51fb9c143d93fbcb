import type { Provider } from '../domain/suppression-sync.ts';

export type SyncStatus = 'pending' | 'synced' | 'failed' | 'importing' | 'awaiting-import';

/** Sync state of one address at one provider; also its place in that provider's outbox. */
export interface SyncItem {
  email: string;
  provider: Provider;
  status: SyncStatus;
  /** Bumped by every store change that concerns this provider: a drain that read an older one does not mark it synced. */
  generation: number;
  attempts: number;
  /** When a drain should look at it next (only while pending/importing). */
  dueAt?: string | undefined;
  lastError?: string | undefined;
  /** Targets we know the provider holds (see suppression-sync.ts). */
  applied: Record<string, string>;
  /** A target disappeared: delete at the provider even what we never pushed. */
  purge?: boolean | undefined;
  spellings: string[];
  skipped?: string[] | undefined;
  importJobId?: string | undefined;
  importGeneration?: number | undefined;
  /**
   * Mailtrap: targets a person is to upload in the dashboard (`suppressions export --format
   * mailtrap-import`), with their values; the drain makes no API call for them until
   * `awaitImportUntil`, reconciliation confirms them when Mailtrap lists them.
   */
  awaitTargets?: Record<string, string> | undefined;
  awaitImportUntil?: string | undefined;
  updatedAt: string;
  lastSyncedAt?: string | undefined;
}

export interface SyncStateStore {
  /** A store change concerns `provider`: queue the address (coalesces with a pending entry). */
  markPending(email: string, provider: Provider, input: { purge: boolean; spellings: string[]; now: string }): Promise<void>;
  /** Pending items due at `now`, oldest first. */
  due(provider: Provider, now: string, limit: number): Promise<SyncItem[]>;
  forAddress(email: string): Promise<SyncItem[]>;
  /** Done: synced unless a newer change arrived meanwhile (then it stays pending, applied is kept). */
  complete(item: SyncItem, input: { applied: Record<string, string>; skipped: string[]; now: string }): Promise<'synced' | 'superseded'>;
  /** Try again at `dueAt`, keeping what was applied so far; `attempts` already counted by the caller. */
  retry(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; dueAt: string; now: string }): Promise<void>;
  /** Out of attempts or never possible: leaves the outbox. */
  fail(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; now: string }): Promise<void>;
  markImporting(item: SyncItem, input: { jobId: string; recheckAt: string; now: string }): Promise<void>;
  /**
   * An import job holding this address completed: `value` is what a PUT job put there; none
   * (a DELETE job) means the target is gone. False when the item moved on meanwhile.
   */
  completeImport(email: string, input: { jobId: string; target: string; value?: string | undefined; now: string }): Promise<boolean>;
  /** An import job failed for this address: back to the outbox for single calls. */
  releaseImport(email: string, input: { jobId: string; error: string; now: string }): Promise<void>;
  /** The address's Mailtrap targets are to come from a dashboard upload: no API call for them until `until`. */
  markAwaitingImport(email: string, input: { targets: Record<string, string>; spellings: string[]; until: string; now: string }): Promise<void>;
  /** Mailtrap lists some awaited targets: `applied` is what it holds now, `remaining` what is still awaited (none: synced). */
  confirmImported(item: SyncItem, input: { applied: Record<string, string>; remaining: Record<string, string>; now: string }): Promise<void>;
  getControl<T>(name: string): Promise<T | undefined>;
  putControl(name: string, value: unknown): Promise<void>;
  deleteControl(name: string): Promise<void>;
  listControl<T>(prefix: string): Promise<Array<{ name: string; value: T }>>;
}

/** Where a paged pass over the sync table stands: the key to go on from (none: from the start). */
export type SyncScanCursor = Record<string, unknown>;

/** What a migration count reads of one sync item. */
export type SyncStatusRow = Pick<SyncItem, 'provider' | 'status' | 'awaitImportUntil' | 'awaitTargets'>;

/** A paged read of every address's sync status (control items left out), for the migration view. */
export interface SyncStatusReader {
  /** One page from `cursor` (at most `limit` items, else DynamoDB's 1 MB); `next` absent at the end. */
  statusPage(cursor?: SyncScanCursor, limit?: number): Promise<{ rows: SyncStatusRow[]; next?: SyncScanCursor | undefined }>;
}

