/**
 * SES subscription management events: mapping (shared/domain/ses-feedback.ts) and policy
 * (shared/domain/subscription-policy.ts), and what the sync then wants of each provider.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapSesNotification } from '../../shared/domain/ses-feedback.ts';
import { MalformedEventError, parseSesFeedbackBody } from '../../shared/schemas/ses-notification.ts';
import { decideFeedback, topicScope } from '../../shared/domain/subscription-policy.ts';
import { applyFeedback, applyManualSuppression, applyRemoval, type AddressState } from '../../shared/domain/suppression-policy.ts';
import { desiredFor, type SyncConfig } from '../../shared/domain/suppression-sync.ts';
import type { FeedbackEvent } from '../../shared/domain/feedback-event.ts';

const EVENTS = join(import.meta.dirname, '..', '..', 'events');
const fixture = () => structuredClone(JSON.parse(readFileSync(join(EVENTS, 'ses', 'event_Subscription.json'), 'utf8'))) as Record<string, any>;

function subscriptionEvent(opts: { to?: string[]; all?: boolean; topics?: Record<string, 'OptOut' | 'OptIn'>; at?: string; list?: string; messageId?: string } = {}) {
  const n = fixture();
  n.mail.destination = opts.to ?? ['recipient@example.com'];
  if (opts.messageId) n.mail.messageId = opts.messageId;
  n.subscription.contactList = opts.list ?? 'ContactListName';
  n.subscription.timestamp = opts.at ?? '2022-01-12T01:00:17.910Z';
  n.subscription.newTopicPreferences = {
    unsubscribeAll: opts.all ?? false,
    topicSubscriptionStatus: Object.entries(opts.topics ?? {}).map(([topicName, subscriptionStatus]) => ({ topicName, subscriptionStatus })),
  };
  return n;
}

const events = (n: unknown): FeedbackEvent[] => mapSesNotification(parseSesFeedbackBody(JSON.stringify(n)).notification).events;

/** Fold events into one address state, as the store would (only decisions with a next state write). */
function fold(list: FeedbackEvent[], start?: AddressState): AddressState | undefined {
  let state = start;
  for (const e of list) {
    const d = decideFeedback(state, e);
    if (d.next) state = { ...d.next, version: (state?.version ?? 0) + 1 };
  }
  return state;
}

const config: SyncConfig = { mailtrapDomains: ['examplesender.com'], mailtrapStreams: ['transactional', 'bulk'], sesContactList: 'mailbridge-unsubscribes' };

describe('SES Subscription events: mapping', () => {
  it('maps the documented example to one subscription event for the destination, keyed by message id + recipient + time', () => {
    // Prepare
    const n = fixture();
    // Act
    const [event, ...rest] = events(n);
    // Assess
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      source: 'ses',
      kind: 'subscription',
      providerType: 'Subscription/UnsubscribeAll',
      email: 'recipient@example.com',
      occurredAt: '2022-01-12T01:00:17.910Z',
      subscription: { contactList: 'ContactListName', unsubscribeAll: true, optedOut: ['ExampleTopicName'] },
    });
    expect(event?.eventKey).toBe(`ses:subscription:ContactListName:${n.mail.messageId}:recipient@example.com:2022-01-12T01:00:17.910Z`);
  });

  it('reads the API spelling of statuses too (OPT_OUT), and opt-ins are not opt-outs', () => {
    const n = subscriptionEvent({ topics: { weekly: 'OptIn' } });
    n.subscription.newTopicPreferences.topicSubscriptionStatus.push({ topicName: 'daily', subscriptionStatus: 'OPT_OUT' });
    expect(events(n)[0]?.subscription).toEqual({ contactList: 'ContactListName', unsubscribeAll: false, optedOut: ['daily'] });
    expect(events(n)[0]?.providerType).toBe('Subscription/TopicOptOut');
  });

  it.each([
    ['no subscription object', (n: Record<string, any>) => delete n.subscription, /subscription object/],
    ['no destination', (n: Record<string, any>) => (n.mail.destination = []), /mail\.destination/],
    ['no new preferences', (n: Record<string, any>) => delete n.subscription.newTopicPreferences, /newTopicPreferences/],
    ['more topics than SES allows', (n: Record<string, any>) => (n.subscription.newTopicPreferences.topicSubscriptionStatus = Array.from({ length: 51 }, (_, i) => ({ topicName: `t${i}`, subscriptionStatus: 'OptOut' }))), /topicSubscriptionStatus/],
  ])('a Subscription event with %s is malformed (DLQ with the reason)', (_what, breakIt, reason) => {
    const n = fixture();
    breakIt(n);
    expect(() => parseSesFeedbackBody(JSON.stringify(n))).toThrow(MalformedEventError);
    expect(() => parseSesFeedbackBody(JSON.stringify(n))).toThrow(reason);
  });
});

