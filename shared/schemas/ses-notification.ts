/**
 * Boundary schemas for SES feedback as it reaches the SQS queue: either the SNS envelope
 * (`Message` holds the SES JSON as a string) or, with RawMessageDelivery, the SES JSON itself.
 * Both classic notifications (`notificationType`) and configuration-set events (`eventType`).
 * Unknown fields are tolerated (stripped), unknown event types are accepted.
 * https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import * as z from 'zod/mini';

export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

const recipient = z.object({
  emailAddress: z.string().check(z.minLength(3)),
  status: z.optional(z.string()),
  action: z.optional(z.string()),
});

/**
 * SES subscription management (`eventType: Subscription`): the contact's preferences before and
 * after. Bounded: SES allows 20 topics per list; more than 50, or names over 128 characters,
 * cannot come from SES and make the event malformed.
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html#event-publishing-retrieving-sns-contents-subscription-object
 */
const topicPreferences = z.object({
  unsubscribeAll: z.optional(z.boolean()),
  topicSubscriptionStatus: z.optional(
    z
      .array(z.object({ topicName: z.string().check(z.minLength(1), z.maxLength(128)), subscriptionStatus: z.string().check(z.maxLength(32)) }))
      .check(z.maxLength(50)),
  ),
});

const subscription = z.object({
  contactList: z.string().check(z.minLength(1), z.maxLength(128)),
  timestamp: z.optional(z.string()),
  source: z.optional(z.string()),
  newTopicPreferences: topicPreferences,
  oldTopicPreferences: z.optional(topicPreferences),
});

export const sesNotificationSchema = z
  .object({
    notificationType: z.optional(z.string()),
    eventType: z.optional(z.string()),
    mail: z.object({
      messageId: z.string().check(z.minLength(1)),
      timestamp: z.optional(z.string()),
      destination: z.optional(z.array(z.string())),
      tags: z.optional(z.record(z.string(), z.array(z.string()))),
    }),
    bounce: z.optional(
      z.object({
        bounceType: z.string(),
        bounceSubType: z.optional(z.string()),
        bouncedRecipients: z.array(recipient).check(z.minLength(1)),
        timestamp: z.optional(z.string()),
        feedbackId: z.optional(z.string()),
      }),
    ),
    complaint: z.optional(
      z.object({
        complainedRecipients: z.array(recipient).check(z.minLength(1)),
        timestamp: z.optional(z.string()),
        feedbackId: z.optional(z.string()),
        complaintFeedbackType: z.optional(z.string()),
        complaintSubType: z.optional(z.nullable(z.string())),
      }),
    ),
    delivery: z.optional(
      z.object({
        recipients: z.array(z.string()).check(z.minLength(1)),
        timestamp: z.optional(z.string()),
        smtpResponse: z.optional(z.string()),
      }),
    ),
    subscription: z.optional(subscription),
  })
  .check(
    z.superRefine((n, ctx) => {
      const type = n.eventType ?? n.notificationType;
      if (typeof type !== 'string') {
        ctx.addIssue({ code: 'custom', message: 'neither eventType nor notificationType is present', input: n });
        return;
      }
      // A known feedback type must carry its detail object, or we would silently drop recipients.
      const detail = { Bounce: n.bounce, Complaint: n.complaint, Delivery: n.delivery, Subscription: n.subscription } as Record<string, unknown>;
      if (type in detail && detail[type] === undefined) {
        ctx.addIssue({ code: 'custom', path: [type.toLowerCase()], message: `${type} notification without its ${type.toLowerCase()} object`, input: n });
      }
      // SES names no recipient in the subscription object: the contact is the message's destination.
      if (type === 'Subscription' && (n.mail.destination ?? []).length === 0) {
        ctx.addIssue({ code: 'custom', path: ['mail', 'destination'], message: 'Subscription event without mail.destination', input: n });
      }
    }),
  );

export type SesNotification = z.infer<typeof sesNotificationSchema>;

const snsEnvelopeSchema = z.object({
  Type: z.string(),
  MessageId: z.string(),
  TopicArn: z.optional(z.string()),
  Message: z.string(),
  Timestamp: z.optional(z.string()),
});

export interface ParsedSesBody {
  notification: SesNotification;
  /** Present when the body was an SNS envelope. */
  snsMessageId?: string | undefined;
  topicArn?: string | undefined;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedEventError(`${what} is not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse one SQS body into an SES notification, or throw MalformedEventError saying why. */
export function parseSesFeedbackBody(body: string): ParsedSesBody {
  const outer = parseJson(body, 'body');
  if (!isObject(outer)) throw new MalformedEventError('body is not a JSON object');

  let inner: unknown = outer;
  let snsMessageId: string | undefined;
  let topicArn: string | undefined;
  if ('Type' in outer && 'Message' in outer) {
    const envelope = z.safeParse(snsEnvelopeSchema, outer);
    if (!envelope.success) throw new MalformedEventError('SNS envelope without a string Message');
    if (envelope.data.Type !== 'Notification') {
      throw new MalformedEventError(`SNS message of type ${envelope.data.Type}, not a Notification`);
    }
    snsMessageId = envelope.data.MessageId;
    topicArn = envelope.data.TopicArn;
    inner = parseJson(envelope.data.Message, 'SNS Message');
  }
  const parsed = z.safeParse(sesNotificationSchema, inner);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new MalformedEventError(`not an SES notification: ${first ? `${first.path.join('.') || '(root)'} ${first.message}` : 'invalid'}`);
  }
  return { notification: parsed.data, snsMessageId, topicArn };
}
