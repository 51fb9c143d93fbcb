import { readFileSync } from 'node:fs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { signMailtrapBody } from '../../shared/domain/webhook-signature.ts';
import { parseJson } from '../../shared/schemas/json.ts';
import { readLocalInfo, TargetError } from '../target.ts';
import { flagString, print, UsageError, type Command, type CommandContext } from './context.ts';

async function ses(ctx: CommandContext): Promise<number> {
  const [file] = ctx.args;
  if (!file) throw new UsageError('simulate ses needs a JSON file');
  const body = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = parseJson(body, file);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
  const target = await ctx.target();
  const queue = target.info.queues.SesFeedbackQueue;
  const topic = target.info.topics.SesFeedbackTopic;
  if (!queue || !topic) throw new TargetError('the SES feedback queue/topic is not part of this stack');
  const isEnvelope = typeof parsed === 'object' && parsed !== null && 'Type' in parsed && 'Message' in parsed;
  if (isEnvelope) {
    // Already what SNS delivers to SQS: put it on the queue as it is.
    const out = await target.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    print({ via: 'sqs', queue: queue.name, messageId: out.MessageId });
  } else {
    // A raw SES notification: publish it to the topic, so SNS wraps it exactly as SES -> SNS -> SQS does.
    const out = await target.sns.send(new PublishCommand({ TopicArn: topic.arn, Message: body }));
    print({ via: 'sns', topic: topic.name, messageId: out.MessageId });
  }
  return 0;
}

/**
 * Posts a file to the local Mailtrap webhook exactly as Mailtrap would: the bytes as they are,
 * signed with the local stack's secret (`--secret` to use another, `--unsigned` to send none).
 */
async function mailtrap(ctx: CommandContext): Promise<number> {
  const [file] = ctx.args;
  if (!file) throw new UsageError('simulate mailtrap needs a JSON or JSON Lines file');
  const body = readFileSync(file);
  const target = await ctx.target();
  if (!target.info.httpUrl) throw new TargetError('no HTTP base URL for this target (set MAILBRIDGE_HTTP_URL for a deployed stage)');
  const secret = flagString(ctx, 'secret') ?? (target.mode === 'local' ? readLocalInfo().secrets.mailtrapWebhook : undefined);
  const headers: Record<string, string> = { 'content-type': file.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/json' };
  if (!ctx.flags.unsigned) {
    if (!secret) throw new UsageError('no signing secret: pass --secret <s> (or --unsigned)');
    headers['mailtrap-signature'] = signMailtrapBody(body, secret);
  }
  const response = await fetch(`${target.info.httpUrl}/webhooks/mailtrap`, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = parseJson(text, 'response');
  } catch {
    // keep the text
  }
  print({ status: response.status, response: parsed });
  return response.status === 200 ? 0 : 1;
}

/** Loaded only when used: it pulls in the mail parser and pdf.js. */
const inbound = async (ctx: CommandContext): Promise<number> => (await import('./simulate-inbound.ts')).inbound(ctx);

/** Simulators register here: `simulate <source> <file>`. */
export const SIMULATORS: Record<string, (ctx: CommandContext) => Promise<number>> = { ses, mailtrap, inbound };

export const simulate: Command = {
  usage: [
    '  simulate ses <file.json>                               put an SES notification / SNS envelope on the feedback queue',
    '  simulate mailtrap <file.json|.jsonl> [--unsigned]      POST a signed Mailtrap webhook to the local endpoint',
    '  simulate inbound <file.eml> [--spam|--virus|--spf|--dkim|--dmarc <PASS|FAIL|GRAY|...>] [--dmarc-policy <p>] [--from <address>] [--dkim-domain <d>] [--message-id <id>]\n' +
      '                                                         store a raw message in the inbound bucket and notify as SES receiving does',
  ].join('\n'),
  async run(ctx) {
    const [source, ...rest] = ctx.args;
    const fn = source ? SIMULATORS[source] : undefined;
    if (!fn) throw new UsageError(`simulate: unknown source ${source ?? '(none)'} (known: ${Object.keys(SIMULATORS).join(', ')})`);
    return fn({ ...ctx, args: rest });
  },
};
