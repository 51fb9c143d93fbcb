import { describe, expect, it } from 'vitest';
import type { FeedbackEvent } from '../../shared/domain/feedback-event.ts';
import {
  applyFeedback,
  applyManualSuppression,
  applyRemoval,
  DEFAULT_POLICY,
  scopeClearedAt,
  viewSuppression,
  type AddressState,
} from '../../shared/domain/suppression-policy.ts';

let seq = 0;
function ev(partial: Partial<FeedbackEvent> & Pick<FeedbackEvent, 'kind'>): FeedbackEvent {
  seq += 1;
  return {
    source: 'ses',
    eventKey: `key-${seq}`,
    providerType: partial.kind,
    email: 'Jane.Doe@Example.com',
    occurredAt: '2026-01-10T10:00:00.000Z',
    ...partial,
  };
}

/** Fold events one after another, as the store does, returning the final state. */
function fold(events: FeedbackEvent[], start?: AddressState): AddressState | undefined {
  let state = start;
  for (const e of events) {
    const d = applyFeedback(state, e);
    if (d.next) state = { ...d.next, version: (state?.version ?? 0) + 1 };
  }
  return state;
}

describe('suppression policy table', () => {
  it.each([
    ['hard-bounce', true, 'bounce'],
    ['complaint', true, 'complaint'],
    ['unsubscribe', true, 'unsubscribe'],
    ['soft-bounce', false, null],
    ['delivery', false, null],
    ['not-spam', false, null],
    ['informational', false, null],
  ] as const)('a single %s suppresses: %s', (kind, suppresses, reason) => {
    // Act
    const decision = applyFeedback(undefined, ev({ kind }));
    // Assess
    expect(decision.outcome === 'suppressed').toBe(suppresses);
    const view = viewSuppression(decision.next, 'jane.doe@example.com');
    expect(view.suppressed).toBe(suppresses);
    expect(view.reason).toBe(reason);
  });

  it('writes nothing for events that cannot change suppression state', () => {
    for (const kind of ['informational', 'not-spam', 'delivery'] as const) {
      const decision = applyFeedback(undefined, ev({ kind }));
      expect(decision.outcome).toBe('no-change');
      expect(decision.next).toBeUndefined();
    }
  });

  it('keeps the normalised address and the provider spelling (without surrounding blanks)', () => {
    const decision = applyFeedback(undefined, ev({ kind: 'hard-bounce', email: ' Jane.Doe@Example.com ' }));
    expect(decision.next?.email).toBe('jane.doe@example.com');
    expect(decision.next?.spellings).toEqual(['Jane.Doe@Example.com']);
  });

  it('folds NFD and IDN spellings of one address into one state, keeping each spelling', () => {
    const state = fold([
      ev({ kind: 'soft-bounce', email: 'Jose\u0301@b\u00fccher.de', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'soft-bounce', email: 'jos\u00e9@xn--bcher-kva.de.', occurredAt: '2026-01-01T01:00:00Z' }),
      ev({ kind: 'soft-bounce', email: 'JOS\u00c9@B\u00dcCHER.DE', occurredAt: '2026-01-01T02:00:00Z' }),
    ]);
    expect(state?.email).toBe('jos\u00e9@xn--bcher-kva.de');
    expect(state?.spellings).toEqual(['Jose\u0301@b\u00fccher.de', 'jos\u00e9@xn--bcher-kva.de.', 'JOS\u00c9@B\u00dcCHER.DE']);
    expect(viewSuppression(state, 'jos\u00e9@b\u00fccher.de').suppressed).toBe(true);
  });
});

