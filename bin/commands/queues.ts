import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Target } from '../target.ts';
import { print, type Command } from './context.ts';

async function counts(target: Target, url: string) {
  const out = await target.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export const queues: Command = {
  usage: '  queues [--json]                                        visible / in-flight / DLQ counts per queue',
  async run(ctx) {
    const target = await ctx.target();
    const dlqIds = new Set(Object.values(target.info.queues).map((q) => q.dlq).filter(Boolean));
    const rows = [];
    for (const [id, q] of Object.entries(target.info.queues)) {
      if (dlqIds.has(id)) continue;
      const main = await counts(target, q.url);
      const dlq = q.dlq ? target.info.queues[q.dlq] : undefined;
      const dead = dlq ? await counts(target, dlq.url) : undefined;
      rows.push({ queue: q.name, id, ...main, dlq: dead ? dead.visible + dead.inFlight : null, dlqName: dlq?.name ?? null });
    }
    if (ctx.flags.json) {
      print(rows);
      return 0;
    }
    const header = ['queue', 'visible', 'in-flight', 'dlq'];
    const lines = rows.map((r) => [r.queue, String(r.visible), String(r.inFlight), r.dlq === null ? '-' : String(r.dlq)]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
    for (const line of [header, ...lines]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
    return 0;
  },
};
