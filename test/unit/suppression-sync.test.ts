/**
 * The pure parts of the suppression sync: pacing, backoff, what each provider should hold
 * (echo rules), which store changes queue work, the calls a drain plans, and reconciliation.
 */
import { describe, expect, it } from 'vitest';
import { parseRate, Pacer, scheduleOf, scheduleRuns } from '../../shared/domain/rate-limit.ts';
import {
  backoffMs,
  changeFor,
  desiredFor,
  newlySkipped,
  originOf,
  planSync,
  type SyncConfig,
} from '../../shared/domain/suppression-sync.ts';
import { applyFeedback, applyManualSuppression, applyRemoval, viewSuppression, type AddressState } from '../../shared/domain/suppression-policy.ts';
import { decideReconcile, fromMailtrapRecord, fromSesEntry } from '../../shared/domain/reconcile.ts';
import type { FeedbackEvent } from '../../shared/domain/feedback-event.ts';

const CONFIG: SyncConfig = { mailtrapDomains: ['a.example', 'b.example'], mailtrapStreams: ['transactional', 'bulk'], sesContactList: 'unsubscribes' };
const AT = '2024-10-11T18:00:00.000Z';

function event(overrides: Partial<FeedbackEvent>): FeedbackEvent {
  return { source: 'ses', eventKey: `k-${Math.random()}`, kind: 'hard-bounce', providerType: 'Bounce/Permanent/General', email: 'User@Example.org', occurredAt: AT, ...overrides };
}

function suppressedBy(e: FeedbackEvent, state?: AddressState): AddressState {
  const next = applyFeedback(state, e).next;
  if (!next) throw new Error('expected a state');
  return next;
}

