/**
 * `mailbridge simulate inbound <file.eml>`: what SES receiving does for a receipt rule with an
 * S3 action: store the raw message under inbound/<messageId> in the inbound bucket, then
 * publish the `Received` notification (verdicts, bucket, key) to the inbound mail topic.
 * Verdicts are PASS unless set: --spam/--virus/--spf/--dkim/--dmarc <status>, --dmarc-policy <p>.
 * --message-id reuses an id (a second delivery of the same object).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { PublishCommand } from '@aws-sdk/client-sns';
import { Upload } from '@aws-sdk/lib-storage';
import { DiscardingAttachmentSink } from '../../shared/adapters/discarding-attachment-sink.ts';
import { parseInboundMessage } from '../../shared/services/parse-inbound-message.ts';
import { TargetError, type Target } from '../target.ts';
import { flagString, print, UsageError, type CommandContext } from './context.ts';

const STATUSES = ['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'];
const VERDICTS = ['spam', 'virus', 'spf', 'dkim', 'dmarc'] as const;
type VerdictName = (typeof VERDICTS)[number];

export interface ReceivedInput {
  messageId: string;
  bucket: string;
  key: string;
  topicArn: string;
  from?: string | null;
  subject?: string | null;
  headerMessageId?: string | null;
  verdicts?: Partial<Record<VerdictName, string>>;
  dmarcPolicy?: string;
  recipient?: string;
  at?: Date;
}

/** An SES `Received` notification for an S3 action, shaped like events/ses/receiving_s3_alert.json. */
export function receivedNotification(input: ReceivedInput): Record<string, unknown> {
  const at = (input.at ?? new Date()).toISOString();
  const v = (name: VerdictName) => ({ status: input.verdicts?.[name] ?? 'PASS' });
  const recipient = input.recipient ?? 'invoices@mailbridge.invalid';
  return {
    notificationType: 'Received',
    receipt: {
      timestamp: at,
      processingTimeMillis: 1,
      recipients: [recipient],
      spamVerdict: v('spam'),
      virusVerdict: v('virus'),
      spfVerdict: v('spf'),
      dkimVerdict: v('dkim'),
      dmarcVerdict: v('dmarc'),
      ...(input.dmarcPolicy ? { dmarcPolicy: input.dmarcPolicy } : {}),
      action: { type: 'S3', topicArn: input.topicArn, bucketName: input.bucket, objectKey: input.key },
    },
    mail: {
      timestamp: at,
      source: input.from ?? 'unknown@mailbridge.invalid',
      messageId: input.messageId,
      destination: [recipient],
      headersTruncated: false,
      headers: [],
      commonHeaders: {
        from: input.from ? [input.from] : [],
        to: [recipient],
        ...(input.headerMessageId ? { messageId: input.headerMessageId } : {}),
        ...(input.subject ? { subject: input.subject } : {}),
      },
    },
  };
}

/** SES message ids are 20-40 lowercase letters and digits; so are ours. */
export function sesLikeMessageId(): string {
  return `sim${randomBytes(16).toString('hex')}`;
}

export interface InboundDelivery {
  /** The raw message: a file path, or its bytes. */
  message: string | Uint8Array;
  /** SES message id; a new one unless given (the same id = the same S3 object again). */
  messageId?: string;
  verdicts?: Partial<Record<VerdictName, string>>;
  dmarcPolicy?: string;
  /** False: publish the notification again for an object already stored (SNS/SQS redelivery). */
  upload?: boolean;
}

export interface InboundDelivered {
  via: 'sns';
  topic: string;
  snsMessageId: string | undefined;
  messageId: string;
  bucket: string;
  key: string;
  verdicts: Record<string, string>;
}

const messageStream = (message: string | Uint8Array): Readable => (typeof message === 'string' ? createReadStream(message) : Readable.from([Buffer.from(message)]));

/**
 * What an SES receipt rule with an S3 action does: the raw message into the inbound bucket
 * under inbound/<messageId>, then the Received notification on the inbound mail topic.
 * Exported for tests, which deliver mail the way SES does without a CLI process.
 */
export async function deliverInbound(target: Pick<Target, 'info' | 's3' | 'sns'>, delivery: InboundDelivery): Promise<InboundDelivered> {
  const bucket = target.info.buckets.InboundBucket?.name;
  const topic = target.info.topics.InboundMailTopic;
  if (!bucket || !topic) throw new TargetError('the inbound bucket/topic is not part of this stack');
  const messageId = delivery.messageId ?? sesLikeMessageId();
  const verdicts = delivery.verdicts ?? {};
  const { dmarcPolicy } = delivery;

  const key = `inbound/${messageId}`;
  if (delivery.upload !== false) {
    // lib-storage: a message may be 40 MB, and fauxqs refuses single PUTs over 11 MiB.
    await new Upload({ client: target.s3, params: { Bucket: bucket, Key: key, Body: messageStream(delivery.message), ContentType: 'message/rfc822' } }).done();
  }
  // SES's commonHeaders come from the message; read them the way the function will.
  const headers = await parseInboundMessage(messageStream(delivery.message), new DiscardingAttachmentSink(), { recognise: false });
  const notification = receivedNotification({
    messageId,
    bucket,
    key,
    topicArn: topic.arn,
    from: headers.from,
    subject: headers.subject,
    headerMessageId: headers.messageId,
    verdicts,
    ...(dmarcPolicy ? { dmarcPolicy } : {}),
  });
  const out = await target.sns.send(new PublishCommand({ TopicArn: topic.arn, Message: JSON.stringify(notification) }));
  const applied = { ...Object.fromEntries(VERDICTS.map((n) => [n, verdicts[n] ?? 'PASS'])), ...(dmarcPolicy ? { dmarcPolicy } : {}) };
  return { via: 'sns', topic: topic.name, snsMessageId: out.MessageId, messageId, bucket, key, verdicts: applied };
}

export async function inbound(ctx: CommandContext): Promise<number> {
  const [file] = ctx.args;
  if (!file) throw new UsageError('simulate inbound needs an .eml file');
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  const verdicts: Partial<Record<VerdictName, string>> = {};
  for (const name of VERDICTS) {
    const value = flagString(ctx, name)?.toUpperCase();
    if (value === undefined) continue;
    if (!STATUSES.includes(value)) throw new UsageError(`--${name} must be one of ${STATUSES.join(', ')}`);
    verdicts[name] = value;
  }
  const dmarcPolicy = flagString(ctx, 'dmarc-policy')?.toLowerCase();
  if (dmarcPolicy !== undefined && !['none', 'quarantine', 'reject'].includes(dmarcPolicy)) throw new UsageError('--dmarc-policy must be none, quarantine or reject');
  const messageId = flagString(ctx, 'message-id') ?? sesLikeMessageId();
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(messageId)) throw new UsageError('--message-id may hold letters, digits, ".", "_" and "-" only');

  print(await deliverInbound(await ctx.target(), { message: file, messageId, verdicts, ...(dmarcPolicy ? { dmarcPolicy } : {}) }));
  return 0;
}
