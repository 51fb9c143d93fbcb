import { DynamoInboundStore } from '../../shared/adapters/dynamo-inbound-store.ts';
import { describeWarning } from '../../shared/domain/invoice-warnings.ts';
import type { InvoiceRecord } from '../../shared/schemas/inbound-records.ts';
import { tableName } from '../target.ts';
import { flagString, print, printable, UsageError, type Command, type CommandContext } from './context.ts';

/** One invoice in the text listing; `!` in front and one indented line per warning when it has any. */
function invoiceLines(i: InvoiceRecord): string[] {
  const warnings = i.warnings ?? [];
  const head = `${warnings.length > 0 ? '!' : ' '} ${i.receivedAt}  ${i.invoiceId}  ${i.invoiceNumber ?? '?'}  ${i.totalWithVat ?? '?'} ${i.currency ?? ''}  ${i.sellerName ?? '?'}  [${i.format}]${i.duplicateOf ? `  duplicate of ${i.duplicateOf}` : ''}`;
  return [head, ...warnings.map((w) => `    ! ${describeWarning(w)}`)];
}

/** Newest first, from the inbound table's ByKind index. */
async function list(ctx: CommandContext): Promise<number> {
  const limit = Number(flagString(ctx, 'limit') ?? '50');
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  const withWarnings = ctx.flags.warnings === true;
  const target = await ctx.target();
  const store = new DynamoInboundStore(target.documents, tableName(target, 'InboundTable'));
  const invoices = await store.listInvoices(limit, { withWarnings });
  if (ctx.flags.json) {
    print(invoices);
    return 0;
  }
  const lines = invoices.flatMap(invoiceLines);
  process.stdout.write(`${lines.length > 0 ? lines.map(printable).join('\n') : withWarnings ? 'no invoices with warnings' : 'no invoices recorded'}\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, (ctx: CommandContext) => Promise<number>> = { list };

export const invoices: Command = {
  usage: '  invoices list [--json] [--warnings] [--limit <n>]      recorded invoices, newest first (--warnings: only those with warnings)',
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn) throw new UsageError(`invoices: unknown subcommand ${sub ?? '(none)'}`);
    return fn({ ...ctx, args: rest });
  },
};
