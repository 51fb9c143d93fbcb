import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { isEmailAddress } from '../../shared/domain/email-address.ts';
import { viewSuppression } from '../../shared/domain/suppression-policy.ts';
import { tableName } from '../target.ts';
import { flagString, print, UsageError, type Command, type CommandContext } from './context.ts';

async function get(ctx: CommandContext): Promise<number> {
  const [email] = ctx.args;
  const domain = flagString(ctx, 'domain');
  if (!email || !isEmailAddress(email)) throw new UsageError('suppressions get needs an email address');
  const target = await ctx.target();
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
  return 0;
}

const SUBCOMMANDS: Record<string, (ctx: CommandContext) => Promise<number>> = {
  get,
  // The rest live in suppressions-admin.ts, loaded on use.
  add: async (ctx) => (await import('./suppressions-admin.ts')).add(ctx),
  remove: async (ctx) => (await import('./suppressions-admin.ts')).remove(ctx),
  list: async (ctx) => (await import('./suppressions-admin.ts')).list(ctx),
  import: async (ctx) => (await import('./suppressions-admin.ts')).importList(ctx),
  export: async (ctx) => (await import('./suppressions-admin.ts')).exportList(ctx),
  'sync-status': async (ctx) => (await import('./suppressions-admin.ts')).syncStatus(ctx),
};

export const suppressions: Command = {
  usage: [
    '  suppressions get <email> [--domain <sending-domain>]   state of one address (JSON)',
    '  suppressions add <email> --reason bounce|complaint|unsubscribe|manual [--domain <d> [--stream transactional|bulk]]',
    '  suppressions remove <email> [--domain <d> [--stream <s>]]   lift a suppression (everywhere, or one scope)',
    '  suppressions list [--limit <n>] [--domain <d>]          suppressed addresses (JSON lines)',
    '  suppressions import <file> [--format ses-csv|ses-ndjson|mailtrap-csv] [--origin ses|mailtrap|none]',
    '                    [--rejects <file>] [--concurrency <n>]',
    '                                                          streamed; progress on stderr; summary (accepted / unchanged /',
    '                                                          duplicate / invalid, first line numbers) as JSON; every rejected',
    '                                                          row in --rejects (default <file>.rejected.csv); --origin: the',
    '                                                          provider the file came from, not pushed back to (default:',
    '                                                          mailtrap for mailtrap-csv, none for the SES formats)',
    '  suppressions export [--format csv|ndjson] [--output <file>]',
    '  suppressions export --format mailtrap-import --output <dir> [--max-rows <n>]',
    '                                                          files to upload in Mailtrap\'s dashboard (global: all domains / Any;',
    '                                                          per domain and stream), what to choose for each; their addresses',
    '                                                          await the upload (no API calls) for MAILTRAP_IMPORT_GRACE (7d)',
    '  suppressions sync-status <email>                        per-provider sync state (pending / synced / failed)',
  ].join('\n'),
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn) throw new UsageError(`suppressions: unknown subcommand ${sub ?? '(none)'}`);
    return fn({ ...ctx, args: rest });
  },
};
