/**
 * What a Mailtrap event means for deliverability. Pure mapping; the shared policy decides.
 *
 * Bounce categories (Mailtrap names them in `bounce_category`; Mailtrap itself suppresses
 * badrecipient, timeout and overquota):
 * - `badrecipient`, `baddomain`: the address or its domain does not exist -> hard bounce.
 * - `timeout`, `overquota` and categories we do not know: may recover -> soft bounce, counted
 *   toward the same threshold as SES transient bounces (3 in 7 days by default).
 * - `spam`, `blocked`, `content`, `policy`: the receiver refused *our* mail (reputation,
 *   content); the address is fine, so suppressing it would punish a good recipient ->
 *   recorded, no suppression.
 * Other events: `soft bounce` -> soft bounce; `spam` -> complaint; `unsubscribe` -> unsubscribe
 * scoped to the sending domain and stream (Mailtrap unsubscribes are per domain); `delivery`
 * -> delivery; `reject`, `suspension`, `open`, `click` -> informational.
 */
import type { MailtrapEvent } from '../schemas/mailtrap-event.ts';
import type { FeedbackEvent, FeedbackKind } from './feedback-event.ts';

/** Mailtrap's sending product dates from the 2020s; an event before 2010 is a bad clock or a bad value. */
const EARLIEST_EVENT_SECONDS = Date.UTC(2010, 0, 1) / 1000;
/** Clock skew we tolerate ahead of our own clock. */
const MAX_FUTURE_SKEW_SECONDS = 24 * 3600;

/**
 * Why a Mailtrap `timestamp` (Unix seconds) cannot be an event time, or undefined when it can.
 * Events carry their own time and the policy orders by it (a removal beats older suppressing
 * events), so a far-future time would make an event win forever and a time past JavaScript's
 * date range cannot be stored at all.
 */
export function mailtrapTimestampProblem(timestamp: number, nowMs: number): string | undefined {
  if (!Number.isSafeInteger(timestamp)) return 'is not whole Unix seconds';
  if (timestamp < EARLIEST_EVENT_SECONDS) return `${timestamp} is before 2010-01-01`;
  if (timestamp > nowMs / 1000 + MAX_FUTURE_SKEW_SECONDS) return `${timestamp} is more than a day in the future`;
  return undefined;
}

const HARD_BOUNCE_CATEGORIES = new Set(['badrecipient', 'baddomain']);
const SENDER_SIDE_CATEGORIES = new Set(['spam', 'blocked', 'content', 'policy']);

export function kindOfMailtrapEvent(e: Pick<MailtrapEvent, 'event' | 'bounce_category'>): FeedbackKind {
  switch (e.event) {
    case 'bounce': {
      const category = (e.bounce_category ?? '').toLowerCase();
      if (HARD_BOUNCE_CATEGORIES.has(category)) return 'hard-bounce';
      if (SENDER_SIDE_CATEGORIES.has(category)) return 'informational';
      return 'soft-bounce';
    }
    case 'soft bounce':
      return 'soft-bounce';
    case 'spam':
      return 'complaint';
    case 'unsubscribe':
      return 'unsubscribe';
    case 'delivery':
      return 'delivery';
    default:
      return 'informational';
  }
}

export function mapMailtrapEvent(e: MailtrapEvent): FeedbackEvent {
  const kind = kindOfMailtrapEvent(e);
  const scoped = kind === 'unsubscribe' && e.sending_domain_name;
  return {
    source: 'mailtrap',
    eventKey: `mailtrap:${e.event_id}`,
    kind,
    providerType: e.event === 'bounce' ? `bounce/${e.bounce_category ?? 'uncategorised'}` : e.event,
    email: e.email.trim(),
    occurredAt: new Date(e.timestamp * 1000).toISOString(),
    // Without a sending domain an unsubscribe cannot be scoped; it is kept global (never mail
    // someone who asked to stop).
    scope: scoped ? { domain: String(e.sending_domain_name), stream: e.sending_stream } : undefined,
    detail: e.response_code !== undefined ? `response ${e.response_code}` : undefined,
  };
}
