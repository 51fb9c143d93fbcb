/**
 * `mailbridge suppressions add|remove|list|import|export|sync-status`: a person working on the
 * store directly (local stack or a deployed stage, like `get`). Every change goes through the
 * same policy functions as the API, and reaches the providers through the store's stream.
 */
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSuppressionStore, fromItem } from '../../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { mailtrapImportGraceMs } from '../../shared/adapters/sync-deps.ts';
import { MAILTRAP_PASTE_MAX } from '../../shared/domain/mailtrap-import.ts';
import { exportMailtrapUpload } from '../../shared/services/mailtrap-import.ts';
import type { SuppressionScope } from '../../shared/domain/feedback-event.ts';
import { viewSuppression, type AddressState } from '../../shared/domain/suppression-policy.ts';
import {
  addManualSuppression,
  manualAddress,
  manualReason,
  manualScope,
  ManualSuppressionInputError,
  removeManualSuppression,
} from '../../shared/services/manual-suppressions.ts';
import {
  defaultImportOrigin,
  EXPORT_CSV_HEADER,
  exportLines,
  IMPORT_FORMATS,
  IMPORT_ORIGINS,
  type ExportFormat,
  type ImportFormat,
  type ImportOrigin,
} from '../../shared/domain/suppression-import.ts';
import { importSuppressions, ImportInterruptedError, type ImportSummary } from '../../shared/services/import-suppressions.ts';
import { syncStatusView } from '../../shared/services/sync-status.ts';
import { syncConfigFor, tableName, type Target } from '../target.ts';
import { flagString, UsageError, type CommandContext } from './context.ts';
import { progressReporter, rejectsWriter } from './import-progress.ts';


/** Resolves once written: the CLI exits right after a command, and a piped stdout is asynchronous. */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

const print = (value: unknown) => writeOut(`${JSON.stringify(value, null, 2)}\n`);

async function stores(ctx: CommandContext) {
  const target = await ctx.target();
  return {
    target,
    store: new DynamoSuppressionStore(target.documents, tableName(target, 'SuppressionsTable')),
    sync: new DynamoSyncState(target.documents, tableName(target, 'SuppressionSyncTable')),
  };
}

/** A request the manual-suppression service refuses is a usage error here (the API answers 400). */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ManualSuppressionInputError) throw new UsageError(error.message);
    throw error;
  }
}

/** `--domain d [--stream s]` or `--scope d[/s]`; none = every scope. */
function scopeFlags(ctx: CommandContext): SuppressionScope | undefined {
  const scope = flagString(ctx, 'scope');
  const [fromScope, streamFromScope] = scope ? scope.split('/') : [];
  return asUsage(() => manualScope(flagString(ctx, 'domain') ?? fromScope, flagString(ctx, 'stream') ?? streamFromScope));
}

const manualDeps = (store: DynamoSuppressionStore) => ({ store, now: () => new Date().toISOString() });

function emailArg(ctx: CommandContext, sub: string): string {
  const [email] = ctx.args;
  if (!email) throw new UsageError(`suppressions ${sub} needs an email address`);
  asUsage(() => manualAddress(email));
  return email;
}

export async function add(ctx: CommandContext): Promise<number> {
  const email = emailArg(ctx, 'add');
  const reason = asUsage(() => manualReason(flagString(ctx, 'reason') ?? 'manual'));
  const scope = scopeFlags(ctx);
  const { store } = await stores(ctx);
  const change = await addManualSuppression(manualDeps(store), { email, reason, scope });
  await print({ added: change.changed, why: change.why, ...change.view });
  return 0;
}

export async function remove(ctx: CommandContext): Promise<number> {
  const email = emailArg(ctx, 'remove');
  const scope = scopeFlags(ctx);
  const { store } = await stores(ctx);
  const change = await removeManualSuppression(manualDeps(store), { email, scope });
  await print({ removed: change.changed, why: change.why, ...change.view });
  return change.changed ? 0 : 1;
}

/** Every suppressed address, page by page. */
async function* suppressed(target: Target): AsyncGenerator<AddressState> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await target.documents.send(
      new ScanCommand({
        TableName: tableName(target, 'SuppressionsTable'),
        FilterExpression: 'suppressed = :t',
        ExpressionAttributeValues: { ':t': true },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of out.Items ?? []) yield fromItem(item);
    start = out.LastEvaluatedKey;
  } while (start);
}

