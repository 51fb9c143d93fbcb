/**
 * Inbound records on one DynamoDB table (`pk`, `sk`):
 * - message:  pk `MSG#<sesMessageId>`, sk `MESSAGE`
 * - invoice:  pk `MSG#<sesMessageId>`, sk `INVOICE#<n>` (one Query reads a message with its invoices)
 * - attempts: pk `MSG#<sesMessageId>`, sk `ATTEMPTS` (started / finished counters: crash detection)
 * - identity: pk `ID#<identity key>`,  sk `CLAIM`, holding the invoice id that was first seen with it
 * Messages and invoices also carry `kind` + `listSk` (`<receivedAt>#<id>`), the keys of the
 * `ByKind` index, so "newest invoices" is a Query rather than a Scan.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InboundStore } from '../ports/inbound-store.ts';
import type { InboundMessageRecord, InvoiceRecord } from '../schemas/inbound-records.ts';

export class InvoiceIdError extends Error {
  override name = 'InvoiceIdError';
}

const KEY_FIELDS = ['pk', 'sk', 'kind', 'listSk', 'publishLeaseUntil'] as const;

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

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoInboundStore implements InboundStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getMessage(messageId: string): Promise<InboundMessageRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `MSG#${messageId}`, sk: 'MESSAGE' }, ConsistentRead: true }));
    return out.Item ? strip<InboundMessageRecord>(out.Item) : undefined;
  }

  async putMessage(record: InboundMessageRecord): Promise<void> {
    // Plain put: the record is derived from the same S3 object every time.
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...record, pk: `MSG#${record.messageId}`, sk: 'MESSAGE', kind: 'message', listSk: `${record.receivedAt}#${record.messageId}` },
      }),
    );
  }

  async startAttempt(messageId: string): Promise<number> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `MSG#${messageId}`, sk: 'ATTEMPTS' },
        UpdateExpression: 'ADD started :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const started = Number(out.Attributes?.started ?? 1);
    const finished = Number(out.Attributes?.finished ?? 0);
    return Math.max(0, started - 1 - finished);
  }

  async finishAttempt(messageId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `MSG#${messageId}`, sk: 'ATTEMPTS' },
        UpdateExpression: 'ADD finished :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  private async holder(key: string): Promise<string | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `ID#${key}`, sk: 'CLAIM' }, ConsistentRead: true }));
    return typeof out.Item?.invoiceId === 'string' ? out.Item.invoiceId : null;
  }

  async claimIdentity(invoiceId: string, keys: string[]): Promise<string | null> {
    // Read first, so keys still free are claimed for the original rather than for a duplicate.
    let original: string | null = null;
    const free: string[] = [];
    for (const key of keys) {
      const holder = await this.holder(key);
      if (holder === null) free.push(key);
      else if (holder !== invoiceId) original ??= holder;
    }
    for (const key of free) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: `ID#${key}`, sk: 'CLAIM', invoiceId: original ?? invoiceId },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Claimed between our read and write (a concurrent message): that one came first.
        const holder = await this.holder(key);
        if (holder !== null && holder !== invoiceId) original ??= holder;
      }
    }
    return original;
  }

  async createInvoice(record: InvoiceRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, ...invoiceKey(record.invoiceId), kind: 'invoice', listSk: `${record.receivedAt}#${record.invoiceId}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getInvoice(invoiceId: string): Promise<InvoiceRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: invoiceKey(invoiceId), ConsistentRead: true }));
    return out.Item ? strip<InvoiceRecord>(out.Item) : undefined;
  }

  async claimPublish(invoiceId: string, now: Date, leaseMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invoiceKey(invoiceId),
          UpdateExpression: 'SET publishLeaseUntil = :until',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(publishedAt) AND (attribute_not_exists(publishLeaseUntil) OR publishLeaseUntil < :now)',
          ExpressionAttributeValues: { ':until': new Date(now.getTime() + leaseMs).toISOString(), ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markPublished(invoiceId: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: invoiceKey(invoiceId),
        UpdateExpression: 'SET publishedAt = :at REMOVE publishLeaseUntil',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async listInvoices(limit: number): Promise<InvoiceRecord[]> {
    const items: InvoiceRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'ByKind',
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':kind': 'invoice' },
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
