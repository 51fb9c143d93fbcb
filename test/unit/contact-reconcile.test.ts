/**
 * What an opted-out SES contact means for the store (shared/domain/reconcile.ts
 * decideContactReconcile): imported as a global unsubscribe unless the store already holds an
 * unsubscribe (our own push lands in the contact list too) or a person removed the address since.
 */
import { describe, expect, it } from 'vitest';
import { decideContactReconcile, fromSesContact } from '../../shared/domain/reconcile.ts';
import { applyFeedback, applyManualSuppression, applyRemoval } from '../../shared/domain/suppression-policy.ts';
import { originOf } from '../../shared/domain/suppression-sync.ts';

const email = 'Reader@example.com';
const contact = (at: string) => fromSesContact('newsletter', { EmailAddress: email, LastUpdatedTimestamp: new Date(at) });

describe('SES contact-list reconcile', () => {
  it('imports an opted-out contact the store lacks as a global unsubscribe learned from SES', () => {
    const d = decideContactReconcile(undefined, contact('2026-01-01T00:00:00Z'));
    expect(d.outcome).toBe('suppressed');
    expect(d.added).toMatchObject([{ scope: 'global', reason: 'unsubscribe', source: 'reconcile' }]);
    expect(originOf(d.added[0]!)).toBe('ses');
    expect(d.next?.spellings).toEqual([email]);
  });

  it('does not escalate an unsubscribe the store already holds for one domain (our push made the contact opt out)', () => {
    const scoped = applyFeedback(undefined, {
      source: 'mailtrap', eventKey: 'mt:1', kind: 'unsubscribe', providerType: 'unsubscribe', email, occurredAt: '2026-01-01T00:00:00Z', scope: { domain: 'news.example.com' },
    }).next;
    expect(decideContactReconcile(scoped, contact('2026-01-02T00:00:00Z')).outcome).toBe('no-change');
  });

  it('a removal by a person after the contact last changed wins, all scopes or one', () => {
    const held = applyManualSuppression(undefined, { email, reason: 'unsubscribe', scope: { domain: 'news.example.com' }, at: '2026-01-01T00:00:00Z', key: 'm' }).next;
    const removedAll = applyRemoval(held, { at: '2026-01-03T00:00:00Z' }).next;
    const removedScope = applyRemoval(held, { at: '2026-01-03T00:00:00Z', scope: { domain: 'news.example.com' } }).next;
    expect(decideContactReconcile(removedAll, contact('2026-01-02T00:00:00Z')).outcome).toBe('no-change');
    expect(decideContactReconcile(removedScope, contact('2026-01-02T00:00:00Z')).outcome).toBe('no-change');
    // The contact opted out again after the removal: that is news.
    expect(decideContactReconcile(removedAll, contact('2026-01-04T00:00:00Z')).outcome).toBe('suppressed');
  });
});
