/**
 * A Mailtrap migration at size through the dashboard upload, next to the API path, in one run
 * (issue 12: 100,000 addresses over two sending domains, confirmed within an hour of the
 * upload, at most ~250 Mailtrap API calls).
 *
 * On the local stack (startLocalStack, scheduled functions only on demand, the two local
 * Mailtrap sending domains):
 *
 *  0. BASELINE, measured on a sample: SAMPLE addresses written to the store go the API way
 *     (stream -> outbox -> `mailtrap-sync`): the calls they take, per address and pair;
 *  1. ADDRESSES suppressed addresses (95 % bounces: every domain; 5 % unsubscribes from one
 *     domain) written with `store.updateMany` (100 a request, 4 in flight, as the import does);
 *     the stream queues every one for Mailtrap (checked by a count of the sync table);
 *  2. `migrate status --json` (CLI, its own process): all pending, the API estimate;
 *  3. `suppressions export --format mailtrap-import --output <dir>` (CLI, its own process):
 *     the upload files; `mailtrap-sync` runs (must make no call for them);
 *  4. `migrate status --json`: every address awaiting-import;
 *  5. the person's upload: each file's rows seeded into the Mailtrap simulator with
 *     `POST /__sim/suppressions`, as the dashboard would create them (one record per domain for
 *     an "all domains" file, stream Any, type `manual import`), one request per file;
 *  6. `suppression-reconcile` (`POST /__local/schedule/suppression-reconcile`) until its
 *     Mailtrap pass has confirmed every address, then `mailtrap-sync` once more;
 *  7. `migrate status --json`: every address synced.
 *
 * Mailtrap API calls are the simulator's own counter (the `calls` of `/__sim/state`, read from
 * the in-process handle so the 200,000 records are not serialised each time), by operation.
 *
 * The stack runs with fast paces (MAILTRAP_PUSH_RATE 500/1s, MAILTRAP_RECONCILE_RATE 50/1s,
 * the simulator's suppression limit raised to 1,000/1s) so the bench ends in minutes: its wall
 * times are MEASURED at those paces (bounded by DynamoDB Local, not by Mailtrap). The time at the
 * DEPLOYED pace is COMPUTED from the measured call count with the drains' own pacer
 * (`scheduleRuns`, shared/domain/rate-limit.ts): the deployed defaults of runSettingsFromEnv({})
 * and the schedule of serverless.yml (suppression-reconcile every 10 min working
 * RECONCILE_RUN_SECONDS 280 s at 1/60 s + the idle push share 9/60 s = 10/60 s while an upload
 * is awaited; mailtrap-sync every minute working 50 s at 9/60 s).
 *
 *   npm run bench:migration      (ADDRESSES=100000 SAMPLE=100 to change)
 */
import { runMeasured, type MeasuredRun } from './measured-child.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PROJECT_ROOT, startLocalStack } from '../local/stack.ts';
import { rateMs } from '../local/event-sources/scheduler.ts';
import type { RateSpec } from '../shared/domain/rate-limit.ts';
import type { UploadControl } from '../shared/domain/mailtrap-import.ts';
import type { MigrationStatus } from '../shared/services/migration-status.ts';
import type { ReconcileReport } from '../shared/services/reconcile.ts';

export class BenchFailedError extends Error {
  override name = 'BenchFailedError';
}

const ADDRESSES = Number(process.env.ADDRESSES ?? 100_000);
const SAMPLE = Number(process.env.SAMPLE ?? 100);
const STREAM_TIMEOUT_MS = 30 * 60_000;
const HEAP_MB = Number(process.env.DYNAMODB_HEAP_MB ?? 1024);
const UNSUB_DOMAIN = 'news.examplesender.com';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const human = (ms: number) => (ms < 5_400_000 ? `${(ms / 60_000).toFixed(1)} min` : ms < 172_800_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} days`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

console.log(`bench:migration  ${fmt(ADDRESSES)} addresses over two Mailtrap sending domains (API-path sample: ${fmt(SAMPLE)})`);
console.log(`DynamoDB Local heap ${HEAP_MB} MB`);
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${load()}`);
const benchStarted = performance.now();

