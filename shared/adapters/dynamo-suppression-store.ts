/**
 * Suppression store on one DynamoDB table, one item per normalised address (`pk`).
 * Every effect is a single conditional PutItem guarded by the item's `version`, so the
 * redelivery check (recentEventKeys inside the item) and the effect are one write.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { isConditionalCheckFailed } from './dynamo-errors.ts';
import { BatchGetCommand, GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail } from '../domain/email-address.ts';
import { viewSuppression, type AddressState, type Decision } from '../domain/suppression-policy.ts';
import type { BulkResult, BulkSuppressionStore, StoreChange } from '../ports/suppression-store.ts';

export class BatchReadError extends Error {
  override name = 'BatchReadError';
}

export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

const MAX_ATTEMPTS = 5;
/** BatchGetItem's and TransactWriteItems' limits per request. */
const BATCH_GET_MAX = 100;
const TRANSACT_MAX = 100;

/** Attributes the item carries besides the state, for queries and people reading the table. */
export interface SuppressionItem extends AddressState {
  pk: string;
  suppressed: boolean;
  reason: string | null;
  updatedAt: string;
}

export function toItem(state: AddressState, now: string): SuppressionItem {
  const view = viewSuppression(state, state.email);
  // Optional fields are absent, not undefined, whatever the document client's marshalling options.
  const plain = JSON.parse(JSON.stringify(state)) as AddressState;
  return { ...plain, pk: state.email, suppressed: view.suppressed, reason: view.reason, updatedAt: now };
}

export function fromItem(item: Record<string, unknown>): AddressState {
  const { pk: _pk, suppressed: _s, reason: _r, updatedAt: _u, ...state } = item as unknown as SuppressionItem;
  return state;
}

export class DynamoSuppressionStore implements BulkSuppressionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  async get(email: string): Promise<AddressState | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: normaliseEmail(email) }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * One BatchGetItem per 100 distinct keys (consistent reads); keys DynamoDB leaves
   * unprocessed (throttling) are asked again with a growing pause, a bounded number of times.
   */
  async getMany(emails: readonly string[]): Promise<Map<string, AddressState>> {
    const out = new Map<string, AddressState>();
    const keys = [...new Set(emails.map(normaliseEmail))];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Array<Record<string, unknown>> = keys.slice(i, i + BATCH_GET_MAX).map((pk) => ({ pk }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= 8) throw new BatchReadError(`${pending.length} keys still unprocessed after ${round} rounds`);
        if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
        const res = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of res.Responses?.[this.tableName] ?? []) out.set(String(item.pk), fromItem(item));
        pending = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return out;
  }

  /**
   * Changes applied as if one `update` after another, in at most two requests for the common
   * case: one BatchGetItem for every address, the decisions folded in memory (a later change
   * of the same address sees the earlier one's state), then one TransactWriteItems holding
   * each changed address once, each Put conditional exactly as `update`'s (absent, or the
   * version read). All or nothing: if any condition fails (someone wrote one of these
   * addresses meanwhile) nothing was written, and every change goes through `update` on its
   * own, re-reading as usual. At most TRANSACT_MAX distinct addresses per call. With
   * `assumeNew` the read is skipped and every address written as absent; if one exists the
   * transaction is refused (nothing written) and the call goes the read way.
   * Cost note: a transactional write is 2 write units per item on DynamoDB (a plain one 1).
   */
  async updateMany(changes: readonly StoreChange[], options: { assumeNew?: boolean } = {}): Promise<BulkResult> {
    if (changes.length === 0) return { decisions: [], path: 'read', existing: 0 };
    const known = options.assumeNew ? new Map<string, AddressState>() : await this.getMany(changes.map((c) => c.email));
    const working = new Map<string, AddressState | undefined>();
    const decisions: Decision[] = [];
    for (const change of changes) {
      const key = normaliseEmail(change.email);
      const current = working.has(key) ? working.get(key) : known.get(key);
      const decision = change.decide(current);
      if (decision.next) {
        const next = { ...decision.next, version: (current?.version ?? 0) + 1 };
        working.set(key, next);
        decisions.push({ ...decision, next });
      } else decisions.push(decision);
    }
    const path = options.assumeNew ? 'assumed-new' : 'read';
    if (working.size === 0) {
      // Nothing to write: but an assumption of absence was never checked, so read.
      return options.assumeNew ? this.updateMany(changes) : { decisions, path, existing: known.size };
    }
    if (working.size > TRANSACT_MAX) throw new RangeError(`updateMany takes at most ${TRANSACT_MAX} addresses, got ${working.size}`);
    const now = this.now();
    const puts = [...working].map(([key, next]) => {
      const before = known.get(key);
      return {
        Put: {
          TableName: this.tableName,
          Item: toItem(next as AddressState, now),
          ConditionExpression: before ? '#v = :v' : 'attribute_not_exists(pk)',
          ...(before ? { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': before.version } } : {}),
        },
      };
    });
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: puts }));
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // Nothing was written. Assumed new: some exist, read them and try once more together.
      if (options.assumeNew) return this.updateMany(changes);
      const out: Decision[] = [];
      for (const change of changes) out.push(await this.update(change.email, change.decide));
      return { decisions: out, path: 'one-by-one', existing: known.size };
    }
    return { decisions, path, existing: known.size };
  }

  async update(email: string, decide: (current: AddressState | undefined) => Decision): Promise<Decision> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.get(email);
      const decision = decide(current);
      if (!decision.next) return decision;
      const version = current?.version ?? 0;
      const next = { ...decision.next, version: version + 1 };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(next, this.now()),
            ConditionExpression: current ? '#v = :v' : 'attribute_not_exists(pk)',
            ...(current ? { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': version } } : {}),
          }),
        );
        return { ...decision, next };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        // Someone else (another batch, the other provider's pipeline) wrote first: decide again.
      }
    }
    throw new ConcurrentUpdateError(`address kept changing during ${MAX_ATTEMPTS} attempts`);
  }
}
