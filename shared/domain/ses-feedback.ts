/**
 * What an SES notification means, recipient by recipient. Pure mapping; the policy decides.
 *
 * - Bounce: Permanent -> hard-bounce; Transient and Undetermined -> soft-bounce (SES reports a
 *   transient bounce only once it has stopped retrying, so each one is a real failed send).
 * - Complaint -> complaint, except feedback type `not-spam` (the recipient said the opposite).
 * - Delivery -> delivery (clears soft bounces).
 * - Subscription (SES subscription management) -> subscription, one per `mail.destination`
 *   (SES names no recipient in the event; with list management each message goes to one
 *   contact), carrying the contact's new preferences for the list. subscription-policy.ts
 *   decides what they mean (unsubscribe all -> global, topic opt-outs -> topic scopes).
 * - Send, Open, Click, Reject, Rendering Failure, DeliveryDelay and any type SES adds later ->
 *   informational: accepted and counted, never suppressing.
 * Every listed recipient is handled (never `mail.destination[0]`).
 */
import type { SesNotification } from '../schemas/ses-notification.ts';
import type { FeedbackEvent, ParsedNotification } from './feedback-event.ts';
import { normaliseEmail, isEmailAddress } from './email-address.ts';
import { subscriptionKeyPrefix } from './subscription-policy.ts';

/** The event spells `OptOut` / `OptIn`; the API `OPT_OUT` / `OPT_IN`. */
const isOptOut = (status: string) => status.replace(/_/g, '').toLowerCase() === 'optout';

const KNOWN_TYPES = new Set([
  'Bounce',
  'Complaint',
  'Delivery',
  'Send',
  'Reject',
  'Open',
  'Click',
  'Rendering Failure',
  'RenderingFailure',
  'DeliveryDelay',
  'Subscription',
  'Received',
]);

export function mapSesNotification(n: SesNotification): ParsedNotification {
  const type = n.eventType ?? n.notificationType ?? 'unknown';
  const events: FeedbackEvent[] = [];
  const fallbackTime = n.mail.timestamp ?? new Date(0).toISOString();

  if (type === 'Bounce' && n.bounce) {
    const b = n.bounce;
    const kind = b.bounceType === 'Permanent' ? 'hard-bounce' : 'soft-bounce';
    for (const r of b.bouncedRecipients) {
      if (!isEmailAddress(r.emailAddress)) continue;
      events.push({
        source: 'ses',
        eventKey: `ses:${b.feedbackId ?? `${n.mail.messageId}:bounce`}:${normaliseEmail(r.emailAddress)}`,
        kind,
        providerType: `Bounce/${b.bounceType}/${b.bounceSubType ?? 'unknown'}`,
        email: r.emailAddress.trim(),
        occurredAt: b.timestamp ?? fallbackTime,
        detail: r.status ? `status ${r.status}` : undefined,
      });
    }
  } else if (type === 'Complaint' && n.complaint) {
    const c = n.complaint;
    const kind = c.complaintFeedbackType === 'not-spam' ? 'not-spam' : 'complaint';
    for (const r of c.complainedRecipients) {
      if (!isEmailAddress(r.emailAddress)) continue;
      events.push({
        source: 'ses',
        eventKey: `ses:${c.feedbackId ?? `${n.mail.messageId}:complaint`}:${normaliseEmail(r.emailAddress)}`,
        kind,
        providerType: `Complaint/${c.complaintFeedbackType ?? 'unspecified'}`,
        email: r.emailAddress.trim(),
        occurredAt: c.timestamp ?? fallbackTime,
      });
    }
  } else if (type === 'Delivery' && n.delivery) {
    for (const r of n.delivery.recipients) {
      if (!isEmailAddress(r)) continue;
      events.push({
        source: 'ses',
        eventKey: `ses:delivery:${n.mail.messageId}:${normaliseEmail(r)}`,
        kind: 'delivery',
        providerType: 'Delivery',
        email: r.trim(),
        occurredAt: n.delivery.timestamp ?? fallbackTime,
      });
    }
  } else if (type === 'Subscription' && n.subscription) {
    const sub = n.subscription;
    const prefs = sub.newTopicPreferences;
    const optedOut = [...new Set((prefs.topicSubscriptionStatus ?? []).filter((t) => isOptOut(t.subscriptionStatus)).map((t) => t.topicName))].sort();
    const unsubscribeAll = prefs.unsubscribeAll === true;
    const at = sub.timestamp ?? fallbackTime;
    const what = unsubscribeAll ? 'UnsubscribeAll' : optedOut.length > 0 ? 'TopicOptOut' : 'OptIn';
    for (const r of n.mail.destination ?? []) {
      if (!isEmailAddress(r)) continue;
      events.push({
        source: 'ses',
        // SES message id + recipient + subscription time: a redelivery repeats all three, a
        // later change of mind by the same contact does not.
        eventKey: `${subscriptionKeyPrefix(sub.contactList)}${n.mail.messageId}:${normaliseEmail(r)}:${at}`,
        kind: 'subscription',
        providerType: `Subscription/${what}`,
        email: r.trim(),
        occurredAt: at,
        detail: sub.source ? `source ${sub.source.slice(0, 40)}` : undefined,
        subscription: { contactList: sub.contactList, unsubscribeAll, optedOut },
      });
    }
  }
  return { source: 'ses', providerType: type, unknownType: !KNOWN_TYPES.has(type), events };
}
