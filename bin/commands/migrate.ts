/**
 * `mailbridge migrate status [--json]`: where moving a sending program's suppressions stands
 * (shared/services/migration-status.ts), read from the sync table of the local stack or a
 * deployed stage.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { runSettingsFromEnv } from '../../shared/adapters/sync-deps.ts';
import type { Provider } from '../../shared/domain/suppression-sync.ts';
import type { SyncItem } from '../../shared/ports/sync-state.ts';
import { UPLOAD_CONTROL, type UploadControl } from '../../shared/services/mailtrap-import.ts';
import { countItems, emptyCounts, formatMigrationStatus, migrationStatus } from '../../shared/services/migration-status.ts';
import { syncConfigFor, tableName } from '../target.ts';
import { UsageError, type Command, type CommandContext } from './context.ts';


async function status(ctx: CommandContext): Promise<number> {
  const target = await ctx.target();
  const table = tableName(target, 'SuppressionSyncTable');
  const now = Date.now();
  const nowIso = new Date(now).toISOString();
  const counts: Record<Provider, ReturnType<typeof emptyCounts>> = { ses: emptyCounts(), mailtrap: emptyCounts() };
  let start: Record<string, unknown> | undefined;
  do {
    const out = await target.documents.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'pk, sk, #s, awaitImportUntil, awaitTargets',
        ExpressionAttributeNames: { '#s': 'status' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const items = (out.Items ?? []).filter((i) => i.pk !== '@control').map((i) => ({ ...(i as unknown as SyncItem), provider: i.sk as Provider }));
    countItems(counts, items, nowIso);
    start = out.LastEvaluatedKey;
  } while (start);
  const upload = (await new DynamoSyncState(target.documents, table).getControl<UploadControl>(UPLOAD_CONTROL)) ?? null;
  const result = migrationStatus({ counts, settings: runSettingsFromEnv(), config: syncConfigFor(target), upload, now });
  process.stdout.write(ctx.flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatMigrationStatus(result));
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
