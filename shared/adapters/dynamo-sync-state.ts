/**
 * Sync state and outbox on one DynamoDB table (SuppressionSyncTable), apart from the
 * suppression store so that writing sync state can never clobber an address item nor fire
 * the store's stream again.
 *
 * - `pk` = normalised address, `sk` = provider: one item per address and provider holding its
 *   status (pending / importing / synced / failed), attempts, last error and what the provider
 *   is known to hold (`applied`).
 * - The outbox is the sparse GSI `due` (`queue` = provider, `dueAt`): only items waiting for a
 *   drain carry `queue`, so the index holds exactly the backlog, oldest first, and a retry's
 *   backoff is just a later `dueAt`.
 * - `pk = '@control'` items hold the drains' pacing, reconciliation checkpoints and open SES
 *   import jobs (an address never starts with `@`).
 */
import { conditional } from './dynamo-errors.ts';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Provider } from '../domain/suppression-sync.ts';
import { normaliseEmail } from '../domain/email-address.ts';
import type { SyncItem, SyncScanCursor, SyncStateStore, SyncStatusReader, SyncStatusRow } from '../ports/sync-state.ts';

const DUE_INDEX = 'due';
const CONTROL = '@control';

function toSyncItem(raw: Record<string, unknown>): SyncItem {
  const { pk, sk, queue: _q, ...rest } = raw as Record<string, unknown> & { pk: string; sk: Provider };
  return { applied: {}, spellings: [], attempts: 0, generation: 0, ...(rest as Partial<SyncItem>), email: pk, provider: sk } as SyncItem;
}

