/**
 * Inbound records on one DynamoDB table (`pk`, `sk`):
 * - message:  pk `MSG#<sesMessageId>`, sk `MESSAGE`
 * - invoice:  pk `MSG#<sesMessageId>`, sk `INVOICE#<n>` (one Query reads a message with its invoices)
 * - recognition: pk `MSG#<sesMessageId>`, sk `RECOGNISING#<n>` (started / finished counters per
 *   attachment: an attempt that died recognising attachment n left started > finished)
 * - identity: pk `ID#<identity key>`, sk `CLAIM`: the invoices seen under it (bounded list of
 *   entries, shared/domain/invoice-standing.ts) and a `version` every write increments
 *   (conditional writes: concurrent arrivals of one identity serialise on it)
 * - seller: pk `SELLER#<VAT id, else normalised name>`, sk `IBANS`: the IBANs seen on the
 *   seller's authenticated invoices (bounded), versioned like the claims
 * Messages and invoices also carry `kind` + `listSk` (`<receivedAt>#<id>`), the keys of the
 * `ByKind` index, so "newest invoices" is a Query rather than a Scan.
 * The message and its invoices are written in one TransactWriteItems (up to 100 items), so an
 * invoice never exists without its message record; a write DynamoDB refuses for its size is
 * reported as RecordTooLargeError (content), anything else is thrown as it is (retried).
 */
import { conditional } from './dynamo-errors.ts';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClaimEntry } from '../domain/invoice-standing.ts';
import type { InvoiceWarning, SeenIban } from '../domain/invoice-warnings.ts';
import { RecordTooLargeError, type IdentityClaim, type InboundStore, type SellerIbans } from '../ports/inbound-store.ts';
import type { InboundMessageRecord, InvoiceRecord } from '../schemas/inbound-records.ts';

/** @public Thrown for a malformed invoice id; part of the adapter's contract. */
export class InvoiceIdError extends Error {
  override name = 'InvoiceIdError';
}

const KEY_FIELDS = ['pk', 'sk', 'kind', 'listSk', 'publishLeaseUntil', 'publishLeaseHolder'] as const;

function invoiceKey(invoiceId: string): { pk: string; sk: string } {
  const at = invoiceId.lastIndexOf(':');
  const n = invoiceId.slice(at + 1);
  if (at <= 0 || !/^\d+$/.test(n)) throw new InvoiceIdError(`not an invoice id: ${invoiceId}`);
  return { pk: `MSG#${invoiceId.slice(0, at)}`, sk: `INVOICE#${n.padStart(4, '0')}` };
}

function strip<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const k of KEY_FIELDS) delete copy[k];
  return copy as T;
}

