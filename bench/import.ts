/**
 * `suppressions import` at migration size, next to the path it replaced, in one run.
 *
 * Starts DynamoDB Local (local/emulators.ts, the JVM flags `npm start` uses: full JIT, JIT=quick-start
 * for the tests' C1-only one) with the tables of serverless.yml (the suppression table keeps its stream on, as deployed),
 * writes SES-export-like CSV files (`address,BOUNCE|COMPLAINT`, mixed-case addresses, ~90 %
 * bounces, 0.1 % invalid lines, 0.1 % repeated rows) to a temp dir, and runs:
 *
 *  1. BASELINE: the import as it was (whole file read and parsed, one `store.update` per row,
 *     16 at a time: a consistent GetItem + a conditional PutItem each) on SAMPLE rows
 *     (bench/import-baseline-child.ts, a process of its own);
 *  2. NEW, same size: the real CLI (`node --import tsx bin/cli.ts suppressions import ...`,
 *     stderr not a TTY: plain progress lines) on SAMPLE other rows;
 *  3. NEW, full size: the CLI on ROWS rows;
 *  4. NEW, again: the same ROWS file a second time (an interrupted import run again: every
 *     row must come back `unchanged`);
 *  5. NEW, another ROWS file with the CLI's V8 heap capped at 64 MB (--max-old-space-size):
 *     the memory the import needs, as opposed to what V8 takes when memory is plentiful;
 *  6. RAW WRITES: the same number of writes of the import's items with no import around them
 *     (bench/import-raw-writes-child.ts, on a fresh emulator): conditional TransactWriteItems as
 *     the import sends them (how close the import comes to the emulator's own rate), and
 *     unconditional BatchWriteItem (what the condition costs);
 *  7. NEW, another ROWS file into a second, fresh DynamoDB Local started with the other JIT
 *     profile (the tests' C1-only JVM when the first is `npm start`'s): what the emulator's
 *     compiler is worth, in the same run (COMPARE_JIT=0 skips it).
 * Each emulator's start-up time (until it answers ListTables) is printed too.
 *
 * Each figure is wall clock of that process (start-up included) and its peak RSS
 * (bench/report-max-rss.ts). The new path's summary is checked (accepted / unchanged /
 * duplicate / invalid counts) so a fast wrong import cannot pass for a fast one.
 *
 *   npm run bench:import            (ROWS=100000 SAMPLE=5000 CONCURRENCY=4 JIT=throughput to change)
 */
import { mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort, LOCAL_CREDENTIALS, startDynamoDbLocal, type DynamoJit } from '../local/emulators.ts';
import { loadServiceConfig } from '../local/serverless-config.ts';
import { provisionResources, ResourceRegistry } from '../local/resources.ts';
import { runMeasured, type MeasuredRun } from './measured-child.ts';
import { PROJECT_ROOT } from '../local/stack.ts';

export class BenchFailedError extends Error {
  override name = 'BenchFailedError';
}

const ROWS = Number(process.env.ROWS ?? 100_000);
const SAMPLE = Number(process.env.SAMPLE ?? 5_000);
const CONCURRENCY = process.env.CONCURRENCY ?? '4';
const JIT: DynamoJit = process.env.JIT === 'quick-start' ? 'quick-start' : 'throughput';
const OTHER_JIT: DynamoJit = JIT === 'throughput' ? 'quick-start' : 'throughput';
const COMPARE_JIT = process.env.COMPARE_JIT !== '0';
const region = 'us-east-1';
const work = mkdtempSync(join(tmpdir(), 'mailbridge-bench-import-'));