describe('pacing', () => {
  it('parses rates in every unit', () => {
    expect(parseRate('9/60s')).toEqual({ limit: 9, windowMs: 60_000 });
    expect(parseRate('1/1000')).toEqual({ limit: 1, windowMs: 1000 });
    expect(parseRate('10/1m')).toEqual({ limit: 10, windowMs: 60_000 });
    expect(() => parseRate('fast')).toThrow(/requests/);
  });

  it('spaces requests strictly, so no 60 s window ever holds more than Mailtrap allows', () => {
    // Prepare: 10 / 60 s, 100 requests asked for at once.
    const pacer = new Pacer(parseRate('10/60s'));
    // Act
    const slots = Array.from({ length: 100 }, () => pacer.reserve(0));
    // Assess: 6 s apart; any sliding window of 60 s holds at most 10.
    expect(slots.slice(0, 3)).toEqual([0, 6000, 12_000]);
    for (const start of slots) expect(slots.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(10);
  });

  it('lets a burst through when configured, then keeps the rate', () => {
    const pacer = new Pacer(parseRate('1/1s'), { burst: 3 });
    expect([0, 0, 0, 0, 0].map(() => pacer.reserve(10_000))).toEqual([10_000, 10_000, 10_000, 11_000, 12_000]);
  });

  it('holds every request back after a 429 until Retry-After has passed', () => {
    const pacer = new Pacer(parseRate('4/1s'), { startAt: 0 });
    expect(pacer.reserve(1000)).toBe(1000);
    pacer.pauseUntil(5000);
    expect(pacer.reserve(1200)).toBe(5000);
    expect(pacer.reserve(1200)).toBe(5250);
  });

  it('continues from the slot persisted by the previous run', () => {
    const first = new Pacer(parseRate('10/60s'));
    first.reserve(0);
    first.reserve(0);
    const next = new Pacer(parseRate('10/60s'), { startAt: first.nextFreeAt() });
    expect(next.reserve(1000)).toBe(12_000);
  });

  it('computes the schedule of a backlog', () => {
    expect(scheduleOf(10_000, parseRate('9/60s'))).toEqual({ first: 0, last: 9999 * (60_000 / 9), durationMs: 9999 * (60_000 / 9) });
  });

  it('does not reserve a slot past the deadline, so a run that ends costs the next run nothing', () => {
    const pacer = new Pacer(parseRate('1/70s'));
    expect(pacer.reserveBy(0, 50_000)).toBe(0);
    expect(pacer.reserveBy(10_000, 50_000)).toBeUndefined();
    expect(pacer.reserveBy(60_000, 110_000)).toBe(70_000);
  });

  it('computes the runs a scheduled drain needs: 8 Mailtrap calls per 50 s run of each minute', () => {
    // Prepare: 9 / 60 s, a run every 60 s that works 50 s (the deployed mailtrap-sync).
    const every = { everyMs: 60_000, budgetMs: 50_000 };
    // Act
    const twenty = scheduleRuns(20, parseRate('9/60s'), every);
    // Assess: slots 0, 6.67 ... 46.67 s in each run; the third run makes the last 4 calls.
    expect(twenty).toEqual({ runs: 3, lastCallMs: 140_000, callsPerRun: 8 });
    expect(scheduleRuns(0, parseRate('9/60s'), every)).toEqual({ runs: 0, lastCallMs: 0, callsPerRun: 0 });
    // A pace slower than the schedule still makes progress (one call every other run).
    expect(scheduleRuns(3, parseRate('1/70s'), every)).toEqual({ runs: 3, lastCallMs: 140_000, callsPerRun: 1 });
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, capped, never shorter than Retry-After', () => {
    const opts = { baseMs: 1000, maxMs: 60_000 };
    expect(backoffMs(1, opts, () => 0)).toBe(500);
    expect(backoffMs(1, opts, () => 1)).toBe(1000);
    expect(backoffMs(4, opts, () => 1)).toBe(8000);
    expect(backoffMs(20, opts, () => 1)).toBe(60_000);
    expect(backoffMs(1, { ...opts, retryAfterMs: 30_000 }, () => 0)).toBe(30_000);
  });
});

describe('what each provider should hold (echo rules)', () => {
  it('does not push an SES bounce back to SES, but to every Mailtrap domain and stream', () => {
    const state = suppressedBy(event({ source: 'ses' }));
    expect(desiredFor('ses', state, CONFIG).targets).toEqual([{ key: 'list', value: 'BOUNCE', origin: true }]);
    expect(desiredFor('mailtrap', state, CONFIG).targets).toEqual([
      { key: 'a.example/transactional', value: 'hard bounce', origin: false },
      { key: 'a.example/bulk', value: 'hard bounce', origin: false },
      { key: 'b.example/transactional', value: 'hard bounce', origin: false },
      { key: 'b.example/bulk', value: 'hard bounce', origin: false },
    ]);
  });

  it('does not push a Mailtrap complaint back to Mailtrap, but to SES as COMPLAINT', () => {
    const state = suppressedBy(event({ source: 'mailtrap', kind: 'complaint', providerType: 'spam', eventKey: 'mailtrap:1' }));
    expect(desiredFor('ses', state, CONFIG).targets).toEqual([{ key: 'list', value: 'COMPLAINT', origin: false }]);
    expect(desiredFor('mailtrap', state, CONFIG).targets.every((t) => t.origin)).toBe(true);
  });

  it('sends a domain-scoped unsubscribe only to that domain, and to the SES contact list', () => {
    const state = suppressedBy(event({ source: 'manual', kind: 'unsubscribe', scope: { domain: 'B.example', stream: 'bulk' } }));
    expect(desiredFor('mailtrap', state, CONFIG).targets).toEqual([{ key: 'b.example/bulk', value: 'unsubscription', origin: false }]);
    expect(desiredFor('ses', state, CONFIG).targets).toEqual([{ key: 'contact', value: 'unsubscribe-all', origin: false }]);
  });

  it('matches a scope, a configured domain and a Mailtrap record whatever IDN spelling each uses', () => {
    const config: SyncConfig = { ...CONFIG, mailtrapDomains: ['B\u00fccher.example'] };
    const state = suppressedBy(event({ source: 'manual', kind: 'unsubscribe', scope: { domain: 'xn--bcher-kva.example', stream: 'bulk' } }));
    expect(desiredFor('mailtrap', state, config).targets).toEqual([{ key: 'xn--bcher-kva.example/bulk', value: 'unsubscription', origin: false }]);
    expect(viewSuppression(state, state.email, 'b\u00fccher.example').suppressed).toBe(true);
    expect(viewSuppression(state, state.email, 'other.example').suppressed).toBe(false);
    expect(fromMailtrapRecord({ id: 'r1', email: 'u@example.org', type: 'unsubscription', domain_name: 'B\u00fccher.example', sending_stream: 'bulk', created_at: AT })?.scope?.domain).toBe('xn--bcher-kva.example');
  });

  it('skips, with the reason, what a provider cannot hold', () => {
    const unsub = suppressedBy(event({ source: 'manual', kind: 'unsubscribe', scope: { domain: 'elsewhere.example' } }));
    expect(desiredFor('mailtrap', unsub, CONFIG)).toEqual({ targets: [], skipped: ['unsubscribe (domain:elsewhere.example): not a configured Mailtrap sending domain'] });
    expect(desiredFor('ses', unsub, { ...CONFIG, sesContactList: undefined }).skipped).toEqual(['unsubscribe (domain:elsewhere.example): no SES contact list configured']);
    const scopedManual = applyManualSuppression(undefined, { email: 'x@y.z', reason: 'manual', scope: { domain: 'a.example' }, at: AT, key: 'm1' }).next;
    expect(desiredFor('ses', scopedManual, CONFIG).skipped).toEqual(['manual (domain:a.example): SES suppression list is account-wide']);
  });

  it('knows where a reconciled entry came from', () => {
    expect(originOf({ source: 'reconcile', eventKey: 'reconcile:mailtrap:abc' })).toBe('mailtrap');
    expect(originOf({ source: 'reconcile', eventKey: 'reconcile:ses:X@y:BOUNCE' })).toBe('ses');
    expect(originOf({ source: 'import', eventKey: 'import:x' })).toBeNull();
  });

  it('does not push an entry imported from a provider export back to that provider', () => {
    // Prepare: a bounce from a Mailtrap CSV export, keyed as suppression-import.ts importKey does.
    const state = applyManualSuppression(undefined, { email: 'X@y.org', reason: 'bounce', at: AT, source: 'import', key: 'import:mailtrap:x@y.org:bounce:global' }).next;
    const plain = applyManualSuppression(undefined, { email: 'X@y.org', reason: 'bounce', at: AT, source: 'import', key: 'import:x@y.org:bounce:global' }).next;
    // Act / Assess
    expect(originOf({ source: 'import', eventKey: 'import:mailtrap:x@y.org:bounce:global' })).toBe('mailtrap');
    expect(changeFor('mailtrap', undefined, state, CONFIG)).toEqual({ notify: false, purge: false });
    expect(changeFor('ses', undefined, state, CONFIG)).toEqual({ notify: true, purge: false });
    expect(changeFor('mailtrap', undefined, plain, CONFIG)).toEqual({ notify: true, purge: false });
  });

  it('names what a change adds that a provider cannot hold, once', () => {
    const noList = { ...CONFIG, sesContactList: undefined };
    const unsub = applyManualSuppression(undefined, { email: 'x@y.org', reason: 'unsubscribe', at: AT, key: 'u1' }).next;
    const again = applyManualSuppression(unsub, { email: 'x@y.org', reason: 'bounce', at: AT, key: 'b1' }).next;
    expect(newlySkipped('ses', undefined, unsub, noList)).toEqual(['unsubscribe (global): no SES contact list configured']);
    expect(newlySkipped('ses', unsub, again, noList)).toEqual([]);
    expect(newlySkipped('mailtrap', undefined, unsub, noList)).toEqual([]);
  });
});

describe('which store changes queue work', () => {
  it('ignores changes that leave suppressions alone (soft bounce, delivery, a second event)', () => {
    const before = suppressedBy(event({ source: 'manual' }));
    const soft = suppressedBy(event({ kind: 'soft-bounce', providerType: 'Bounce/Transient/General' }), before);
    expect(changeFor('ses', before, soft, CONFIG)).toEqual({ notify: false, purge: false });
    expect(changeFor('mailtrap', before, soft, CONFIG)).toEqual({ notify: false, purge: false });
  });

  it('queues only the other provider for an entry learned from a provider', () => {
    const after = suppressedBy(event({ source: 'mailtrap', kind: 'complaint', providerType: 'spam' }));
    expect(changeFor('ses', undefined, after, CONFIG)).toEqual({ notify: true, purge: false });
    expect(changeFor('mailtrap', undefined, after, CONFIG)).toEqual({ notify: false, purge: false });
  });

  it('queues a purge at both providers when a person removes the address, also at the one it came from', () => {
    const before = suppressedBy(event({ source: 'ses' }));
    const after = applyRemoval(before, { at: '2024-10-12T00:00:00.000Z' }).next;
    expect(changeFor('ses', before, after, CONFIG)).toEqual({ notify: true, purge: true });
    expect(changeFor('mailtrap', before, after, CONFIG)).toEqual({ notify: true, purge: true });
    // A deleted item (no new image) is a removal too.
    expect(changeFor('ses', before, undefined, CONFIG)).toEqual({ notify: true, purge: true });
  });
});

describe('the calls a drain plans', () => {
  it('puts what is missing, adopts what the provider already holds, repeats nothing', () => {
    const state = suppressedBy(event({ source: 'ses' }));
    expect(planSync('ses', desiredFor('ses', state, CONFIG), {}, false)).toEqual({ ops: [], adopted: { list: 'BOUNCE' }, skipped: [] });
    const mt = desiredFor('mailtrap', state, CONFIG);
    const applied = { 'a.example/transactional': 'hard bounce', 'a.example/bulk': 'hard bounce' };
    expect(planSync('mailtrap', mt, applied, false).ops).toEqual([
      { kind: 'put', target: 'b.example/transactional', value: 'hard bounce' },
      { kind: 'put', target: 'b.example/bulk', value: 'hard bounce' },
    ]);
  });

  it('deletes before it puts, and purges everything the store no longer wants', () => {
    const none = { targets: [], skipped: [] };
    expect(planSync('ses', none, {}, true).ops).toEqual([
      { kind: 'delete', target: 'list' },
      { kind: 'delete', target: 'contact' },
    ]);
    const keep = { targets: [{ key: 'a.example/bulk', value: 'unsubscription', origin: false }], skipped: [] };
    expect(planSync('mailtrap', keep, { 'b.example/bulk': 'unsubscription' }, true).ops).toEqual([
      { kind: 'purge', keep: ['a.example/bulk'] },
      { kind: 'put', target: 'a.example/bulk', value: 'unsubscription' },
    ]);
    const changed = { targets: [{ key: 'list', value: 'COMPLAINT', origin: false }], skipped: [] };
    expect(planSync('ses', changed, { list: 'BOUNCE', contact: 'unsubscribe-all' }, false).ops).toEqual([
      { kind: 'delete', target: 'contact' },
      { kind: 'put', target: 'list', value: 'COMPLAINT' },
    ]);
  });
});

describe('reconciliation', () => {
  it('imports an SES entry with its spelling and a key naming the provider', () => {
    const entry = fromSesEntry({ EmailAddress: 'Dash@Example.org', Reason: 'COMPLAINT', LastUpdateTime: new Date(AT) });
    const decision = decideReconcile(undefined, entry!);
    expect(decision.outcome).toBe('suppressed');
    expect(decision.next?.spellings).toEqual(['Dash@Example.org']);
    expect(decision.next?.suppressions).toMatchObject([{ scope: 'global', reason: 'complaint', source: 'reconcile', eventKey: `reconcile:ses:Dash@Example.org:COMPLAINT:${AT}` }]);
  });

  it('maps Mailtrap types to our scopes', () => {
    const base = { id: 'r1', email: 'U@x.org', sending_stream: 'bulk', domain_name: 'A.example', created_at: AT };
    expect(fromMailtrapRecord({ ...base, type: 'unsubscription' })).toMatchObject({ reason: 'unsubscribe', scope: { domain: 'a.example', stream: 'bulk' }, key: 'reconcile:mailtrap:r1' });
    expect(fromMailtrapRecord({ ...base, type: 'hard bounce' })).toMatchObject({ reason: 'bounce', scope: undefined });
    expect(fromMailtrapRecord({ ...base, type: 'something new' })).toBeUndefined();
  });

  it('does not undo a removal made after the provider recorded the entry', () => {
    const entry = fromSesEntry({ EmailAddress: 'u@x.org', Reason: 'BOUNCE', LastUpdateTime: new Date(AT) })!;
    const imported = decideReconcile(undefined, entry).next!;
    const removed = applyRemoval(imported, { at: '2024-10-12T00:00:00.000Z' }).next!;
    expect(decideReconcile(removed, entry)).toMatchObject({ outcome: 'no-change', why: 'removed by a person after the provider recorded it' });
    const later = fromSesEntry({ EmailAddress: 'u@x.org', Reason: 'BOUNCE', LastUpdateTime: new Date('2024-10-13T00:00:00.000Z') })!;
    expect(decideReconcile(removed, later).outcome).toBe('suppressed');
  });

  it('does not undo the removal of one scope, even after the history has rolled over', () => {
    // Prepare: a Mailtrap unsubscription for one domain/stream, reconciled, then lifted by a person.
    const record = { id: 'r9', email: 'u@x.org', type: 'unsubscription', sending_stream: 'bulk', domain_name: 'a.example', created_at: AT };
    const entry = fromMailtrapRecord(record)!;
    let state = decideReconcile(undefined, entry).next!;
    state = applyRemoval(state, { at: '2024-10-12T00:00:00.000Z', scope: { domain: 'a.example', stream: 'bulk' } }).next!;
    for (let i = 0; i < 30; i++) state = { ...suppressedBy(event({ kind: 'soft-bounce', email: 'u@x.org', occurredAt: new Date(Date.parse(AT) + (i + 2) * 86_400_000 * 30).toISOString() }), state), version: i + 2 };
    expect(state.history.some((h) => h.kind === 'removed')).toBe(false);
    // Act: Mailtrap still lists it (our delete has not reached it yet).
    const decision = decideReconcile(state, entry);
    // Assess
    expect(decision).toMatchObject({ outcome: 'no-change', why: 'scope domain:a.example/bulk removed by a person after the provider recorded it' });
    // A record Mailtrap made after the removal is imported.
    expect(decideReconcile(state, fromMailtrapRecord({ ...record, id: 'r10', created_at: '2024-10-13T00:00:00.000Z' })!).outcome).toBe('suppressed');
  });

  it('leaves an address the store already suppresses alone', () => {
    const state = suppressedBy(event({ source: 'mailtrap', kind: 'complaint', providerType: 'spam' }));
    const entry = fromSesEntry({ EmailAddress: 'User@Example.org', Reason: 'COMPLAINT', LastUpdateTime: new Date(AT) })!;
    expect(decideReconcile(state, entry)).toMatchObject({ outcome: 'no-change', why: 'already suppressed (global)' });
  });
});