const work = mkdtempSync(join(tmpdir(), 'mailbridge-bench-migration-'));
const stateFile = join(work, 'local.json');
const functionErrors: Record<string, number> = {};
// The CLI runs as a person runs it: with this shell's environment, not the one startLocalStack
// sets for the functions (its fast paces would become `migrate status`'s estimate).
const cliEnv = { ...process.env };
const stack = await startLocalStack({
  httpPort: 0,
  stateFile,
  logLevel: 'SILENT',
  scheduleIntervalMs: 'off',
  // 300,000 items and their stream records: DynamoDB Local's default 256 MB heap fails a Scan of them.
  dynamodbHeapMb: HEAP_MB,
  env: {
    MAILTRAP_SENDING_STREAMS: 'transactional',
    SYNC_CONCURRENCY: '8',
    SYNC_RUN_SECONDS: '50',
    RECONCILE_RUN_SECONDS: '120',
    MAILTRAP_PUSH_RATE: '500/1s',
    MAILTRAP_RECONCILE_RATE: '50/1s',
    SES_RECONCILE_RATE: '50/1s',
  },
  simulators: { sesRateLimit: { perSecond: 400, burst: 20 }, mailtrapRateLimits: { suppressions: { limit: 1000, windowMs: 1000 } } },
  onFunctionError: (name, error) => {
    functionErrors[name] = (functionErrors[name] ?? 0) + 1;
    if (functionErrors[name] <= 3) console.error(`[${name}]`, (error as Error)?.message ?? error);
  },
});

