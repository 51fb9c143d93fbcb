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

const SUBCOMMANDS: Record<string, (ctx: CommandContext) => Promise<number>> = { get };

export const suppressions: Command = {
  usage: '  suppressions get <email> [--domain <sending-domain>]   state of one address (JSON)',
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn) throw new UsageError(`suppressions: unknown subcommand ${sub ?? '(none)'}`);
    return fn({ ...ctx, args: rest });
  },
};
