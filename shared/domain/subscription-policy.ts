/**
 * What an SES subscription-management event means for an address. Pure: state in, state out;
 * the companion of suppression-policy.ts for the one event kind that can both add and lift.
 *
 * SES publishes a `Subscription` event when a contact changes its preferences in a contact list
 * (SES's own one-click link, its preferences page, or our UpdateContact). The event carries the
 * contact's *new* preferences for that list, so each event is read as "this is what the contact
 * wants now in list L":
 * - `unsubscribeAll: true` -> the global scope, reason `unsubscribe` (synced to Mailtrap, every
 *   configured domain x stream; not pushed back to SES, which already holds it);
 * - topics opted out -> one scope per topic, `ses-topic:<list>/<topic>`: shown by
 *   `suppressions get`, never turned into a global suppression;
 * - a scope an earlier subscription event *of the same list* set and the new preferences no
 *   longer name (an opt-in, or `unsubscribeAll` back to false) is lifted. Nothing else is:
 *   a bounce, a Mailtrap unsubscribe, a person's suppression or another list's choice stay.
 *
 * Order: events carry the subscription time. The newest applied time per list is kept on the
 * address (`subscriptionAt`), so an older event arriving late changes nothing; an opt-out older
 * than a person's removal of that scope (or of all, `scopeClearedAt`) does not suppress again.
 */
import type { FeedbackEvent } from './feedback-event.ts';
import {
  applyFeedback,
  DEFAULT_POLICY,
  emptyState,
  fingerprint,
  GLOBAL_SCOPE,
  record,
  scopeClearedAt,
  type AddressState,
  type Decision,
  type PolicyConfig,
  type ScopeEntry,
} from './suppression-policy.ts';

const TOPIC_SCOPE_PREFIX = 'ses-topic:';

/** Contact lists whose last subscription time is remembered per address (SES allows one per account). */
const LIST_MARK_LIMIT = 5;

/** Extra bookkeeping this policy keeps on the address item. */
interface SubscriptionMarks {
  /** Contact list -> subscription time of the newest event applied (ISO 8601). */
  subscriptionAt?: Record<string, string> | undefined;
}

export function topicScope(contactList: string, topic: string): string {
  return `${TOPIC_SCOPE_PREFIX}${contactList}/${topic}`;
}

export function isTopicScope(scope: string): boolean {
  return scope.startsWith(TOPIC_SCOPE_PREFIX);
}

/** Event keys of subscription events start with this, so a lift can tell which list set an entry. */
export function subscriptionKeyPrefix(contactList: string): string {
  return `ses:subscription:${encodeURIComponent(contactList)}:`;
}

function ms(iso: string | null | undefined): number {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

function setBy(entry: ScopeEntry, contactList: string): boolean {
  return entry.source === 'ses' && entry.reason === 'unsubscribe' && entry.eventKey.startsWith(subscriptionKeyPrefix(contactList));
}

function applySubscription(current: AddressState | undefined, event: FeedbackEvent, policy: PolicyConfig = DEFAULT_POLICY): Decision {
  const prefs = event.subscription;
  if (event.kind !== 'subscription' || !prefs) return { outcome: 'no-change', added: [], why: 'not a subscription event' };
  if (current?.recentEventKeys.includes(fingerprint(event.eventKey))) return { outcome: 'duplicate', added: [], why: 'event already applied' };
  const list = prefs.contactList;
  const marks = (current as (AddressState & SubscriptionMarks) | undefined)?.subscriptionAt ?? {};
  const desired = new Set<string>([...(prefs.unsubscribeAll ? [GLOBAL_SCOPE] : []), ...prefs.optedOut.map((t) => topicScope(list, t))]);

  if (!current && desired.size === 0) return { outcome: 'no-change', added: [], why: 'opt-in for an address we hold nothing about' };
  const last = marks[list];
  if (last !== undefined && ms(event.occurredAt) <= ms(last)) {
    // Redeliveries are caught by the event key; this is an older choice arriving after a newer one.
    return { outcome: 'no-change', added: [], why: 'older than the preferences already applied for this list' };
  }

  const base = record(current ?? emptyState(event.email, event.occurredAt), event, policy);
  const keptMarks = Object.entries({ ...marks, [list]: event.occurredAt })
    .sort((a, b) => ms(a[1]) - ms(b[1]))
    .slice(-LIST_MARK_LIMIT);
  // A person's removal of a scope (or of all) after the contact's choice wins, as for every late event.
  const removedAfter = (scope: string) => {
    const cleared = scopeClearedAt(base, scope);
    return cleared !== null && ms(event.occurredAt) <= ms(cleared);
  };

  const lifted = base.suppressions.filter((s) => setBy(s, list) && !desired.has(s.scope));
  const kept = base.suppressions.filter((s) => !lifted.includes(s));
  const added: ScopeEntry[] = [];
  let predated = false;
  for (const scope of desired) {
    if (kept.some((s) => s.scope === scope)) continue;
    if (removedAfter(scope)) {
      predated = true;
      continue;
    }
    added.push({ scope, reason: 'unsubscribe', since: event.occurredAt, source: 'ses', eventKey: event.eventKey });
  }
  const next: AddressState & SubscriptionMarks = { ...base, suppressions: [...kept, ...added], subscriptionAt: Object.fromEntries(keptMarks) };
  const scopes = (entries: ScopeEntry[]) => entries.map((e) => e.scope).join(', ');
  if (added.length > 0) {
    return { outcome: 'suppressed', next, added, why: `SES subscription: opted out (${scopes(added)})${lifted.length > 0 ? `, lifted (${scopes(lifted)})` : ''}` };
  }
  if (lifted.length > 0) return { outcome: 'cleared', next, added: [], why: `SES subscription: opted back in (${scopes(lifted)})` };
  return {
    outcome: 'recorded',
    next,
    added: [],
    why: predated ? 'opt-out predates a manual removal' : 'preferences recorded, nothing to change',
  };
}

/** The policy for any feedback event: subscription events here, every other kind in suppression-policy.ts. */
export function decideFeedback(current: AddressState | undefined, event: FeedbackEvent, policy: PolicyConfig = DEFAULT_POLICY): Decision {
  return event.kind === 'subscription' ? applySubscription(current, event, policy) : applyFeedback(current, event, policy);
}
