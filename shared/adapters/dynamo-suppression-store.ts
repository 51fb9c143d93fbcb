/**
 * Suppression store on one DynamoDB table, one item per normalised address (`pk`).
 * Every effect is a single conditional PutItem guarded by the item's `version`, so the
 * redelivery check (recentEventKeys inside the item) and the effect are one write.
 */
import { isConditionalCheckFailed } from './dynamo-errors.ts';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail } from '../domain/email-address.ts';
import { viewSuppression, type AddressState, type Decision } from '../domain/suppression-policy.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';

export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

const MAX_ATTEMPTS = 5;

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

export class DynamoSuppressionStore implements SuppressionStore {
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
