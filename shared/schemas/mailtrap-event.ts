/**
 * Mailtrap sending webhooks: the body is JSON `{"events":[...]}` or JSON Lines (one event per
 * line). Event names: delivery, open, click, unsubscribe, spam, soft bounce (with a space),
 * bounce, suspension, reject; audit-log events (`activity_log.*`) can share the array.
 * https://docs.mailtrap.io/email-api-smtp/advanced/webhooks
 */
import * as z from 'zod/mini';

export class MalformedWebhookBodyError extends Error {
  override name = 'MalformedWebhookBodyError';
}

export const KNOWN_MAILTRAP_EVENTS = ['delivery', 'open', 'click', 'unsubscribe', 'spam', 'soft bounce', 'bounce', 'suspension', 'reject'] as const;

export const mailtrapEventSchema = z.object({
  event: z.enum(KNOWN_MAILTRAP_EVENTS),
  event_id: z.string().check(z.minLength(1), z.maxLength(200)),
  email: z.string().check(z.minLength(3), z.maxLength(320)),
  timestamp: z.int().check(z.nonnegative()),
  message_id: z.optional(z.string()),
  sending_stream: z.optional(z.string()),
  sending_domain_name: z.optional(z.string()),
  category: z.optional(z.string()),
  bounce_category: z.optional(z.string()),
  response_code: z.optional(z.number()),
  reason: z.optional(z.string()),
});

export type MailtrapEvent = z.infer<typeof mailtrapEventSchema>;

export interface ParsedWebhookBody {
  format: 'json' | 'jsonl';
  events: unknown[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Split a body into raw events. Throws MalformedWebhookBodyError when it is neither format. */
export function parseWebhookBody(text: string): ParsedWebhookBody {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new MalformedWebhookBodyError('empty body');
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (isObject(whole) && Array.isArray(whole.events)) return { format: 'json', events: whole.events };
    // A single event on one line is valid JSON Lines.
    if (isObject(whole) && typeof whole.event === 'string') return { format: 'jsonl', events: [whole] };
    throw new MalformedWebhookBodyError('JSON body without an "events" array');
  } catch (error) {
    if (error instanceof MalformedWebhookBodyError) throw error;
  }
  const events: unknown[] = [];
  const lines = trimmed.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      throw new MalformedWebhookBodyError(`line ${i + 1} is not JSON (neither a JSON body nor JSON Lines)`);
    }
  }
  return { format: 'jsonl', events };
}

export type EventTriage =
  | { kind: 'valid'; event: MailtrapEvent }
  | { kind: 'unknown'; name: string }
  | { kind: 'invalid'; reason: string };

/** Decide what one raw event is: a known event, an unknown one to ignore, or invalid. */
export function triageEvent(raw: unknown): EventTriage {
  if (!isObject(raw) || typeof raw.event !== 'string') return { kind: 'invalid', reason: 'event without an "event" name' };
  if (!(KNOWN_MAILTRAP_EVENTS as readonly string[]).includes(raw.event)) return { kind: 'unknown', name: raw.event.slice(0, 100) };
  const parsed = z.safeParse(mailtrapEventSchema, raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { kind: 'invalid', reason: `${raw.event}: ${first ? `${first.path.join('.')} ${first.message}` : 'invalid'}` };
  }
  return { kind: 'valid', event: parsed.data };
}