describe('SES Subscription events: policy', () => {
  it('unsubscribeAll suppresses globally with reason unsubscribe, source ses', () => {
    const state = fold(events(subscriptionEvent({ all: true })));
    expect(state?.suppressions).toMatchObject([{ scope: 'global', reason: 'unsubscribe', source: 'ses' }]);
  });

  it('a topic opt-out is its own scope, not a global suppression; a later opt-in lifts it', () => {
    // Prepare
    const optOut = events(subscriptionEvent({ topics: { weekly: 'OptOut', daily: 'OptIn' }, at: '2024-01-01T00:00:00.000Z' }));
    const optIn = events(subscriptionEvent({ topics: { weekly: 'OptIn' }, at: '2024-01-02T00:00:00.000Z', messageId: 'later' }));
    // Act
    const after = fold(optOut);
    const lifted = fold(optIn, after);
    // Assess
    expect(after?.suppressions.map((s) => s.scope)).toEqual([topicScope('ContactListName', 'weekly')]);
    expect(lifted?.suppressions).toEqual([]);
  });

  it('unsubscribeAll back to false lifts what subscription events of that list set, and nothing else', () => {
    // Prepare: a bounce, a Mailtrap domain unsubscribe, a person's suppression, another list's opt-out
    const email = 'recipient@example.com';
    let state = fold([
      { source: 'mailtrap', eventKey: 'mt:1', kind: 'unsubscribe', providerType: 'unsubscribe', email, occurredAt: '2024-01-01T00:00:00.000Z', scope: { domain: 'examplesender.com' } },
    ]);
    state = applyManualSuppression(state, { email, reason: 'manual', scope: { domain: 'news.examplesender.com' }, at: '2024-01-01T00:00:00.000Z', key: 'manual:1' }).next;
    state = fold(events(subscriptionEvent({ list: 'other', topics: { t: 'OptOut' }, at: '2024-01-01T00:00:00.000Z', messageId: 'o' })), state);
    state = fold(events(subscriptionEvent({ all: true, at: '2024-01-02T00:00:00.000Z', messageId: 'a' })), state);
    expect(state?.suppressions.map((s) => s.scope).sort()).toEqual(['domain:examplesender.com', 'domain:news.examplesender.com', 'global', topicScope('other', 't')].sort());
    // Act
    const after = fold(events(subscriptionEvent({ all: false, at: '2024-01-03T00:00:00.000Z', messageId: 'b' })), state);
    // Assess
    expect(after?.suppressions.map((s) => s.scope).sort()).toEqual(['domain:examplesender.com', 'domain:news.examplesender.com', topicScope('other', 't')].sort());
  });

  it('an opt-in does not lift a global suppression it did not set (a bounce, an unsubscribe from elsewhere)', () => {
    const email = 'recipient@example.com';
    const bounced = applyFeedback(undefined, { source: 'mailtrap', eventKey: 'mt:b', kind: 'hard-bounce', providerType: 'bounce', email, occurredAt: '2024-01-01T00:00:00.000Z' }).next;
    const after = fold(events(subscriptionEvent({ all: true, at: '2024-01-02T00:00:00.000Z' })), bounced);
    expect(after?.suppressions).toMatchObject([{ scope: 'global', reason: 'bounce' }]);
    const optedIn = fold(events(subscriptionEvent({ all: false, at: '2024-01-03T00:00:00.000Z', messageId: 'x' })), after);
    expect(optedIn?.suppressions).toMatchObject([{ scope: 'global', reason: 'bounce' }]);
  });

  it('a redelivered event is a duplicate and writes nothing', () => {
    const [event] = events(subscriptionEvent({ all: true }));
    const state = fold([event!]);
    const decision = decideFeedback(state, event!);
    expect(decision.outcome).toBe('duplicate');
    expect(decision.next).toBeUndefined();
  });

  it('an older choice arriving after a newer one changes nothing', () => {
    // Prepare: opted back in at t2, the opt-out of t1 arrives late
    const optOut = events(subscriptionEvent({ all: true, at: '2024-01-01T00:00:00.000Z', messageId: 'old' }));
    const optIn = events(subscriptionEvent({ all: false, topics: {}, at: '2024-01-02T00:00:00.000Z', messageId: 'new' }));
    const seed = applyManualSuppression(undefined, { email: 'recipient@example.com', reason: 'bounce', at: '2023-01-01T00:00:00.000Z', key: 'seed' }).next;
    const state = fold(optIn, seed);
    // Act
    const decision = decideFeedback(state, optOut[0]!);
    // Assess
    expect(decision.outcome).toBe('no-change');
    expect(decision.next).toBeUndefined();
  });

  it('an opt-out older than a person\'s removal does not suppress again', () => {
    const seed = applyManualSuppression(undefined, { email: 'recipient@example.com', reason: 'manual', at: '2024-01-01T00:00:00.000Z', key: 'seed' }).next;
    const removed = applyRemoval(seed, { at: '2024-02-01T00:00:00.000Z' }).next;
    const after = fold(events(subscriptionEvent({ all: true, at: '2024-01-15T00:00:00.000Z' })), removed);
    expect(after?.suppressions).toEqual([]);
  });

  it('an opt-in for an address we hold nothing about costs no write', () => {
    const decision = decideFeedback(undefined, events(subscriptionEvent({ all: false }))[0]!);
    expect(decision.outcome).toBe('no-change');
    expect(decision.next).toBeUndefined();
  });

  it('bounds the per-list marks it keeps on the address', () => {
    let state: AddressState | undefined;
    for (let i = 0; i < 12; i++) state = fold(events(subscriptionEvent({ list: `list-${i}`, all: i % 2 === 0, at: new Date(Date.UTC(2024, 0, i + 1)).toISOString() })), state);
    expect(Object.keys((state as AddressState & { subscriptionAt?: Record<string, string> }).subscriptionAt ?? {}).length).toBeLessThanOrEqual(5);
  });
});

describe('SES Subscription events: sync', () => {
  it('a global SES opt-out goes to every Mailtrap domain x stream as an unsubscription and is not pushed back to SES', () => {
    const state = fold(events(subscriptionEvent({ all: true })));
    expect(desiredFor('mailtrap', state, config).targets).toEqual([
      { key: 'examplesender.com/transactional', value: 'unsubscription', origin: false },
      { key: 'examplesender.com/bulk', value: 'unsubscription', origin: false },
    ]);
    expect(desiredFor('ses', state, config).targets).toEqual([{ key: 'contact', value: 'unsubscribe-all', origin: true }]);
  });

  it('a topic opt-out is held by neither target set, with the reason recorded', () => {
    const state = fold(events(subscriptionEvent({ topics: { weekly: 'OptOut' } })));
    const mailtrap = desiredFor('mailtrap', state, config);
    const ses = desiredFor('ses', state, config);
    expect(mailtrap.targets).toEqual([]);
    expect(ses.targets).toEqual([]);
    expect(mailtrap.skipped[0]).toMatch(/Mailtrap has no topics/);
    expect(ses.skipped[0]).toMatch(/topic preference SES already holds/);
  });
});