/** SES-export-like rows: `address,REASON`; every 1000th line broken, every 1000th (offset) a repeat of an earlier row. */
async function writeCsv(path: string, tag: string, rows: number): Promise<{ invalid: number; duplicate: number }> {
  const out = createWriteStream(path);
  let invalid = 0;
  let duplicate = 0;
  for (let i = 0; i < rows; i++) {
    let line: string;
    if (i % 1000 === 999) {
      line = `not-an-address-${i},BOUNCE`;
      invalid++;
    } else if (i % 1000 === 500) {
      line = `${tag}-User.${i - 400}@Example${(i - 400) % 7}.com,BOUNCE`;
      duplicate++;
    } else line = `${tag}-User.${i}@Example${i % 7}.com,${i % 10 === 0 ? 'COMPLAINT' : 'BOUNCE'}`;
    if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return { invalid, duplicate };
}

type Run = MeasuredRun;

async function run(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Run> {
  const r = await runMeasured(args, { env: { ...process.env, ...env }, nodeArgs });
  if (r.code !== 0 && r.code !== 1) throw new BenchFailedError(`${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`bench:import  ${ROWS.toLocaleString('en-US')} rows (baseline and same-size sample: ${SAMPLE.toLocaleString('en-US')}), concurrency ${CONCURRENCY}, DynamoDB Local JIT ${JIT}`);
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

/** DynamoDB Local with the tables of serverless.yml and a state file for the CLI; start-up timed. */
async function emulator(jit: DynamoJit, name: string) {
  const t0 = performance.now();
  const dynamo = await startDynamoDbLocal(await freePort(), region, { jit });
  const startMs = performance.now() - t0;
  try {
    const config = loadServiceConfig(join(PROJECT_ROOT, 'serverless.yml'), { stage: 'bench', region });
    const tablesOnly = Object.fromEntries(Object.entries(config.resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table'));
    const registry = new ResourceRegistry(region, `${config.service}-bench`);
    const common = { region, credentials: { ...LOCAL_CREDENTIALS } };
    const dynamodb = new DynamoDBClient({ ...common, endpoint: dynamo.endpoint });
    // Only tables are created: the other clients are never called.
    await provisionResources(tablesOnly, registry, { dynamodb, sqs: new SQSClient(common), sns: new SNSClient(common), s3: new S3Client(common) });
    dynamodb.destroy();
    const table = registry.created.get('SuppressionsTable')?.name ?? '';
    const stateFile = join(work, `${name}.json`);
    writeFileSync(
      stateFile,
      JSON.stringify({
        httpUrl: '',
        region,
        stage: 'bench',
        credentials: LOCAL_CREDENTIALS,
        endpoints: { dynamodb: dynamo.endpoint },
        queues: {},
        topics: {},
        buckets: {},
        tables: Object.fromEntries([...registry.created].map(([id, r]) => [id, { name: r.name, arn: r.attributes.Arn }])),
      }),
    );
    return { dynamo, startMs, table, stateFile };
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
}

const main = await emulator(JIT, 'main');
const { dynamo, table, stateFile } = main;
try {
  const baselineFile = join(work, 'baseline.csv');
  const sampleFile = join(work, 'sample.csv');
  const fullFile = join(work, 'full.csv');
  await writeCsv(baselineFile, 'base', SAMPLE);
  const sampleShape = await writeCsv(sampleFile, 'sample', SAMPLE);
  const fullShape = await writeCsv(fullFile, 'full', ROWS);
  const cappedFile = join(work, 'capped.csv');
  await writeCsv(cappedFile, 'capped', ROWS);

  const cli = (file: string, nodeArgs: string[] = [], state = stateFile) =>
    run([join(PROJECT_ROOT, 'bin', 'cli.ts'), 'suppressions', 'import', file, '--concurrency', CONCURRENCY, '--rejects', `${file}.rejected.csv`], { MAILBRIDGE_LOCAL_STATE: state }, nodeArgs);
  const check = (what: string, r: Run, want: Record<string, number>) => {
    const summary = JSON.parse(r.stdout) as Record<string, number>;
    for (const [k, v] of Object.entries(want)) if (summary[k] !== v) throw new BenchFailedError(`${what}: ${k} = ${summary[k]}, expected ${v}\n${r.stdout}`);
    return summary;
  };

  const base = await run([join(PROJECT_ROOT, 'bench', 'import-baseline-child.ts'), baselineFile, dynamo.endpoint, table, region]);
  const baseOut = JSON.parse(base.stdout) as { rows: number; accepted: number; elapsedMs: number };
  const sample = await cli(sampleFile);
  check('new path, sample', sample, { rows: SAMPLE, accepted: SAMPLE - sampleShape.invalid - sampleShape.duplicate, duplicate: sampleShape.duplicate, invalid: sampleShape.invalid });
  const full = await cli(fullFile);
  const fullSummary = check('new path, full', full, { rows: ROWS, accepted: ROWS - fullShape.invalid - fullShape.duplicate, duplicate: fullShape.duplicate, invalid: fullShape.invalid });
  const again = await cli(fullFile);
  check('new path, again', again, { rows: ROWS, accepted: 0, unchanged: ROWS - fullShape.invalid - fullShape.duplicate, duplicate: fullShape.duplicate, invalid: fullShape.invalid });
  // The same import in a 64 MB V8 heap: what the import itself needs (V8 grows its heap lazily when memory is plentiful).
  const capped = await cli(cappedFile, ['--max-old-space-size=64']);
  check('new path, 64 MB heap', capped, { rows: ROWS, accepted: ROWS - fullShape.invalid - fullShape.duplicate });
  // What the emulator takes of the same writes with no import around them (bench/import-raw-writes-child.ts),
  // on a fresh emulator of the same profile: DynamoDB Local gets slower as its table and stream
  // grow, so the main one, after four imports, would understate it. Warmed with SAMPLE x 2 rows
  // first, as the full import comes after the baseline and the sample.
  await dynamo.stop();
  const fresh = await emulator(JIT, 'raw');
  const rawWrites = async (mode: 'transact' | 'batch', rows: number) => {
    const r = await run([join(PROJECT_ROOT, 'bench', 'import-raw-writes-child.ts'), mode, String(rows), CONCURRENCY, fresh.dynamo.endpoint, fresh.table, region]);
    return { run: r, out: JSON.parse(r.stdout) as { rows: number; elapsedMs: number; bytesPerItem: number } };
  };
  let rawTransact: Awaited<ReturnType<typeof rawWrites>>;
  let rawBatch: Awaited<ReturnType<typeof rawWrites>>;
  try {
    await rawWrites('transact', SAMPLE * 2);
    rawTransact = await rawWrites('transact', ROWS);
    rawBatch = await rawWrites('batch', ROWS);
  } finally {
    await fresh.dynamo.stop();
  }
  let other: { run: Run; startMs: number } | undefined;
  if (COMPARE_JIT) {
    const second = await emulator(OTHER_JIT, 'other');
    try {
      const otherFile = join(work, 'other.csv');
      await writeCsv(otherFile, 'other', ROWS);
      const r = await cli(otherFile, [], second.stateFile);
      check(`new path, ${OTHER_JIT} emulator`, r, { rows: ROWS, accepted: ROWS - fullShape.invalid - fullShape.duplicate });
      other = { run: r, startMs: second.startMs };
    } finally {
      await second.dynamo.stop();
    }
  }
  const progressLines = full.stderr.split('\n').filter((l) => l.startsWith('import: ')).length;

  const rate = (rows: number, ms: number) => fmt(rows / (ms / 1000));
  console.log('');
  console.log('case                                   rows      wall s   rows/s   peak RSS MB   CPU s (this process)');
  const row = (label: string, rows: number, r: Run) =>
    console.log(`${label.padEnd(36)} ${fmt(rows).padStart(8)} ${(r.ms / 1000).toFixed(1).padStart(10)} ${rate(rows, r.ms).padStart(8)} ${r.maxRssMb.toFixed(0).padStart(12)} ${(r.cpuMs / 1000).toFixed(1).padStart(10)}`);
  row('baseline (read all, update per row)', baseOut.rows, base);
  row('new, same sample', SAMPLE, sample);
  row('new, full file', ROWS, full);
  row('new, full file again (all unchanged)', ROWS, again);
  row('new, other full file, 64 MB V8 heap', ROWS, capped);
  if (other) row(`new, other full file, ${OTHER_JIT} JVM`, ROWS, other.run);
  console.log('');
  console.log(`baseline in-process: ${fmt(baseOut.accepted)} rows written in ${(baseOut.elapsedMs / 1000).toFixed(1)} s = ${rate(baseOut.accepted, baseOut.elapsedMs)} rows/s (start-up excluded)`);
  console.log(`new path in-process (its own summary): ${fmt(fullSummary.rowsPerSecond ?? 0)} rows/s over ${((fullSummary.elapsedMs ?? 0) / 1000).toFixed(1)} s; ${progressLines} plain progress lines on stderr (not a TTY)`);
  console.log(`DynamoDB Local start-up (until it answers ListTables): ${JIT} ${(main.startMs / 1000).toFixed(1)} s${other ? `, ${OTHER_JIT} ${(other.startMs / 1000).toFixed(1)} s` : ''}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
  const inImport = fullSummary.rowsPerSecond ?? 0;
  const rawRate = rawTransact.out.rows / (rawTransact.out.elapsedMs / 1000);
  console.log(
    `raw writes, the same ${fmt(ROWS)} items with no import around them (fresh emulator, ${rawTransact.out.bytesPerItem} B items, ${CONCURRENCY} requests in flight, writes timed only): conditional TransactWriteItems x100 ${fmt(rawRate)} rows/s` +
      ` (the import in-process: ${fmt(inImport)}); unconditional BatchWriteItem x25 ${rate(rawBatch.out.rows, rawBatch.out.elapsedMs)} rows/s (not used: it would overwrite a concurrent writer)`,
  );
  console.log(`speed-up at the same size: ${(SAMPLE / sample.ms / (baseOut.rows / base.ms)).toFixed(1)}x wall clock`);
} finally {
  await dynamo.stop();
}