export class DynamoSyncState implements SyncStateStore, SyncStatusReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(email: string, provider: Provider) {
    return { pk: normaliseEmail(email), sk: provider };
  }

  async markPending(email: string, provider: Provider, input: { purge: boolean; spellings: string[]; now: string }): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(email, provider),
        UpdateExpression: [
          'SET #status = :pending, #queue = :provider, dueAt = :now, attempts = :zero, spellings = :spellings, updatedAt = :now,',
          'applied = if_not_exists(applied, :empty)',
          input.purge ? ', purge = :true' : '',
          ' ADD generation :one REMOVE lastError, importJobId',
        ].join(' '),
        ExpressionAttributeNames: { '#status': 'status', '#queue': 'queue' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':provider': provider,
          ':now': input.now,
          ':zero': 0,
          ':one': 1,
          ':spellings': input.spellings,
          ':empty': {},
          ...(input.purge ? { ':true': true } : {}),
        },
      }),
    );
  }

  async due(provider: Provider, now: string, limit: number): Promise<SyncItem[]> {
    const items: SyncItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DUE_INDEX,
          KeyConditionExpression: '#queue = :p AND dueAt <= :now',
          ExpressionAttributeNames: { '#queue': 'queue' },
          ExpressionAttributeValues: { ':p': provider, ':now': now },
          Limit: Math.min(1000, limit - items.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map(toSyncItem));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }

  async forAddress(email: string): Promise<SyncItem[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': normaliseEmail(email) },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(toSyncItem);
  }

  /** Keep what the provider holds even when a newer change means the item stays in the outbox. */
  private async saveApplied(item: SyncItem, applied: Record<string, string>, now: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(item.email, item.provider),
        UpdateExpression: 'SET applied = :applied, updatedAt = :now',
        ExpressionAttributeValues: { ':applied': applied, ':now': now },
      }),
    );
  }

  async complete(item: SyncItem, input: { applied: Record<string, string>; skipped: string[]; now: string }): Promise<'synced' | 'superseded'> {
    const done = await this.updateSameGeneration(
      item,
      'SET #status = :synced, applied = :applied, skipped = :skipped, updatedAt = :now, lastSyncedAt = :now, attempts = :zero REMOVE #queue, dueAt, lastError, purge, importJobId, awaitTargets, awaitImportUntil',
      { '#status': 'status', '#queue': 'queue' },
      { ':synced': 'synced', ':applied': input.applied, ':skipped': input.skipped, ':now': input.now, ':zero': 0 },
    );
    if (done) return 'synced';
    await this.saveApplied(item, input.applied, input.now);
    return 'superseded';
  }

  async retry(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; dueAt: string; now: string }): Promise<void> {
    const done = await this.updateSameGeneration(
      item,
      'SET #status = :pending, applied = :applied, attempts = :attempts, lastError = :error, dueAt = :due, updatedAt = :now, #queue = :p',
      { '#status': 'status', '#queue': 'queue' },
      {
        ':pending': 'pending',
        ':applied': input.applied,
        ':attempts': input.attempts,
        ':error': input.error.slice(0, 500),
        ':due': input.dueAt,
        ':now': input.now,
        ':p': item.provider,
      },
    );
    if (!done) await this.saveApplied(item, input.applied, input.now);
  }

  async fail(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; now: string }): Promise<void> {
    const done = await this.updateSameGeneration(
      item,
      'SET #status = :failed, applied = :applied, attempts = :attempts, lastError = :error, updatedAt = :now REMOVE #queue, dueAt, importJobId',
      { '#status': 'status', '#queue': 'queue' },
      { ':failed': 'failed', ':applied': input.applied, ':attempts': input.attempts, ':error': input.error.slice(0, 500), ':now': input.now },
    );
    if (!done) await this.saveApplied(item, input.applied, input.now);
  }

  async markImporting(item: SyncItem, input: { jobId: string; recheckAt: string; now: string }): Promise<void> {
    await this.updateSameGeneration(
      item,
      'SET #status = :importing, importJobId = :job, dueAt = :recheck, updatedAt = :now',
      { '#status': 'status' },
      { ':importing': 'importing', ':job': input.jobId, ':recheck': input.recheckAt, ':now': input.now },
    );
  }

  /**
   * An update that lands only if no newer store change re-queued the item meanwhile (the
   * change bumps `generation`); false when one did.
   */
  private updateSameGeneration(item: SyncItem, update: string, names: Record<string, string>, values: Record<string, unknown>): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(item.email, item.provider),
          ConditionExpression: 'generation = :g',
          UpdateExpression: update,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ':g': item.generation, ...values },
        }),
      ),
    );
  }

  async completeImport(email: string, input: { jobId: string; target: string; value?: string | undefined; now: string }): Promise<boolean> {
    const put = input.value !== undefined;
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(email, 'ses'),
          ConditionExpression: 'importJobId = :job',
          UpdateExpression: put
            ? 'SET #status = :synced, applied.#t = :v, updatedAt = :now, lastSyncedAt = :now, attempts = :zero REMOVE #queue, dueAt, lastError, importJobId'
            : 'SET #status = :synced, updatedAt = :now, lastSyncedAt = :now, attempts = :zero REMOVE #queue, dueAt, lastError, importJobId, purge, applied.#t',
          ExpressionAttributeNames: { '#status': 'status', '#queue': 'queue', '#t': input.target },
          ExpressionAttributeValues: { ':job': input.jobId, ':synced': 'synced', ':now': input.now, ':zero': 0, ...(put ? { ':v': input.value } : {}) },
        }),
      ),
    );
  }

  async releaseImport(email: string, input: { jobId: string; error: string; now: string }): Promise<void> {
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(email, 'ses'),
          ConditionExpression: 'importJobId = :job',
          UpdateExpression: 'SET #status = :pending, dueAt = :now, lastError = :error, updatedAt = :now ADD attempts :one REMOVE importJobId',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':job': input.jobId, ':pending': 'pending', ':now': input.now, ':error': input.error.slice(0, 500), ':one': 1 },
        }),
      ),
    );
  }

  async markAwaitingImport(email: string, input: { targets: Record<string, string>; spellings: string[]; until: string; now: string }): Promise<void> {
    // In the outbox, due when the grace ends (then the drain pushes whatever Mailtrap still lacks).
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(email, 'mailtrap'),
        UpdateExpression:
          'SET #status = :awaiting, #queue = :p, dueAt = :until, awaitTargets = :targets, awaitImportUntil = :until, updatedAt = :now, applied = if_not_exists(applied, :empty), spellings = if_not_exists(spellings, :spellings), generation = if_not_exists(generation, :zero), attempts = if_not_exists(attempts, :zero)',
        ExpressionAttributeNames: { '#status': 'status', '#queue': 'queue' },
        ExpressionAttributeValues: { ':awaiting': 'awaiting-import', ':p': 'mailtrap', ':until': input.until, ':targets': input.targets, ':now': input.now, ':empty': {}, ':spellings': input.spellings, ':zero': 0 },
      }),
    );
  }

  async confirmImported(item: SyncItem, input: { applied: Record<string, string>; remaining: Record<string, string>; now: string }): Promise<void> {
    const done = Object.keys(input.remaining).length === 0;
    const ok = await this.updateSameGeneration(
      item,
      done
        ? 'SET #status = :synced, applied = :applied, updatedAt = :now, lastSyncedAt = :now, attempts = :zero REMOVE #queue, dueAt, lastError, awaitTargets, awaitImportUntil'
        : 'SET applied = :applied, awaitTargets = :remaining, updatedAt = :now',
      done ? { '#status': 'status', '#queue': 'queue' } : {},
      done ? { ':synced': 'synced', ':applied': input.applied, ':now': input.now, ':zero': 0 } : { ':applied': input.applied, ':remaining': input.remaining, ':now': input.now },
    );
    // A newer change re-queued it meanwhile: keep what Mailtrap is known to hold, the drain does the rest.
    if (!ok) await this.saveApplied(item, input.applied, input.now);
  }

  /** A Scan page projected to what a count needs (eventually consistent: a count is a view, not a decision). */
  async statusPage(cursor?: SyncScanCursor, limit?: number): Promise<{ rows: SyncStatusRow[]; next?: SyncScanCursor | undefined }> {
    const out = await this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        ProjectionExpression: 'pk, sk, #s, awaitImportUntil, awaitTargets',
        ExpressionAttributeNames: { '#s': 'status' },
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
        ...(limit ? { Limit: limit } : {}),
      }),
    );
    const rows = (out.Items ?? [])
      .filter((i) => i.pk !== CONTROL)
      .map((i) => ({ provider: i.sk as Provider, status: i.status as SyncStatusRow['status'], awaitImportUntil: i.awaitImportUntil as string | undefined, awaitTargets: i.awaitTargets as Record<string, string> | undefined }));
    return { rows, next: out.LastEvaluatedKey };
  }

  async getControl<T>(name: string): Promise<T | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: CONTROL, sk: name }, ConsistentRead: true }));
    return out.Item?.value as T | undefined;
  }

  async putControl(name: string, value: unknown): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: CONTROL, sk: name, value, updatedAt: new Date().toISOString() } }));
  }

  async deleteControl(name: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: CONTROL, sk: name } }));
  }

  async listControl<T>(prefix: string): Promise<Array<{ name: string; value: T }>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': CONTROL, ':p': prefix },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => ({ name: String(i.sk), value: i.value as T }));
  }
}
