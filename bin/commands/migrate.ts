/**
 * `mailbridge migrate status [--json]`: where moving a sending program's suppressions stands
 * (shared/services/migration-status.ts), read from the sync table of the local stack or a
 * deployed stage.
 */
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { runSettingsFromEnv } from '../../shared/adapters/sync-deps.ts';
import { UPLOAD_CONTROL, type UploadControl } from '../../shared/domain/mailtrap-import.ts';
import { PUBLISHED_CONTROL, type PublishedMigrationStatus } from '../../shared/services/migration-metrics.ts';
import { countSyncTable, formatMigrationStatus, migrationStatus, newCountPass } from '../../shared/services/migration-status.ts';
import { syncConfigFor, tableName } from '../target.ts';
import { UsageError, type Command, type CommandContext } from './context.ts';

/**
 * Counts now (a full pass over the sync table); estimates at the stage's paces when its
 * `migration-status` function has published them (a deployed stage, or `npm start`), else at
 * the paces of this shell's environment, and says which.
 */
async function status(ctx: CommandContext): Promise<number> {
  const target = await ctx.target();
  const sync = new DynamoSyncState(target.documents, tableName(target, 'SuppressionSyncTable'));
  const now = Date.now();
  const { pass } = await countSyncTable(sync, newCountPass(new Date(now).toISOString()), { now: Date.now });
  const upload = (await sync.getControl<UploadControl>(UPLOAD_CONTROL)) ?? null;
  const published = await sync.getControl<PublishedMigrationStatus>(PUBLISHED_CONTROL);
  const paces = published
    ? { settings: published.settings, config: published.config, from: `the stage's, as its migration-status function published them at ${published.status.at}` }
    : { settings: runSettingsFromEnv(), config: syncConfigFor(target), from: "this shell's environment (the stage's migration-status function has not published yet)" };
  const result = { ...migrationStatus({ counts: pass.counts, settings: paces.settings, config: paces.config, upload, now }), pacesFrom: paces.from, published: published ? { at: published.status.at, providers: published.status.providers } : null };
  process.stdout.write(ctx.flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatMigrationStatus(result)}paces: ${paces.from}\n`);
  return 0;
}

export const migrate: Command = {
  usage: '  migrate status [--json]                                per provider: synced / pending / awaiting-import / importing / failed, when the rest is done, next steps',
  async run(ctx) {
    const [sub] = ctx.args;
    if (sub !== 'status') throw new UsageError(`migrate: unknown subcommand ${sub ?? '(none)'}`);
    return status(ctx);
  },
};
