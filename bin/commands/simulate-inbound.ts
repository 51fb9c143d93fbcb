/**
 * `mailbridge simulate inbound <file.eml>`: what SES receiving does for a receipt rule with an
 * S3 action: store the raw message under inbound/<messageId> in the inbound bucket, then
 * publish the `Received` notification (verdicts, bucket, key) to the inbound mail topic.
 * Verdicts are PASS unless set: --spam/--virus/--spf/--dkim/--dmarc <status>, --dmarc-policy <p>.
 * Like SES, it puts its own `Authentication-Results: amazonses.com; spf=… dkim=… header.i=@<d>;
 * dmarc=… header.from=<From domain>` on top of the stored message (and in the notification's
 * headers): --dkim-domain <d> names the domain DKIM passed for (default: the From domain).
 * --from <address> replaces the message's From header (a forged or other sender).
 * --message-id reuses an id (a second delivery of the same object).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
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
  /** SES's own Authentication-Results header value, first in `mail.headers`. */
  authenticationResults?: string;
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
      headers: input.authenticationResults ? [{ name: 'Authentication-Results', value: input.authenticationResults }] : [],
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
  /** Replaces the message's From header (the whole message is then read into memory). */
  from?: string;
  /** The domain SES's Authentication-Results says DKIM passed for (default: the From domain). */
  dkimDomain?: string;
}

const domainOfAddress = (address: string | null | undefined): string | null => {
  const at = address?.lastIndexOf('@') ?? -1;
  return address && at >= 0 ? address.slice(at + 1).toLowerCase() : null;
};

/** SES's header as it writes it on receipt (RFC 8601), from the verdicts the simulation applies. */
export function sesAuthenticationResults(input: { verdicts: Record<VerdictName, string>; fromDomain: string | null; dkimDomain: string | null; mailFrom: string | null }): string {
  const lower = (v: string) => (v === 'GRAY' ? 'none' : v === 'PROCESSING_FAILED' ? 'temperror' : v.toLowerCase());
  const clauses = [
    `spf=${lower(input.verdicts.spf)} (spfCheck: simulated by mailbridge) envelope-from=${input.mailFrom ?? 'unknown@mailbridge.invalid'}`,
    `dkim=${lower(input.verdicts.dkim)}${input.dkimDomain ? ` header.i=@${input.dkimDomain}` : ''}`,
    `dmarc=${lower(input.verdicts.dmarc)}${input.fromDomain ? ` header.from=${input.fromDomain}` : ''}`,
  ];
  return `amazonses.com; ${clauses.join('; ')};`;
}

/** The raw message with its From header replaced (if `from`) and `prepend` header lines on top, as SES stores it. */
export function withReceiptHeaders(raw: Buffer, options: { from?: string; prepend: string[] }): Buffer {
  let rest = raw;
  if (options.from !== undefined) {
    const crlf = raw.indexOf('\r\n\r\n');
    const lf = raw.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 2 : lf >= 0 ? lf + 1 : raw.length;
    const eol = crlf >= 0 && end === crlf + 2 ? '\r\n' : '\n';
    const header = raw.subarray(0, end).toString('latin1');
    // Drop every From header (with its folded continuation lines), then add the new one.
    const kept = header.replace(/^From:[^\n]*\n(?:[ \t][^\n]*\n)*/gim, '');
    rest = Buffer.concat([Buffer.from(`From: ${options.from}${eol}${kept}`, 'latin1'), raw.subarray(end)]);
  }
  return Buffer.concat([Buffer.from(options.prepend.map((h) => `${h}\r\n`).join(''), 'latin1'), rest]);
}

export interface InboundDelivered {
  via: 'sns';
  topic: string;
  snsMessageId: string | undefined;
  messageId: string;
  bucket: string;
  key: string;
  verdicts: Record<string, string>;
  /** The From address the message carries (after --from). */
  from: string | null;
  /** What SES's Authentication-Results says (on top of the stored message, first in the notification's headers). */
  authenticationResults: string;
}

async function* prefixed(lines: string[], rest: Readable): AsyncGenerator<Buffer> {
  yield Buffer.from(lines.map((h) => `${h}\r\n`).join(''), 'latin1');
  for await (const chunk of rest) yield chunk as Buffer;
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
  const applied = Object.fromEntries(VERDICTS.map((n) => [n, verdicts[n] ?? 'PASS'])) as Record<VerdictName, string>;

  // SES's commonHeaders come from the message; read them the way the function will.
  const message =
    delivery.from !== undefined ? withReceiptHeaders(typeof delivery.message === 'string' ? readFileSync(delivery.message) : Buffer.from(delivery.message), { from: delivery.from, prepend: [] }) : delivery.message;
  const headers = await parseInboundMessage(messageStream(message), new DiscardingAttachmentSink(), { recognise: false });
  const fromDomain = domainOfAddress(headers.from);
  const authenticationResults = sesAuthenticationResults({ verdicts: applied, fromDomain, dkimDomain: delivery.dkimDomain?.toLowerCase() ?? fromDomain, mailFrom: headers.from });
  const receiptHeaders = [`Authentication-Results: ${authenticationResults}`, `X-SES-Spam-Verdict: ${applied.spam}`, `X-SES-Virus-Verdict: ${applied.virus}`];

  const key = `inbound/${messageId}`;
  if (delivery.upload !== false) {
    // lib-storage: a message may be 40 MB, and fauxqs refuses single PUTs over 11 MiB.
    // An empty object stays empty (what a failed or truncated store leaves), else SES's headers go on top.
    const body =
      typeof message === 'string'
        ? Readable.from(prefixed(receiptHeaders, createReadStream(message)))
        : message.length === 0
          ? Buffer.alloc(0)
          : withReceiptHeaders(Buffer.from(message), { prepend: receiptHeaders });
    await new Upload({ client: target.s3, params: { Bucket: bucket, Key: key, Body: body, ContentType: 'message/rfc822' } }).done();
  }
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
    authenticationResults,
  });
  const out = await target.sns.send(new PublishCommand({ TopicArn: topic.arn, Message: JSON.stringify(notification) }));
  return { via: 'sns', topic: topic.name, snsMessageId: out.MessageId, messageId, bucket, key, verdicts: { ...applied, ...(dmarcPolicy ? { dmarcPolicy } : {}) }, from: headers.from, authenticationResults };
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

  const from = flagString(ctx, 'from');
  if (from !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(from.replace(/^.*<([^<>]+)>\s*$/, '$1'))) throw new UsageError('--from must be an address (a@b.example or "Name <a@b.example>")');
  const dkimDomain = flagString(ctx, 'dkim-domain');
  if (dkimDomain !== undefined && !/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(dkimDomain)) throw new UsageError('--dkim-domain must be a domain name');

  print(
    await deliverInbound(await ctx.target(), {
      message: file,
      messageId,
      verdicts,
      ...(dmarcPolicy ? { dmarcPolicy } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(dkimDomain !== undefined ? { dkimDomain } : {}),
    }),
  );
  return 0;
}
