/**
 * Mailtrap sending webhooks: the body is JSON `{"events":[...]}` or JSON Lines (one event per
 * line). Event names: delivery, open, click, unsubscribe, spam, soft bounce (with a space),
 * bounce, suspension, reject; audit-log events (`activity_log.*`) can share the array.
 * https://docs.mailtrap.io/email-api-smtp/advanced/webhooks
 */
import * as z from 'zod/mini';
import { checkEmailAddress } from '../domain/email-address.ts';
import { mailtrapTimestampProblem } from '../domain/mailtrap-feedback.ts';
import { isJsonObject, parseJson } from './json.ts';

export class MalformedWebhookBodyError extends Error {
  override name = 'MalformedWebhookBodyError';
}

const KNOWN_MAILTRAP_EVENTS = ['delivery', 'open', 'click', 'unsubscribe', 'spam', 'soft bounce', 'bounce', 'suspension', 'reject'] as const;

/** Free text the consumer does not decide on: kept for the record, capped. */
const FREE_TEXT_CHARS = 1000;

// Identity fields (what the store keys, scopes and counts by) are bounded: one past its bound is
// invalid and quarantined, never truncated into another identity. Fields the consumer does not
// use (custom_variables, response, ip, user_agent, url, ...) are dropped by the schema.
const mailtrapEventSchema = z.object({
  event: z.enum(KNOWN_MAILTRAP_EVENTS),
  event_id: z.string().check(z.minLength(1), z.maxLength(200)),
  email: z.string().check(z.minLength(3), z.maxLength(320)),
  timestamp: z.int().check(z.nonnegative()),
  message_id: z.optional(z.string().check(z.maxLength(FREE_TEXT_CHARS))),
  sending_stream: z.optional(z.string().check(z.maxLength(100))),
  // 253 octets of a DNS name, plus a trailing dot.
  sending_domain_name: z.optional(z.string().check(z.maxLength(254))),
  category: z.optional(z.string()),
  bounce_category: z.optional(z.string().check(z.maxLength(100))),
  response_code: z.optional(z.number()),
  reason: z.optional(z.string()),
});

export type MailtrapEvent = z.infer<typeof mailtrapEventSchema>;

export interface ParsedWebhookBody {
  format: 'json' | 'jsonl';
  events: unknown[];
}

const isObject = isJsonObject;

/** Split a body into raw events. Throws MalformedWebhookBodyError when it is neither format. */
export function parseWebhookBody(text: string): ParsedWebhookBody {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new MalformedWebhookBodyError('empty body');
  let whole: unknown;
  try {
    whole = parseJson(trimmed);
  } catch {
    // Not one JSON value: JSON Lines, one event per line.
    const events: unknown[] = [];
    for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
      if (line.trim() === '') continue;
      events.push(parseJson(line, `line ${i + 1}`, (reason) => new MalformedWebhookBodyError(`${reason} (neither a JSON body nor JSON Lines)`)));
    }
    return { format: 'jsonl', events };
  }
  if (isObject(whole) && Array.isArray(whole.events)) return { format: 'json', events: whole.events };
  // A single event on one line is valid JSON Lines.
  if (isObject(whole) && typeof whole.event === 'string') return { format: 'jsonl', events: [whole] };
  throw new MalformedWebhookBodyError('JSON body without an "events" array');
}

export type EventTriage =
  | { kind: 'valid'; event: MailtrapEvent }
  | { kind: 'unknown'; name: string }
  | { kind: 'invalid'; reason: string };

/**
 * Decide what one raw event is: a known event, an unknown one to ignore, or invalid. Valid
 * means the consumer can apply it: the schema holds, the address passes the store's own rule
 * (`checkEmailAddress`), and the timestamp is in range. The webhook and mailtrap-events both
 * triage, so what the edge enqueues is what the consumer accepts.
 */
export function triageEvent(raw: unknown, nowMs: number = Date.now()): EventTriage {
  if (!isObject(raw) || typeof raw.event !== 'string') return { kind: 'invalid', reason: 'event without an "event" name' };
  if (!(KNOWN_MAILTRAP_EVENTS as readonly string[]).includes(raw.event)) return { kind: 'unknown', name: raw.event.slice(0, 100) };
  const parsed = z.safeParse(mailtrapEventSchema, raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { kind: 'invalid', reason: `${raw.event}: ${first ? `${first.path.join('.')} ${first.message}` : 'invalid'}` };
  }
  const event = parsed.data;
  const address = checkEmailAddress(event.email);
  if (!address.ok) return { kind: 'invalid', reason: `${event.event}: email is not an address the store can hold (${address.problem})` };
  const timeProblem = mailtrapTimestampProblem(event.timestamp, nowMs);
  if (timeProblem) return { kind: 'invalid', reason: `${event.event}: timestamp ${timeProblem}` };
  return { kind: 'valid', event };
}

/**
 * The SQS body for a valid event: only the fields the schema keeps, free text capped, and the
 * two characters SQS refuses that JSON.stringify leaves as they are (U+FFFE, U+FFFF) written as
 * JSON escapes (same value once parsed). A few KB at most, so ten fit a SendMessageBatch request.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export function queuedEventBody(event: MailtrapEvent): string {
  const capped: MailtrapEvent = {
    ...event,
    ...(event.reason !== undefined ? { reason: event.reason.slice(0, FREE_TEXT_CHARS) } : {}),
    ...(event.category !== undefined ? { category: event.category.slice(0, FREE_TEXT_CHARS) } : {}),
  };
  return JSON.stringify(capped).replace(/[\uFFFE\uFFFF]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16)}`);
}