describe('soft bounces', () => {
  it('suppress only at the threshold within the window', () => {
    // Prepare: two soft bounces within a day
    const two = fold([
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-02T00:00:00Z' }),
    ]);
    expect(viewSuppression(two, 'x@example.com').suppressed).toBe(false);
    // Act: the third within 7 days
    const decision = applyFeedback(two, ev({ kind: 'soft-bounce', occurredAt: '2026-01-05T00:00:00Z' }));
    // Assess
    expect(decision.outcome).toBe('suppressed');
    expect(decision.added[0]?.reason).toBe('bounce');
    expect(decision.why).toContain('3 soft bounces');
  });

  it('do not suppress when spread beyond the window', () => {
    const state = fold([
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-05T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-09T00:00:00Z' }),
    ]);
    expect(viewSuppression(state, 'x@example.com').suppressed).toBe(false);
    expect(state?.counts['soft-bounce']).toBe(3);
  });

  it('honour a configured threshold and window', () => {
    const policy = { ...DEFAULT_POLICY, softBounceThreshold: 2, softBounceWindowDays: 1 };
    const first = applyFeedback(undefined, ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T00:00:00Z' }), policy);
    const second = applyFeedback(first.next, ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T12:00:00Z' }), policy);
    expect(second.outcome).toBe('suppressed');
  });

  it('are cleared by a later delivery, and a delivery clears only older ones', () => {
    const state = fold([
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-03T00:00:00Z' }),
    ]);
    const delivery = applyFeedback(state, ev({ kind: 'delivery', occurredAt: '2026-01-02T00:00:00Z' }));
    expect(delivery.outcome).toBe('cleared');
    expect(delivery.next?.softBounces.map((b) => b.at)).toEqual(['2026-01-03T00:00:00Z']);
  });

  it('older than the last delivery do not count (out-of-order arrival)', () => {
    const state = fold([
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'delivery', occurredAt: '2026-01-04T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-02T00:00:00Z' }),
      ev({ kind: 'soft-bounce', occurredAt: '2026-01-03T00:00:00Z' }),
    ]);
    expect(viewSuppression(state, 'x@example.com').suppressed).toBe(false);
    expect(state?.softBounces).toEqual([]);
  });
});

describe('idempotency and bounded history', () => {
  it('a redelivered event changes nothing', () => {
    const event = ev({ kind: 'soft-bounce' });
    const first = applyFeedback(undefined, event);
    const again = applyFeedback(first.next, structuredClone(event));
    expect(again.outcome).toBe('duplicate');
    expect(again.next).toBeUndefined();
  });

  it('keeps history, dedupe keys, spellings and soft bounces at their bounds, however many events come', () => {
    // Prepare: 200 soft bounces an hour apart (all inside the window), each spelled with
    // another case pattern of one address (16 spellings, more than the 5 kept).
    const spelling = (i: number) => [...'jane'].map((ch, b) => ((i >> b) & 1 ? ch.toUpperCase() : ch)).join('') + '@example.com';
    const events = Array.from({ length: 200 }, (_, i) => ev({ kind: 'soft-bounce', email: spelling(i % 16), occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString() }));
    // Act
    const state = fold(events);
    // Assess: every bound is reached, none exceeded.
    expect(new Set(events.map((e) => e.email)).size).toBeGreaterThan(DEFAULT_POLICY.spellingLimit);
    expect(state?.history).toHaveLength(DEFAULT_POLICY.historyLimit);
    expect(state?.recentEventKeys).toHaveLength(DEFAULT_POLICY.dedupeLimit);
    expect(state?.spellings).toHaveLength(DEFAULT_POLICY.spellingLimit);
    expect(state?.softBounces).toHaveLength(DEFAULT_POLICY.softBounceThreshold);
    // The newest are the ones kept.
    expect(state?.history.at(-1)?.at).toBe(events.at(-1)?.occurredAt);
    expect(state?.softBounces.at(-1)?.at).toBe(events.at(-1)?.occurredAt);
    expect(state?.counts['soft-bounce']).toBe(200);
    expect(JSON.stringify(state).length).toBeLessThan(8000);
  });

  it('keeps the remembered scoped removals at their bound', () => {
    // Prepare: unsubscribed from more sending domains than the policy remembers removals for.
    const n = DEFAULT_POLICY.scopeClearLimit + 8;
    let state = fold(Array.from({ length: n }, (_, i) => ev({ kind: 'unsubscribe', source: 'mailtrap', scope: { domain: `d${i}.example.com` } })));
    // Act: a person lifts each one.
    for (let i = 0; i < n; i++) {
      const d = applyRemoval(state, { at: new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString(), scope: { domain: `d${i}.example.com` } });
      expect(d.outcome).toBe('cleared');
      state = d.next;
    }
    // Assess: the newest removals are kept, one entry per scope, no more than the bound.
    expect(state?.scopeClears).toHaveLength(DEFAULT_POLICY.scopeClearLimit);
    expect(state?.scopeClears?.at(-1)?.scope).toBe(`domain:d${n - 1}.example.com`);
    expect(JSON.stringify(state).length).toBeLessThan(8000);
  });

  it('tracks first and last event times regardless of arrival order', () => {
    const state = fold([
      ev({ kind: 'hard-bounce', occurredAt: '2026-03-01T00:00:00Z' }),
      ev({ kind: 'complaint', occurredAt: '2026-01-01T00:00:00Z' }),
      ev({ kind: 'soft-bounce', source: 'mailtrap', occurredAt: '2026-05-01T00:00:00Z' }),
    ]);
    expect(state?.firstEventAt).toBe('2026-01-01T00:00:00Z');
    expect(state?.lastEventAt).toBe('2026-05-01T00:00:00Z');
    expect(state?.sources).toEqual(['ses', 'mailtrap']);
    // The first suppression's reason stays; the complaint is recorded, not a second global scope.
    expect(state?.suppressions).toHaveLength(1);
    expect(state?.counts.complaint).toBe(1);
  });
});