/**
 * DynamoDB's answers to an item or key that is too large: a ValidationException "Item size has
 * exceeded the maximum allowed size" / "Size of hashkey has exceeded the maximum size limit of
 * 2048 bytes" (also inside a TransactWriteItems), or "Transaction request cannot be larger than 4 MB".
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
const isSizeRefusal = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ValidationException' && /size has exceeded|size limit|cannot be larger than|exceeds? the maximum/i.test(error.message);

/** Transactions cancelled only because the message record exists already (another delivery won). */
const cancelledByExistingMessage = (error: unknown): boolean => {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[0]?.Code === 'ConditionalCheckFailed' && reasons.slice(1).every((r) => r.Code === 'None' || r.Code === 'ConditionalCheckFailed');
};
export class DynamoInboundStore implements InboundStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getMessage(messageId: string): Promise<InboundMessageRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `MSG#${messageId}`, sk: 'MESSAGE' }, ConsistentRead: true }));
    return out.Item ? strip<InboundMessageRecord>(out.Item) : undefined;
  }

  async recordMessage(record: InboundMessageRecord, invoices: InvoiceRecord[]): Promise<boolean> {
    const items = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...record, pk: `MSG#${record.messageId}`, sk: 'MESSAGE', kind: 'message', listSk: `${record.receivedAt}#${record.messageId}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...invoices.map((invoice) => ({
        Put: {
          TableName: this.tableName,
          Item: { ...invoice, ...invoiceKey(invoice.invoiceId), kind: 'invoice', listSk: `${invoice.receivedAt}#${invoice.invoiceId}` },
          // Unconditional: invoices only ever exist with their message, so none is there yet;
          // one left by a pre-transaction version of this code is rewritten with the same
          // content (same id, same S3 object), at worst published once more (consumers dedupe
          // on invoiceId).
        },
      })),
    ];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (cancelledByExistingMessage(error)) return false;
      if (isSizeRefusal(error)) throw new RecordTooLargeError(`DynamoDB refused the records of message ${record.messageId} for their size: ${(error as Error).message}`);
      throw error;
    }
  }

  private recognitionKey(messageId: string, attachmentIndex: number) {
    return { pk: `MSG#${messageId}`, sk: `RECOGNISING#${String(attachmentIndex).padStart(4, '0')}` };
  }

  async beginRecognition(messageId: string, attachmentIndex: number): Promise<number> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.recognitionKey(messageId, attachmentIndex),
        UpdateExpression: 'ADD started :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const started = Number(out.Attributes?.started ?? 1);
    const finished = Number(out.Attributes?.finished ?? 0);
    return Math.max(0, started - 1 - finished);
  }

  async endRecognition(messageId: string, attachmentIndex: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.recognitionKey(messageId, attachmentIndex),
        UpdateExpression: 'ADD finished :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async readClaim(identityKey: string): Promise<IdentityClaim> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `ID#${identityKey}`, sk: 'CLAIM' }, ConsistentRead: true }));
    // An item from before versioned claims (only `invoiceId`) reads as empty and is replaced.
    return { entries: Array.isArray(out.Item?.entries) ? (out.Item.entries as ClaimEntry[]) : [], version: typeof out.Item?.version === 'number' ? out.Item.version : 0 };
  }

  async readSellerIbans(sellerKey: string): Promise<SellerIbans> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `SELLER#${sellerKey}`, sk: 'IBANS' }, ConsistentRead: true }));
    return { ibans: Array.isArray(out.Item?.ibans) ? (out.Item.ibans as SeenIban[]) : [], version: typeof out.Item?.version === 'number' ? out.Item.version : 0 };
  }

  async writeClaim(
    claim: { identityKey: string; entries: ClaimEntry[]; expectedVersion: number },
    sellers: { sellerKey: string; ibans: SeenIban[]; expectedVersion: number }[],
  ): Promise<boolean> {
    const versioned = (expected: number) =>
      expected === 0
        ? { ConditionExpression: 'attribute_not_exists(#v)', ExpressionAttributeNames: { '#v': 'version' } }
        : { ConditionExpression: '#v = :expected', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':expected': expected } };
    const items = [
      { Put: { TableName: this.tableName, Item: { pk: `ID#${claim.identityKey}`, sk: 'CLAIM', entries: claim.entries, version: claim.expectedVersion + 1 }, ...versioned(claim.expectedVersion) } },
      ...sellers.map((seller) => ({
        Put: { TableName: this.tableName, Item: { pk: `SELLER#${seller.sellerKey}`, sk: 'IBANS', ibans: seller.ibans, version: seller.expectedVersion + 1 }, ...versioned(seller.expectedVersion) },
      })),
    ];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'TransactionCanceledException') {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        // Another writer moved a version (or holds the item in its own transaction): decide again.
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) return false;
      }
      throw error;
    }
  }

  async updateStanding(invoiceId: string, standing: { duplicateOf: string | null; warnings: InvoiceWarning[]; version: number }): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invoiceKey(invoiceId),
          UpdateExpression: 'SET duplicateOf = :dup, warnings = :warnings, standingVersion = :v',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(standingVersion) OR standingVersion < :v)',
          ExpressionAttributeValues: { ':dup': standing.duplicateOf, ':warnings': standing.warnings, ':v': standing.version },
        }),
      ),
    );
  }

  async getInvoice(invoiceId: string): Promise<InvoiceRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: invoiceKey(invoiceId), ConsistentRead: true }));
    return out.Item ? strip<InvoiceRecord>(out.Item) : undefined;
  }

  async claimPublish(invoiceId: string, now: Date, leaseMs: number, holder?: string): Promise<boolean> {
    const free = 'attribute_not_exists(publishLeaseUntil) OR publishLeaseUntil < :now';
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invoiceKey(invoiceId),
          UpdateExpression: holder === undefined ? 'SET publishLeaseUntil = :until REMOVE publishLeaseHolder' : 'SET publishLeaseUntil = :until, publishLeaseHolder = :holder',
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(publishedAt) AND (${holder === undefined ? free : `${free} OR publishLeaseHolder = :holder`})`,
          ExpressionAttributeValues: {
            ':until': new Date(now.getTime() + leaseMs).toISOString(),
            ':now': now.toISOString(),
            ...(holder === undefined ? {} : { ':holder': holder }),
          },
        }),
      ),
    );
  }

  async markPublished(invoiceId: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: invoiceKey(invoiceId),
        UpdateExpression: 'SET publishedAt = :at REMOVE publishLeaseUntil, publishLeaseHolder',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async listInvoices(limit: number, options: { withWarnings?: boolean } = {}): Promise<InvoiceRecord[]> {
    const items: InvoiceRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'ByKind',
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':kind': 'invoice', ...(options.withWarnings ? { ':none': 0 } : {}) },
          // The filter applies after Limit: paging goes on until `limit` matches (or the end).
          ...(options.withWarnings ? { FilterExpression: 'size(warnings) > :none' } : {}),
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) items.push(strip<InvoiceRecord>(item));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }
}
