/**
 * mailbridge CLI. Talks to the running local stack by default, to a deployed stage with
 * `--stage <name>`. Every command prints JSON where a machine may read it.
 *
 *   mailbridge suppressions get <email> [--domain <d>]
 *   mailbridge simulate ses <file.json>
 *   mailbridge queues [--json]
 *   mailbridge local info [--json]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { DynamoSuppressionStore } from '../shared/adapters/dynamo-suppression-store.ts';
import { viewSuppression } from '../shared/domain/suppression-policy.ts';
import { isEmailAddress } from '../shared/domain/email-address.ts';
import { readLocalInfo, resolveTarget, tableName, TargetError, type Target } from './target.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage: mailbridge <command> [--stage <name>]
  suppressions get <email> [--domain <sending-domain>]   state of one address (JSON)
  simulate ses <file.json>                               put an SES notification / SNS envelope on the feedback queue
  queues [--json]                                        visible / in-flight / DLQ counts per queue
  local info [--json]                                    endpoints and resource names of the local stack`;

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function suppressionsGet(target: Target, email: string | undefined, domain: string | undefined): Promise<void> {
  if (!email || !isEmailAddress(email)) throw new UsageError('suppressions get needs an email address');
  const store = new DynamoSuppressionStore(target.documents, tableName(target, 'SuppressionsTable'));
  const state = await store.get(email);
  const view = viewSuppression(state, email, domain);
  print({
    ...view,
    ...(domain ? { domain } : {}),
    spellings: state?.spellings ?? [],
    sources: state?.sources ?? [],
    counts: state?.counts ?? {},
    softBounces: state?.softBounces.length ?? 0,
    firstEventAt: state?.firstEventAt ?? null,
    lastEventAt: state?.lastEventAt ?? null,
    clearedAt: state?.clearedAt ?? null,
    history: state?.history ?? [],
  });
}

async function simulateSes(target: Target, file: string | undefined): Promise<void> {
  if (!file) throw new UsageError('simulate ses needs a JSON file');
  const body = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
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
}

async function queueCounts(target: Target, url: string) {
  const out = await target.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function queues(target: Target, json: boolean): Promise<void> {
  const dlqIds = new Set(Object.values(target.info.queues).map((q) => q.dlq).filter(Boolean));
  const rows = [];
  for (const [id, q] of Object.entries(target.info.queues)) {
    if (dlqIds.has(id)) continue;
    const counts = await queueCounts(target, q.url);
    const dlq = q.dlq ? target.info.queues[q.dlq] : undefined;
    const dlqCounts = dlq ? await queueCounts(target, dlq.url) : undefined;
    rows.push({ queue: q.name, id, ...counts, dlq: dlqCounts ? dlqCounts.visible + dlqCounts.inFlight : null, dlqName: dlq?.name ?? null });
  }
  if (json) return print(rows);
  const header = ['queue', 'visible', 'in-flight', 'dlq'];
  const lines = rows.map((r) => [r.queue, String(r.visible), String(r.inFlight), r.dlq === null ? '-' : String(r.dlq)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const line of [header, ...lines]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stage: { type: 'string' },
      domain: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'local' && sub === 'info') {
    const info = readLocalInfo();
    if (values.json) print(info);
    else process.stdout.write(`${Object.entries(info.endpoints).map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n')}\n`);
    return 0;
  }
  const target = await resolveTarget(values.stage);
  if (command === 'suppressions' && sub === 'get') await suppressionsGet(target, arg, values.domain);
  else if (command === 'simulate' && sub === 'ses') await simulateSes(target, arg);
  else if (command === 'queues') await queues(target, values.json ?? false);
  else throw new UsageError(`unknown command: ${positionals.join(' ')}\n${USAGE}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof TargetError;
    process.stderr.write(`mailbridge: ${known ? (error as Error).message : error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
