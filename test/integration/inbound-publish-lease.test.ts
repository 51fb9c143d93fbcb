/**
 * The invoice publish lease on DynamoDB Local (DynamoInboundStore against the local stack's
 * inbound table): one delivery holds it; its own retry takes it back while it runs (after a
 * claim whose answer was lost in a store outage, bench:faults); another delivery cannot; once
 * published, nobody can.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoInboundStore } from '../../shared/adapters/dynamo-inbound-store.ts';
import { clients, localInfo } from './helpers.ts';

const c = clients();
const table = localInfo().tables.InboundTable?.name ?? 'missing';
const store = new DynamoInboundStore(c.documents, table);
const LEASE_MS = 5 * 60 * 1000;

describe('invoice publish lease (DynamoDB Local)', () => {
  it('is taken back by its holder, refused to another delivery and to everyone once published', async () => {
    // Prepare: an invoice item, as recordMessage writes it (only the keys matter here).
    const messageId = `lease${randomUUID().replaceAll('-', '')}`;
    const invoiceId = `${messageId}:1`;
    await c.documents.send(new PutCommand({ TableName: table, Item: { pk: `MSG#${messageId}`, sk: 'INVOICE#0001', invoiceId, messageId } }));
    const now = new Date();
    const soon = new Date(now.getTime() + 1000);

    // Act / Assess
    expect(await store.claimPublish(invoiceId, now, LEASE_MS, 'sqs-1')).toBe(true);
    expect(await store.claimPublish(invoiceId, soon, LEASE_MS, 'sqs-2')).toBe(false);
    expect(await store.claimPublish(invoiceId, soon, LEASE_MS)).toBe(false);
    expect(await store.claimPublish(invoiceId, soon, LEASE_MS, 'sqs-1')).toBe(true);
    // After the lease, anyone.
    expect(await store.claimPublish(invoiceId, new Date(soon.getTime() + LEASE_MS + 1), LEASE_MS, 'sqs-2')).toBe(true);
    await store.markPublished(invoiceId, soon.toISOString());
    expect(await store.claimPublish(invoiceId, soon, LEASE_MS, 'sqs-2')).toBe(false);
    const stored = await store.getInvoice(invoiceId);
    expect(stored?.publishedAt).toBe(soon.toISOString());
    expect(stored).not.toHaveProperty('publishLeaseHolder');
    expect(stored).not.toHaveProperty('publishLeaseUntil');
  });
});
