/**
 * Boundary schemas for SES feedback as it reaches the SQS queue: either the SNS envelope
 * (`Message` holds the SES JSON as a string) or, with RawMessageDelivery, the SES JSON itself.
 * Both classic notifications (`notificationType`) and configuration-set events (`eventType`).
 * Unknown fields are tolerated (stripped), unknown event types are accepted.
 * https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import * as z from 'zod/mini';
import { unwrapSnsBody } from './sns-envelope.ts';

export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

// Values SES writes are short codes and ids; one past these bounds is not SES, and kept it
// would take the address item past DynamoDB's 400 KB limit on every retry.
const code = () => z.string().check(z.maxLength(200));
const id = () => z.string().check(z.minLength(1), z.maxLength(500));

const recipient = z.object({
  emailAddress: z.string().check(z.minLength(3)),
  status: z.optional(code()),
  action: z.optional(code()),
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

const sesNotificationSchema = z
  .object({
    notificationType: z.optional(code()),
    eventType: z.optional(code()),
    mail: z.object({
      messageId: id(),
      timestamp: z.optional(code()),
      destination: z.optional(z.array(z.string())),
      tags: z.optional(z.record(z.string(), z.array(z.string()))),
    }),
    bounce: z.optional(
      z.object({
        bounceType: code(),
        bounceSubType: z.optional(code()),
        bouncedRecipients: z.array(recipient).check(z.minLength(1)),
        timestamp: z.optional(code()),
        feedbackId: z.optional(id()),
      }),
    ),
    complaint: z.optional(
      z.object({
        complainedRecipients: z.array(recipient).check(z.minLength(1)),
        timestamp: z.optional(code()),
        feedbackId: z.optional(id()),
        complaintFeedbackType: z.optional(code()),
        complaintSubType: z.optional(z.nullable(code())),
      }),
    ),
    delivery: z.optional(
      z.object({
        recipients: z.array(z.string()).check(z.minLength(1)),
        timestamp: z.optional(code()),
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

export interface ParsedSesBody {
  notification: SesNotification;
  /** Present when the body was an SNS envelope. */
  snsMessageId?: string | undefined;
  topicArn?: string | undefined;
}

const malformed = (reason: string) => new MalformedEventError(reason);

/** Parse one SQS body into an SES notification, or throw MalformedEventError saying why. */
export function parseSesFeedbackBody(body: string): ParsedSesBody {
  const { message: inner, snsMessageId, topicArn } = unwrapSnsBody(body, malformed);
  const parsed = z.safeParse(sesNotificationSchema, inner);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new MalformedEventError(`not an SES notification: ${first ? `${first.path.join('.') || '(root)'} ${first.message}` : 'invalid'}`);
  }
  return { notification: parsed.data, snsMessageId, topicArn };
}
