/**
 * The SNS envelope as SNS delivers it to SQS without RawMessageDelivery: `Message` holds the
 * publisher's JSON as a string. One unwrap for every SNS-fed queue (SES feedback, SES receipt
 * notifications); with RawMessageDelivery the body is the message itself and passes through.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 */
import * as z from 'zod/mini';
import { isJsonObject, parseJson } from './json.ts';

const snsEnvelopeSchema = z.object({
  Type: z.string(),
  MessageId: z.optional(z.string()),
  TopicArn: z.optional(z.string()),
  Message: z.string(),
});

export interface UnwrappedSnsBody {
  /** The publisher's message, parsed: the body itself when it was not an SNS envelope. */
  message: unknown;
  /** Present when the body was an SNS envelope. */
  snsMessageId?: string | undefined;
  topicArn?: string | undefined;
}

/**
 * Parse one SQS body that may be an SNS envelope. Throws `fail(reason)` when the body is not a
 * JSON object, when an envelope has no string Message or is not a Notification (a
 * SubscriptionConfirmation on a feedback queue), or when its Message is not JSON.
 */
export function unwrapSnsBody(body: string, fail: (reason: string) => Error): UnwrappedSnsBody {
  const outer = parseJson(body, 'body', fail);
  if (!isJsonObject(outer)) throw fail('body is not a JSON object');
  if (!('Type' in outer && 'Message' in outer)) return { message: outer };
  const envelope = z.safeParse(snsEnvelopeSchema, outer);
  if (!envelope.success) throw fail('SNS envelope without a string Message');
  if (envelope.data.Type !== 'Notification') throw fail(`SNS message of type ${envelope.data.Type.slice(0, 100)}, not a Notification`);
  return { message: parseJson(envelope.data.Message, 'SNS Message', fail), snsMessageId: envelope.data.MessageId, topicArn: envelope.data.TopicArn };
}