describe('scopes, manual changes and removal', () => {
  it('scopes unsubscribes to the sending domain and stream', () => {
    const decision = applyFeedback(undefined, ev({ kind: 'unsubscribe', source: 'mailtrap', scope: { domain: 'News.Example.com', stream: 'bulk' } }));
    expect(decision.added[0]?.scope).toBe('domain:news.example.com/bulk');
    expect(viewSuppression(decision.next, 'jane.doe@example.com', 'news.example.com').suppressed).toBe(true);
    expect(viewSuppression(decision.next, 'jane.doe@example.com', 'billing.example.com').suppressed).toBe(false);
    expect(viewSuppression(decision.next, 'jane.doe@example.com').suppressed).toBe(true);
  });

  it('a removal stops older suppressing events from suppressing again', () => {
    const bounced = fold([ev({ kind: 'hard-bounce', occurredAt: '2026-01-01T00:00:00Z' })]);
    const removed = applyRemoval(bounced, { at: '2026-02-01T00:00:00Z' });
    expect(removed.outcome).toBe('cleared');
    // A slow or redelivered bounce from before the removal arrives.
    const late = applyFeedback(removed.next, ev({ kind: 'hard-bounce', occurredAt: '2026-01-15T00:00:00Z' }));
    expect(late.outcome).toBe('recorded');
    expect(viewSuppression(late.next, 'x@example.com').suppressed).toBe(false);
    // A new bounce after the removal does suppress.
    const fresh = applyFeedback(late.next, ev({ kind: 'hard-bounce', occurredAt: '2026-03-01T00:00:00Z' }));
    expect(fresh.outcome).toBe('suppressed');
  });

  it('manual suppression is idempotent per key and scoped removal keeps other scopes', () => {
    const manual = applyManualSuppression(undefined, { email: 'a@example.com', reason: 'manual', at: '2026-01-01T00:00:00Z', key: 'm1' });
    expect(manual.outcome).toBe('suppressed');
    expect(applyManualSuppression(manual.next, { email: 'a@example.com', reason: 'manual', at: '2026-01-01T00:00:00Z', key: 'm1' }).outcome).toBe('duplicate');
    const withUnsub = applyFeedback(manual.next, ev({ kind: 'unsubscribe', email: 'a@example.com', scope: { domain: 'news.example.com' } }));
    const removedDomain = applyRemoval(withUnsub.next, { at: '2026-02-01T00:00:00Z', scope: { domain: 'news.example.com' } });
    expect(removedDomain.next?.suppressions.map((s) => s.scope)).toEqual(['global']);
    expect(applyRemoval(undefined, { at: '2026-02-01T00:00:00Z' }).outcome).toBe('no-change');
  });
});

