/**
 * One recipient-level feedback event, whatever provider reported it. Parsers for SES and
 * Mailtrap produce these; the suppression policy consumes them.
 */
/** `link`: the recipient used our one-click unsubscribe link (functions/unsubscribe). */
export type FeedbackSource = 'ses' | 'mailtrap' | 'manual' | 'import' | 'reconcile' | 'link';

/** What an event means for deliverability, decided by the provider-specific mapper. */
export type FeedbackKind =
  | 'hard-bounce'
  | 'soft-bounce'
  | 'complaint'
  | 'unsubscribe'
  | 'delivery'
  | 'not-spam'
  /** SES subscription management: the contact's preferences in one contact list changed. */
  | 'subscription'
  | 'informational';

export interface SuppressionScope {
  /** Sending domain the scope is limited to (Mailtrap unsubscribes are per domain). */
  domain: string;
  /** Mailtrap sending stream, when the provider told us. */
  stream?: string | undefined;
}

export interface FeedbackEvent {
  source: FeedbackSource;
  /** Unique per recipient-level effect: a redelivery carries the same key. */
  eventKey: string;
  kind: FeedbackKind;
  /** The provider's own name for the event type, for the record (e.g. `Bounce/Permanent/General`). */
  providerType: string;
  /** Address exactly as the provider spelled it. */
  email: string;
  /** When the provider says it happened (ISO 8601). */
  occurredAt: string;
  /** Absent = global. */
  scope?: SuppressionScope | undefined;
  /** Short, non-personal facts worth keeping (status code, bounce sub type, category). */
  detail?: string | undefined;
  /** kind `subscription` only: the contact's preferences after the change. */
  subscription?: SubscriptionPreferences | undefined;
}

/**
 * What an SES `Subscription` event says a contact now wants in one contact list
 * (`subscription.newTopicPreferences`): the whole list, or some topics, opted out.
 */
interface SubscriptionPreferences {
  contactList: string;
  unsubscribeAll: boolean;
  /** Topics the contact is opted out of after the change. */
  optedOut: string[];
}

/** What a provider notification produced: recipient events plus, for the record, what it was. */
export interface ParsedNotification {
  source: FeedbackSource;
  providerType: string;
  /** true when the notification type is one we do not know (future SES/Mailtrap types). */
  unknownType: boolean;
  events: FeedbackEvent[];
}