export async function list(ctx: CommandContext): Promise<number> {
  const limit = Number(flagString(ctx, 'limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  const domain = flagString(ctx, 'domain');
  const target = await ctx.target();
  let n = 0;
  for await (const state of suppressed(target)) {
    const view = viewSuppression(state, state.email, domain);
    if (!view.suppressed) continue;
    await writeOut(`${JSON.stringify({ email: state.email, reason: view.reason, scopes: view.scopes.map((s) => s.scope), sources: state.sources })}\n`);
    if (++n >= limit) break;
  }
  return 0;
}

/** Suppressed addresses in pages (the scan's own), for bulk work. */
async function* suppressedPages(target: Target, size = 500): AsyncGenerator<AddressState[]> {
  let page: AddressState[] = [];
  for await (const state of suppressed(target)) {
    page.push(state);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/**
 * `suppressions export --format mailtrap-import --output <dir> [--max-rows n]`: the files a
 * person uploads in Mailtrap's dashboard (shared/services/mailtrap-import.ts), what to choose
 * for each; their addresses await the upload (no Mailtrap API call) for MAILTRAP_IMPORT_GRACE.
 */
async function exportMailtrapImport(ctx: CommandContext): Promise<number> {
  const output = flagString(ctx, 'output');
  if (!output) throw new UsageError('--format mailtrap-import needs --output <dir>');
  const maxRows = Number(flagString(ctx, 'max-rows') ?? MAILTRAP_PASTE_MAX);
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new UsageError('--max-rows must be a positive integer');
  const { target, sync } = await stores(ctx);
  const config = syncConfigFor(target);
  if (config.mailtrapDomains.length === 0) throw new UsageError('no Mailtrap sending domains configured (MAILTRAP_SENDING_DOMAINS)');
  mkdirSync(output, { recursive: true });
  const plan = await exportMailtrapUpload(
    { sync, config, clock: { now: () => Date.now() }, graceMs: mailtrapImportGraceMs(), maxRows, writeFile: async (name, text) => writeFileSync(join(output, name), text) },
    suppressedPages(target),
  );
  writeFileSync(join(output, 'upload-plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  const steps = plan.files.map((f, i) => `  ${i + 1}. ${f.file}: ${f.addresses} addresses -> Add to stream: ${f.stream}, Add to domain: ${f.domain}`);
  process.stderr.write(
    plan.files.length === 0
      ? 'nothing to upload: Mailtrap holds (or is being sent) every suppression\n'
      : [
          `In Mailtrap: Suppressions > Add New/Import > Upload CSV, once per file (${join(output, 'upload-plan.json')} lists them):`,
          ...steps,
          `${plan.addresses} addresses now await the upload: no Mailtrap API call for them until ${plan.until}; reconciliation marks them synced as Mailtrap lists them.`,
          '',
        ].join('\n'),
  );
  await print(plan);
  return 0;
}

export async function exportList(ctx: CommandContext): Promise<number> {
  const format = (flagString(ctx, 'format') ?? 'csv') as ExportFormat | 'mailtrap-import';
  if (format === 'mailtrap-import') return exportMailtrapImport(ctx);
  if (format !== 'csv' && format !== 'ndjson') throw new UsageError('--format must be csv, ndjson or mailtrap-import');
  const output = flagString(ctx, 'output');
  const target = await ctx.target();
  // Streamed as the scan pages in: memory does not grow with the store.
  const out = output ? createWriteStream(output) : process.stdout;
  const write = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(text, (error) => (error ? reject(error) : undefined))) resolve();
      else out.once('drain', () => resolve());
    });
  if (format === 'csv') await write(`${EXPORT_CSV_HEADER}\n`);
  let addresses = 0;
  let scopes = 0;
  for await (const state of suppressed(target)) {
    const lines = exportLines(state, format);
    if (lines.length > 0) await write(`${lines.join('\n')}\n`);
    scopes += lines.length;
    addresses++;
  }
  await new Promise<void>((resolve, reject) => (output ? (out as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())) : out.write('', (e) => (e ? reject(e) : resolve()))));
  if (output) process.stderr.write(`exported ${addresses} addresses (${scopes} scopes) to ${output}\n`);
  return 0;
}

/**
 * `suppressions import <file>`: streamed (shared/services/import-suppressions.ts); progress on
 * stderr, the summary as JSON on stdout, every rejected row in `--rejects` (default
 * `<file>.rejected.csv`, only written when a row is rejected).
 */
export async function importList(ctx: CommandContext): Promise<number> {
  const file = flagString(ctx, 'file') ?? ctx.args[0];
  if (!file) throw new UsageError('suppressions import needs a file (SES CSV, SES NDJSON or Mailtrap CSV export)');
  const format = flagString(ctx, 'format') as ImportFormat | undefined;
  if (format && !IMPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${IMPORT_FORMATS.join(', ')}`);
  const originFlag = flagString(ctx, 'origin');
  if (originFlag && originFlag !== 'none' && !IMPORT_ORIGINS.includes(originFlag as ImportOrigin)) {
    throw new UsageError(`--origin must be one of ${[...IMPORT_ORIGINS, 'none'].join(', ')}`);
  }
  const concurrency = Number(flagString(ctx, 'concurrency') ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 128) throw new UsageError('--concurrency must be an integer from 1 to 128');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const rejectsPath = flagString(ctx, 'rejects') ?? `${file}.rejected.csv`;
  const { store } = await stores(ctx);
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  const progress = progressReporter({ totalBytes: size, bytesRead: () => input.bytesRead, tty: process.stderr.isTTY === true });
  const rejects = rejectsWriter(rejectsPath);
  let summary: ImportSummary;
  let interrupted: string | undefined;
  try {
    summary = await importSuppressions({ store, now: () => new Date().toISOString() }, input, {
      format,
      // The provider the file came from keeps its entries without a push back (see importKey).
      origin: originFlag === 'none' ? null : (originFlag as ImportOrigin | undefined),
      defaultOrigin: defaultImportOrigin,
      concurrency,
      onRejected: (r) => rejects.write(r),
      onProgress: (s) => progress.update(s),
    });
  } catch (error) {
    if (!(error instanceof ImportInterruptedError)) throw error;
    summary = error.summary;
    interrupted = `${error.message}; run the same import again: rows already imported count as unchanged`;
  } finally {
    progress.stop();
    input.destroy();
  }
  const rejected = await rejects.close();
  await print({ file, ...summary, rejectsFile: rejected > 0 ? rejectsPath : null, ...(interrupted ? { interrupted } : {}) });
  return interrupted || summary.invalid > 0 ? 1 : 0;
}


export async function syncStatus(ctx: CommandContext): Promise<number> {
  const email = emailArg(ctx, 'sync-status');
  const { target, store, sync } = await stores(ctx);
  const [state, items] = await Promise.all([store.get(email), sync.forAddress(email)]);
  const view = viewSuppression(state, email);
  await print({ email: view.email, suppressed: view.suppressed, scopes: view.scopes.map((s) => ({ scope: s.scope, reason: s.reason, source: s.source })), providers: syncStatusView(state, items, syncConfigFor(target)) });
  return 0;
}
