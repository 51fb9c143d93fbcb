/**
 * Concurrent writers on one address against DynamoDB Local: the store's version check (a
 * conditional PutItem on `version`) and its decide-again retry (DynamoSuppressionStore,
 * up to 5 attempts).
 */
import { describe, expect, it } from 'vitest';
import { PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { normaliseEmail } from '../../shared/domain/email-address.ts';
import type { FeedbackEvent } from '../../shared/domain/feedback-event.ts';
import { applyFeedback, fingerprint, type AddressState } from '../../shared/domain/suppression-policy.ts';
import { clients, localInfo, uniqueEmail } from './helpers.ts';

const c = clients();
const table = localInfo().tables.SuppressionsTable?.name ?? 'missing';
const newStore = () => new DynamoSuppressionStore(c.documents, table);

const soft = (email: string, key: string, hour: number): FeedbackEvent => ({
  source: 'ses',
  eventKey: key,
  kind: 'soft-bounce',
  providerType: 'Bounce/Transient/General',
  email,
  occurredAt: new Date(Date.UTC(2026, 0, 1, hour)).toISOString(),
});

/**
 * A document client on which, before each of our first `times` PutItems, another writer
 * commits to the same item (its version moves on), as a concurrent Lambda invocation would.
 */
function interfering(email: string, times: number): DynamoDBDocumentClient {
  let left = times;
  return {
    send: async (command: unknown) => {
      if (command instanceof PutCommand && left > 0) {
        left--;
        await competingWrite(email);
      }
      return c.documents.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

/** Bump the item's version behind the store's back, as another writer committing first would. */
async function competingWrite(email: string): Promise<void> {
  await c.documents.send(
    new UpdateCommand({ TableName: table, Key: { pk: normaliseEmail(email) }, UpdateExpression: 'SET #v = #v + :one', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 } }),
  );
}

describe('suppression store: concurrent writers on one address', () => {
  it('applies every one of five simultaneous writers exactly once (each loses at most four races)', async () => {
    // Prepare: five writers (separate store instances, as separate Lambda invocations), one event each.
    const email = uniqueEmail('Race');
    const events = Array.from({ length: 5 }, (_, i) => soft(email, `race:${email}:${i}`, i));
    // Act
    const decisions = await Promise.all(events.map((e) => newStore().update(email, (current) => applyFeedback(current, e))));
    // Assess: no event lost or doubled; the third soft bounce in the window suppressed, once.
    const state = (await newStore().get(email)) as AddressState;
    expect(state.version).toBe(5);
    expect(state.counts['soft-bounce']).toBe(5);
    expect([...state.recentEventKeys].sort()).toEqual(events.map((e) => fingerprint(e.eventKey)).sort());
    expect(decisions.filter((d) => d.outcome === 'suppressed')).toHaveLength(1);
    expect(state.suppressions).toHaveLength(1);
  });

  it('decides again on the state the other writer left, then writes', async () => {
    // Prepare: the address exists; another writer commits between our read and our write, once.
    const email = uniqueEmail('Race-Once');
    await newStore().update(email, (current) => applyFeedback(current, soft(email, `first:${email}`, 0)));
    const store = new DynamoSuppressionStore(interfering(email, 1), table);
    const seen: number[] = [];
    // Act
    const decision = await store.update(email, (current) => {
      seen.push(current?.version ?? 0);
      return applyFeedback(current, soft(email, `second:${email}`, 1));
    });
    // Assess: the first write was refused by the version check; the second decision saw the other writer's version.
    expect(seen).toEqual([1, 2]);
    expect(decision.next?.version).toBe(3);
    const state = (await newStore().get(email)) as AddressState;
    expect(state.version).toBe(3);
    expect(state.counts['soft-bounce']).toBe(2);
  });

  it('gives up with ConcurrentUpdateError after 5 lost races, writing nothing of its own', async () => {
    // Prepare: another writer commits first every time.
    const email = uniqueEmail('Race-Lost');
    await newStore().update(email, (current) => applyFeedback(current, soft(email, `base:${email}`, 0)));
    const store = new DynamoSuppressionStore(interfering(email, 99), table);
    let decides = 0;
    // Act
    const attempt = store.update(email, (current) => {
      decides++;
      return applyFeedback(current, soft(email, `mine:${email}`, 1));
    });
    // Assess
    await expect(attempt).rejects.toThrow(ConcurrentUpdateError);
    expect(decides).toBe(5);
    const state = (await newStore().get(email)) as AddressState;
    expect(state.version).toBe(1 + 5);
    expect(state.recentEventKeys).not.toContain(fingerprint(`mine:${email}`));
    expect(state.counts['soft-bounce']).toBe(1);
  });
});

/** A document client on which another writer commits to `email` before our first TransactWriteItems. */
function interferingTransaction(email: string, write: (email: string) => Promise<void>): DynamoDBDocumentClient {
  let left = 1;
  return {
    send: async (command: unknown) => {
      if (command instanceof TransactWriteCommand && left > 0) {
        left--;
        await write(email);
      }
      return c.documents.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('suppression store: many changes at once (updateMany, the import path)', () => {
  it('writes new and known addresses in one transaction, folding two changes of one address in order', async () => {
    // Prepare: one address known (version 1), two new, one of them changed twice.
    const known = uniqueEmail('Many-Known');
    const fresh = uniqueEmail('Many-New');
    const twice = uniqueEmail('Many-Twice');
    await newStore().update(known, (s) => applyFeedback(s, soft(known, `k:${known}`, 0)));
    // Act
    const { decisions, path, existing } = await newStore().updateMany([
      { email: known, decide: (s) => applyFeedback(s, soft(known, `k2:${known}`, 1)) },
      { email: fresh, decide: (s) => applyFeedback(s, soft(fresh, `f:${fresh}`, 0)) },
      { email: twice, decide: (s) => applyFeedback(s, soft(twice, `t1:${twice}`, 0)) },
      { email: twice, decide: (s) => applyFeedback(s, soft(twice, `t2:${twice}`, 1)) },
    ]);
    // Assess: as four updates one after another would leave them.
    expect(decisions.map((d) => d.outcome)).toEqual(['recorded', 'recorded', 'recorded', 'recorded']);
    expect([path, existing]).toEqual(['read', 1]);
    const [k, f, t] = await Promise.all([known, fresh, twice].map((e) => newStore().get(e)));
    expect([k?.version, k?.counts['soft-bounce']]).toEqual([2, 2]);
    expect([f?.version, f?.counts['soft-bounce']]).toEqual([1, 1]);
    expect(t?.counts['soft-bounce']).toBe(2);
    expect(t?.recentEventKeys).toEqual([fingerprint(`t1:${twice}`), fingerprint(`t2:${twice}`)]);
  });

  it('written as new without a read, refuses the whole transaction when one address exists, then goes the read way without losing it', async () => {
    // Prepare: one of the "new" addresses already holds an event.
    const old = uniqueEmail('Many-Old');
    const fresh = uniqueEmail('Many-Fresh');
    await newStore().update(old, (s) => applyFeedback(s, soft(old, `old:${old}`, 0)));
    // Act
    const result = await newStore().updateMany(
      [
        { email: old, decide: (s) => applyFeedback(s, soft(old, `new:${old}`, 1)) },
        { email: fresh, decide: (s) => applyFeedback(s, soft(fresh, `new:${fresh}`, 1)) },
      ],
      { assumeNew: true },
    );
    // Assess: read after the refusal; the old event kept, the new one added; the fresh address written once.
    expect([result.path, result.existing]).toEqual(['read', 1]);
    const o = (await newStore().get(old)) as AddressState;
    expect([o.version, o.counts['soft-bounce']]).toEqual([2, 2]);
    expect((await newStore().get(fresh))?.version).toBe(1);
    // All new: no read at all.
    const brandNew = uniqueEmail('Many-BrandNew');
    expect((await newStore().updateMany([{ email: brandNew, decide: (s) => applyFeedback(s, soft(brandNew, `x:${brandNew}`, 0)) }], { assumeNew: true })).path).toBe('assumed-new');
  });

  it('writes nothing of the transaction when another writer got to one address first, then applies each change on fresh state', async () => {
    // Prepare: between our read and our transaction, another writer creates one of the "new" addresses.
    const racing = uniqueEmail('Many-Race');
    const other = uniqueEmail('Many-Other');
    const store = new DynamoSuppressionStore(
      interferingTransaction(racing, async (email) => {
        await newStore().update(email, (s) => applyFeedback(s, soft(email, `theirs:${email}`, 0)));
      }),
      table,
    );
    // Act
    await store.updateMany([
      { email: racing, decide: (s) => applyFeedback(s, soft(racing, `mine:${racing}`, 1)) },
      { email: other, decide: (s) => applyFeedback(s, soft(other, `mine:${other}`, 1)) },
    ]);
    // Assess: the other writer's event is kept, ours added on top; the untouched address written once.
    const r = (await newStore().get(racing)) as AddressState;
    expect(r.version).toBe(2);
    expect([...r.recentEventKeys].sort()).toEqual([fingerprint(`theirs:${racing}`), fingerprint(`mine:${racing}`)].sort());
    expect((await newStore().get(other))?.version).toBe(1);
  });
});
