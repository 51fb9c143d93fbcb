/**
 * Boundary schema for SES receipt notifications as they reach the inbound queue: the SNS
 * envelope around SES's `Received` notification (or, with RawMessageDelivery, the
 * notification itself). Only S3-action notifications are accepted: they carry no content,
 * only where SES stored the raw message.
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 */
import * as z from 'zod/mini';
import type { ReceiptVerdicts } from '../domain/inbound-verdicts.ts';
import { MalformedEventError } from './ses-notification.ts';
import { unwrapSnsBody } from './sns-envelope.ts';

const verdict = z.optional(z.object({ status: z.string() }));

const sesReceivedSchema = z.object({
  notificationType: z.literal('Received'),
  receipt: z.object({
    timestamp: z.string(),
    recipients: z.optional(z.array(z.string())),
    spamVerdict: verdict,
    virusVerdict: verdict,
    spfVerdict: verdict,
    dkimVerdict: verdict,
    dmarcVerdict: verdict,
    dmarcPolicy: z.optional(z.string()),
    action: z.object({
      type: z.literal('S3'),
      bucketName: z.string().check(z.minLength(3)),
      objectKey: z.string().check(z.minLength(1)),
      topicArn: z.optional(z.string()),
    }),
  }),
  mail: z.object({
    messageId: z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[A-Za-z0-9._-]+$/)),
    timestamp: z.optional(z.string()),
    source: z.optional(z.string()),
    /** The message's headers as SES saw them, its own Authentication-Results first. */
    headers: z.optional(z.array(z.object({ name: z.string(), value: z.string() }))),
    commonHeaders: z.optional(
      z.object({
        from: z.optional(z.array(z.string())),
        subject: z.optional(z.string()),
        messageId: z.optional(z.string()),
      }),
    ),
  }),
});

export type SesReceivedNotification = z.infer<typeof sesReceivedSchema>;

export function receiptVerdicts(n: SesReceivedNotification): ReceiptVerdicts {
  const r = n.receipt;
  return {
    spam: r.spamVerdict?.status,
    virus: r.virusVerdict?.status,
    spf: r.spfVerdict?.status,
    dkim: r.dkimVerdict?.status,
    dmarc: r.dmarcVerdict?.status,
    dmarcPolicy: r.dmarcPolicy,
  };
}

/** One SQS body into a Received notification, or MalformedEventError saying why. */
export function parseSesReceivedBody(body: string): SesReceivedNotification {
  const { message: inner } = unwrapSnsBody(body, (reason) => new MalformedEventError(reason));
  const parsed = z.safeParse(sesReceivedSchema, inner);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new MalformedEventError(`not an SES S3-action Received notification: ${first ? `${first.path.join('.') || '(root)'} ${first.message}` : 'invalid'}`);
  }
  return parsed.data;
}