try {
  // Imported once the stack has set the functions' environment (log level SILENT, metrics off):
  // these modules build the shared logger and metrics when first loaded.
  const { DynamoSuppressionStore } = await import('../shared/adapters/dynamo-suppression-store.ts');
  const { DynamoSyncState } = await import('../shared/adapters/dynamo-sync-state.ts');
  const { runSettingsFromEnv } = await import('../shared/adapters/sync-deps.ts');
  const { scheduleRuns } = await import('../shared/domain/rate-limit.ts');
  const { importKey } = await import('../shared/domain/suppression-import.ts');
  const { applyManualSuppression } = await import('../shared/domain/suppression-policy.ts');
  const { mapLimit } = await import('../shared/services/sync-drain.ts');
  const info = stack.info;
  const mailtrap = stack.simulators.mailtrap;
  const domains = info.sync?.mailtrapDomains ?? [];
  const streams = info.sync?.mailtrapStreams ?? [];
  if (domains.length !== 2) throw new BenchFailedError(`expected two Mailtrap sending domains, got ${domains.join(', ')}`);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: info.region, credentials: { ...info.credentials }, endpoint: info.endpoints.dynamodb }));
  const store = new DynamoSuppressionStore(documents, info.tables.SuppressionsTable?.name ?? '');
  const syncTable = info.tables.SuppressionSyncTable?.name ?? '';
  const sync = new DynamoSyncState(documents, syncTable);

  const mailtrapCalls = () => mailtrap.calls;
  const totalCalls = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const diff = (after: Record<string, number>, before: Record<string, number>) =>
    Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;

  const runScheduled = async (fn: string): Promise<unknown> => {
    const response = await fetch(`${info.httpUrl}/__local/schedule/${fn}`, { method: 'POST' });
    const body = (await response.json()) as { result?: unknown };
    if (!response.ok) throw new BenchFailedError(`${fn}: ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
    return body.result;
  };

  const cli = async (args: string[]): Promise<MeasuredRun> => {
    const r = await runMeasured([join(PROJECT_ROOT, 'bin', 'cli.ts'), ...args], { env: { ...cliEnv, MAILBRIDGE_LOCAL_STATE: stateFile } });
    if (r.code !== 0) throw new BenchFailedError(`mailbridge ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return r;
  };
  const migrateStatus = async () => {
    const r = await cli(['migrate', 'status', '--json']);
    return { ...r, status: JSON.parse(r.stdout) as MigrationStatus };
  };

  /** Mailtrap sync items by status (one scan of the sync table). */
  const mailtrapStatusCounts = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    let start: Record<string, unknown> | undefined;
    do {
      const out = await documents.send(
        new ScanCommand({
          TableName: syncTable,
          FilterExpression: 'sk = :m',
          ProjectionExpression: '#s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':m': 'mailtrap' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) counts[String(item.status)] = (counts[String(item.status)] ?? 0) + 1;
      start = out.LastEvaluatedKey;
    } while (start);
    return counts;
  };

  const at = new Date().toISOString();
  type Row = { email: string; reason: 'bounce' | 'unsubscribe'; scope?: { domain: string } | undefined };
  const write = async (rows: Row[]) => {
    const chunks: Row[][] = [];
    for (let i = 0; i < rows.length; i += 100) chunks.push(rows.slice(i, i + 100));
    await mapLimit(chunks, 4, async (chunk) => {
      const result = await store.updateMany(
        chunk.map((row) => ({ email: row.email, decide: (current) => applyManualSuppression(current, { ...row, at, source: 'import', key: importKey(row) }) })),
        { assumeNew: true },
      );
      const notSuppressed = result.decisions.filter((d) => d.outcome !== 'suppressed').length;
      if (notSuppressed > 0) throw new BenchFailedError(`${notSuppressed} of a chunk of ${chunk.length} not suppressed`);
    });
  };
  /**
   * Waits until the sync table holds `want` Mailtrap items (the stream has queued them all):
   * first for the last address written (cheap), then a count of the whole table.
   */
  const waitQueued = async (want: number, lastEmail: string, what: string): Promise<number> => {
    const started = performance.now();
    const late = () => performance.now() - started > STREAM_TIMEOUT_MS;
    while (!(await sync.forAddress(lastEmail)).some((i) => i.provider === 'mailtrap')) {
      if (late()) throw new BenchFailedError(`${what}: ${lastEmail} not queued for Mailtrap after ${secs(performance.now() - started)}`);
      await sleep(2000);
    }
    for (;;) {
      const n = totalCalls(await mailtrapStatusCounts());
      if (n >= want) return performance.now() - started;
      if (late()) throw new BenchFailedError(`${what}: ${n} of ${want} queued for Mailtrap after ${secs(performance.now() - started)}`);
      await sleep(10_000);
    }
  };

  // ---------------------------------------------------------------- 0. the API path, on a sample
  const sampleRows: Row[] = Array.from({ length: SAMPLE }, (_, i) => ({ email: `Api-Sample.${i}@Bench-Migration.example`, reason: 'bounce' }));
  await write(sampleRows);
  await waitQueued(SAMPLE, sampleRows.at(-1)?.email ?? '', 'sample');
  const beforeSample = mailtrapCalls();
  const sampleStarted = performance.now();
  for (let run = 0; ; run++) {
    await runScheduled('mailtrap-sync');
    const items = await Promise.all(sampleRows.map(async (r) => (await sync.forAddress(r.email)).find((i) => i.provider === 'mailtrap')));
    if (items.every((i) => i?.status === 'synced')) break;
    if (run >= 20) throw new BenchFailedError('the API-path sample is not synced after 20 mailtrap-sync runs');
  }
  const sampleMs = performance.now() - sampleStarted;
  const sampleCalls = diff(mailtrapCalls(), beforeSample);
  const sampleCreates = sampleCalls['suppressions.create'] ?? 0;
  console.log(`0. API path, sample: ${fmt(SAMPLE)} addresses -> ${fmt(totalCalls(sampleCalls))} Mailtrap calls ${JSON.stringify(sampleCalls)} in ${secs(sampleMs)} (fast local pace)`);

  // ---------------------------------------------------------------- 1. the store gets the list
  const rows: Row[] = Array.from({ length: ADDRESSES }, (_, i) =>
    i % 20 === 0 ? { email: `Unsub.${i}@Customer${i % 13}.example`, reason: 'unsubscribe', scope: { domain: UNSUB_DOMAIN } } : { email: `User.${i}@Customer${i % 13}.example`, reason: 'bounce' },
  );
  const writeStarted = performance.now();
  await write(rows);
  const writeMs = performance.now() - writeStarted;
  const queuedMs = await waitQueued(ADDRESSES + SAMPLE, rows.at(-1)?.email ?? '', 'main set');
  console.log(`1. store: ${fmt(ADDRESSES)} addresses written in ${secs(writeMs)} (updateMany, 100 a request, 4 in flight); all queued for Mailtrap ${secs(queuedMs)} after the last write; load ${load()}`);

  // One create per address and (domain, stream) pair it needs: what the API path would make.
  const pairsPerAddress = (r: Row) => (r.scope ? 1 : domains.length) * streams.length;
  const baselineCreates = rows.reduce((n, r) => n + pairsPerAddress(r), 0);

  // ---------------------------------------------------------------- 2. migrate status, all pending
  const statusPending = await migrateStatus();
  const pendingMt = statusPending.status.providers.mailtrap;
  console.log(`2. migrate status (before export): mailtrap ${JSON.stringify(pendingMt.counts)}, API estimate ${fmt(pendingMt.estimate.calls)} calls, ${pendingMt.estimate.doneInMs === null ? '-' : human(pendingMt.estimate.doneInMs)}`);

  // ---------------------------------------------------------------- 3. the upload files, the drain
  const uploadDir = join(work, 'mailtrap-upload');
  const beforeExport = mailtrapCalls();
  const exported = await cli(['suppressions', 'export', '--format', 'mailtrap-import', '--output', uploadDir]);
  const plan = JSON.parse(exported.stdout) as UploadControl;
  if (plan.addresses !== ADDRESSES) throw new BenchFailedError(`the export marked ${plan.addresses} addresses, expected ${ADDRESSES}`);
  const drainStarted = performance.now();
  await runScheduled('mailtrap-sync');
  const drainMs = performance.now() - drainStarted;
  const exportDrainCalls = diff(mailtrapCalls(), beforeExport);
  console.log(`3. export: ${plan.files.length} files for ${fmt(plan.addresses)} addresses in ${secs(exported.ms)} (CLI, peak RSS ${fmt(exported.maxRssMb)} MB); mailtrap-sync afterwards ${secs(drainMs)}: ${fmt(totalCalls(exportDrainCalls))} Mailtrap calls ${JSON.stringify(exportDrainCalls)}`);

  // ---------------------------------------------------------------- 4. migrate status, awaiting
  const statusAwaiting = await migrateStatus();
  const awaitingMt = statusAwaiting.status.providers.mailtrap;
  console.log(`4. migrate status (before the upload): mailtrap ${JSON.stringify(awaitingMt.counts)}; next: ${statusAwaiting.status.nextSteps[0]?.slice(0, 100)}...`);
  if (awaitingMt.counts['awaiting-import'] !== ADDRESSES) throw new BenchFailedError(`awaiting-import ${awaitingMt.counts['awaiting-import']}, expected ${ADDRESSES}`);

  // ---------------------------------------------------------------- 5. the person's upload
  let seeded = 0;
  const seedStarted = performance.now();
  for (const f of plan.files) {
    const emails = readFileSync(join(uploadDir, f.file), 'utf8').trim().split('\n').slice(1);
    const targets = f.domain === 'All domains' ? domains : [f.domain];
    const stream = f.stream === 'Any' ? 'any' : f.stream.toLowerCase();
    const records = emails.flatMap((email) => targets.map((domain_name) => ({ email, domain_name, sending_stream: stream, type: 'manual import' })));
    const response = await fetch(`${info.endpoints.mailtrap}/__sim/suppressions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
    if (!response.ok) throw new BenchFailedError(`seeding ${f.file}: ${response.status} ${await response.text()}`);
    seeded += records.length;
  }
  console.log(`5. upload: ${plan.files.length} files seeded as ${fmt(seeded)} Mailtrap records in ${secs(performance.now() - seedStarted)}`);

  // ---------------------------------------------------------------- 6. reconciliation confirms
  const beforeReconcile = mailtrapCalls();
  const reconcileStarted = performance.now();
  const reports: ReconcileReport[] = [];
  let runs = 0;
  for (;;) {
    const result = (await runScheduled('suppression-reconcile')) as ReconcileReport[];
    runs++;
    const mt = result.filter((r) => r.provider === 'mailtrap');
    reports.push(...mt);
    const confirmed = reports.reduce((n, r) => n + (r.confirmedUploads ?? 0), 0);
    console.log(`   reconcile run ${runs}: ${mt.reduce((n, r) => n + r.pages, 0)} list pages, ${fmt(confirmed)} confirmed so far, ${secs(performance.now() - reconcileStarted)}, load ${load()}`);
    if (confirmed >= ADDRESSES && mt.some((r) => r.passCompleted)) break;
    if (runs >= 30) throw new BenchFailedError(`only ${confirmed} of ${ADDRESSES} confirmed after ${runs} reconcile runs`);
  }
  const reconcileMs = performance.now() - reconcileStarted;
  const reconcileCalls = diff(mailtrapCalls(), beforeReconcile);
  const beforeLastDrain = mailtrapCalls();
  await runScheduled('mailtrap-sync');
  const lastDrainCalls = diff(mailtrapCalls(), beforeLastDrain);
  const listPages = reports.reduce((n, r) => n + r.pages, 0);
  console.log(`6. reconciliation: ${runs} run(s), ${listPages} list pages, ${fmt(totalCalls(reconcileCalls))} Mailtrap calls ${JSON.stringify(reconcileCalls)} in ${secs(reconcileMs)}; mailtrap-sync afterwards: ${fmt(totalCalls(lastDrainCalls))} calls`);

  // ---------------------------------------------------------------- 7. migrate status, synced
  const statusSynced = await migrateStatus();
  const syncedMt = statusSynced.status.providers.mailtrap;
  console.log(`7. migrate status (after): mailtrap ${JSON.stringify(syncedMt.counts)}`);
  if (syncedMt.counts.synced !== ADDRESSES + SAMPLE || syncedMt.total !== ADDRESSES + SAMPLE) throw new BenchFailedError(`synced ${syncedMt.counts.synced} of ${syncedMt.total}, expected all ${ADDRESSES + SAMPLE}`);

  // ---------------------------------------------------------------- figures
  const migrationCalls = totalCalls(exportDrainCalls) + totalCalls(reconcileCalls) + totalCalls(lastDrainCalls);
  const deployed = runSettingsFromEnv({});
  const everyOf = (fn: string) => {
    const ev = (stack.config.functions[fn]?.events ?? []).find((e) => 'schedule' in e) as { schedule: { rate: string | string[] } | string } | undefined;
    const spec = ev?.schedule;
    const expression = String(typeof spec === 'string' ? spec : [spec?.rate ?? ''].flat()[0]);
    const ms = rateMs(expression);
    if (!ms) throw new BenchFailedError(`${fn}: no rate() schedule in serverless.yml (${expression})`);
    return ms;
  };
  const reconcileEvery = everyOf('suppression-reconcile');
  const syncEvery = everyOf('mailtrap-sync');
  const { mailtrapPush: push, mailtrapReconcile: own } = deployed.rates;
  // While an upload is awaited and nothing is due for a push (functions/suppression-reconcile, mailtrapReconcileRate).
  const boosted: RateSpec = { limit: own.limit + (push.limit * own.windowMs) / push.windowMs, windowMs: own.windowMs };
  const reconcileAt = (rate: RateSpec) => scheduleRuns(migrationCalls, rate, { everyMs: reconcileEvery, budgetMs: deployed.reconcileRunMs });
  const upload = reconcileAt(boosted);
  const uploadOwnShare = reconcileAt(own);
  const api = scheduleRuns(baselineCreates, push, { everyMs: syncEvery, budgetMs: deployed.runMs });
  const sampleCallsPerCreate = totalCalls(sampleCalls) / (SAMPLE * domains.length * streams.length);
  const rss = process.resourceUsage().maxRSS / 1024;
  const wallMs = performance.now() - benchStarted;
  const rate = (r: RateSpec) => `${r.limit}/${r.windowMs / 1000}s`;

  console.log('');
  console.log(`deployed pace (computed, scheduleRuns): reconcile every ${reconcileEvery / 60_000} min working ${deployed.reconcileRunMs / 1000} s at ${rate(boosted)} (own ${rate(own)} + idle push ${rate(push)}); mailtrap-sync every ${syncEvery / 60_000} min working ${deployed.runMs / 1000} s at ${rate(push)}`);
  console.log('');
  console.log('| path | addresses | upload files | Mailtrap API calls | time at the deployed pace (computed) | measured here (fast local pace) |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| dashboard upload + reconciliation | ${fmt(ADDRESSES)} | ${plan.files.length} (${fmt(seeded)} records) | **${fmt(migrationCalls)}** measured (${fmt(listPages)} list pages; ${fmt(totalCalls(exportDrainCalls) + totalCalls(lastDrainCalls))} by the drain) | **${human(upload.lastCallMs)}** after the upload (${upload.runs} reconcile runs; ${human(uploadOwnShare.lastCallMs)} at the reconcile share alone) | ${secs(reconcileMs)} reconciliation, ${runs} run(s) |`);
  console.log(`| API path (baseline) | ${fmt(ADDRESSES)} | - | ${fmt(baselineCreates)} computed (one create per address x domain x stream; sample: ${fmt(SAMPLE)} addresses took ${fmt(totalCalls(sampleCalls))} calls, ${sampleCreates} creates, ${sampleCallsPerCreate.toFixed(3)} per create) | ${human(api.lastCallMs)} (${fmt(api.runs)} drain runs) | ${secs(sampleMs)} for the sample |`);
  console.log('');
  console.log(`store writes ${secs(writeMs)}, queued ${secs(queuedMs)} later, export (CLI) ${secs(exported.ms)} (peak RSS ${fmt(exported.maxRssMb)} MB), migrate status (CLI) ${secs(statusSynced.ms)} (peak RSS ${fmt(statusSynced.maxRssMb)} MB)`);
  console.log(`bench wall ${secs(wallMs)}, bench process peak RSS ${fmt(rss)} MB (the functions, pollers and simulators run in it; DynamoDB Local is its own JVM), load ${load()}`);
  console.log(`function errors: ${JSON.stringify(functionErrors)}`);
  console.log(`migrate status --json before the upload: ${JSON.stringify({ mailtrap: awaitingMt.counts, files: statusAwaiting.status.upload?.files.length })}; after: ${JSON.stringify({ mailtrap: syncedMt.counts })}`);
} finally {
  await stack.stop();
}