describe('a person\'s removal of one scope is as durable as a full removal', () => {
  const unsub = (occurredAt: string, extra: Partial<FeedbackEvent> = {}) =>
    ev({ kind: 'unsubscribe', source: 'mailtrap', email: 'a@example.com', scope: { domain: 'news.example.com', stream: 'bulk' }, occurredAt, ...extra });

  function unsubscribedThenLifted(): AddressState {
    const state = fold([unsub('2026-01-01T00:00:00Z')]);
    const removed = applyRemoval(state, { at: '2026-02-01T00:00:00Z', scope: { domain: 'news.example.com', stream: 'bulk' } });
    expect(removed.outcome).toBe('cleared');
    return removed.next as AddressState;
  }

  it('an older suppressing event for that scope does not bring it back; a newer one does', () => {
    // Prepare
    const lifted = unsubscribedThenLifted();
    expect(lifted.scopeClears).toEqual([{ scope: 'domain:news.example.com/bulk', at: '2026-02-01T00:00:00Z' }]);
    // Act: a slow or redelivered unsubscribe from before the removal arrives.
    const late = applyFeedback(lifted, unsub('2026-01-20T00:00:00Z'));
    // Assess
    expect(late.outcome).toBe('recorded');
    expect(late.why).toBe('event predates a manual removal');
    expect(viewSuppression(late.next, 'a@example.com').suppressed).toBe(false);
    expect(applyFeedback(late.next, unsub('2026-03-01T00:00:00Z')).outcome).toBe('suppressed');
  });

  it('stays durable after the history that recorded it has rolled over', () => {
    // Prepare: the removal, then more events than the history keeps.
    const lifted = unsubscribedThenLifted();
    const busy = fold(
      Array.from({ length: DEFAULT_POLICY.historyLimit + 5 }, (_, i) => ev({ kind: 'soft-bounce', email: 'a@example.com', occurredAt: new Date(Date.UTC(2026, 2, 1) + i * 30 * 86_400_000).toISOString() })),
      lifted,
    ) as AddressState;
    expect(busy.history.some((h) => h.kind === 'removed')).toBe(false);
    // Act
    const late = applyFeedback(busy, unsub('2026-01-20T00:00:00Z'));
    // Assess
    expect(late.outcome).toBe('recorded');
    expect(busy.suppressions.map((s) => s.scope)).not.toContain('domain:news.example.com/bulk');
    expect(late.next?.suppressions.map((s) => s.scope)).not.toContain('domain:news.example.com/bulk');
  });

  it('lifting one scope leaves other scopes free to suppress from older events', () => {
    const lifted = unsubscribedThenLifted();
    const other = applyFeedback(lifted, unsub('2026-01-20T00:00:00Z', { scope: { domain: 'billing.example.com' } }));
    expect(other.outcome).toBe('suppressed');
    const bounce = applyFeedback(lifted, ev({ kind: 'hard-bounce', email: 'a@example.com', occurredAt: '2026-01-20T00:00:00Z' }));
    expect(bounce.outcome).toBe('suppressed');
  });

  it('a later full removal covers the scoped ones (no entry kept twice)', () => {
    const lifted = unsubscribedThenLifted();
    const bounced = applyFeedback(lifted, ev({ kind: 'hard-bounce', email: 'a@example.com', occurredAt: '2026-02-10T00:00:00Z' })).next;
    const all = applyRemoval(bounced, { at: '2026-03-01T00:00:00Z' });
    expect(all.next?.clearedAt).toBe('2026-03-01T00:00:00Z');
    expect(all.next?.scopeClears).toEqual([]);
    expect(applyFeedback(all.next, unsub('2026-02-20T00:00:00Z')).outcome).toBe('recorded');
  });

  it('still honours a scoped removal that an item written before scopeClears keeps only in its history', () => {
    const lifted = unsubscribedThenLifted();
    const { scopeClears: _dropped, ...legacy } = lifted;
    expect(applyFeedback(legacy, unsub('2026-01-20T00:00:00Z')).outcome).toBe('recorded');
    expect(scopeClearedAt(legacy, 'domain:news.example.com/bulk')).toBe('2026-02-01T00:00:00Z');
  });
});
