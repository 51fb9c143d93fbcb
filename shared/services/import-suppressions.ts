/**
 * `mailbridge suppressions import`: a provider's suppression list, streamed into the store.
 *
 * - Reading (`readImportLines`): the file is split into lines as it streams (a line longer
 *   than `maxLineLength` is rejected without being held), the format is detected from its
 *   first non-empty line unless given, and each line goes through the row rules of
 *   shared/domain/suppression-import.ts. Memory does not grow with the file: what the import
 *   keeps per row is one 53-bit digest of (address, scope) for duplicate detection (~40 bytes).
 * - Writing (`importSuppressions`): rows go in chunks of `chunkSize` (100) to `concurrency`
 *   (4) requests in flight, each chunk one `store.updateMany`: one BatchGetItem, the
 *   decisions folded in memory, one TransactWriteItems whose every Put is conditional as a
 *   single update's is (`attribute_not_exists(pk)` for a brand-new address, the version read
 *   otherwise); if anyone wrote one of those addresses meanwhile, nothing was written and the
 *   chunk goes row by row through the usual read-decide-write. While chunks turn out all new,
 *   the read is skipped (every put conditional on absence; one that exists refuses the
 *   transaction and the chunk goes the read way). The decision is the same
 *   `applyManualSuppression` the CLI and API use, so the record is the same. (Measured on
 *   DynamoDB Local: per-request cost dominates, a PutItem per row tops out near 400-550/s on
 *   the loaded 2-vCPU machine whatever the concurrency; 100 rows per request lift that.)
 * - Counting: `accepted` (a scope added), `unchanged` (the store already had it: this row was
 *   imported before, e.g. by an interrupted run, or the address is already suppressed there),
 *   `duplicate` (the same address and scope earlier in the file: judged once every row before
 *   it is written, so the later line is the duplicate), `invalid` (with why). The
 *   summary keeps the first line numbers of each rejected kind; every rejected row goes to
 *   `onRejected` (the CLI writes them to a file).
 * - A store error stops the import: rows in flight finish, nothing more is read, and
 *   `ImportInterruptedError` carries the summary so far. Running it again is safe: rows
 *   already imported count as unchanged.
 */
import {
  detectFormat,
  importKey,
  importLineParser,
  rowDigest,
  rowKey,
  type ImportFormat,
  type ImportOrigin,
  type ImportRow,
  type LineResult,
} from '../domain/suppression-import.ts';
import { applyManualSuppression, DEFAULT_POLICY, manualScopeKey, type AddressState, type Decision, type PolicyConfig } from '../domain/suppression-policy.ts';
import type { BulkSuppressionStore } from '../ports/suppression-store.ts';

export class ImportInterruptedError extends Error {
  override name = 'ImportInterruptedError';
  constructor(
    message: string,
    readonly summary: ImportSummary,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/** A file stream (node:fs ReadStream), or any chunks of text. */
export type ImportInput = AsyncIterable<string | Buffer> | Iterable<string | Buffer>;

/** One non-empty line of the file and what the row rules make of it. */
export interface ReadLine {
  line: number;
  raw: string;
  result: Exclude<LineResult, { skip: true }>;
}

/** Non-empty lines, numbered from 1; a too-long line is reported by its number and a prefix, never held whole. */
async function* splitLines(input: ImportInput, maxLength: number): AsyncGenerator<{ line: number; text: string; tooLong: boolean }> {
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  let tooLong = false;
  let lineNo = 0;
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const piece = text.slice(start, nl < 0 ? undefined : nl);
      if (!tooLong) {
        partial += piece;
        if (partial.length > maxLength) {
          tooLong = true;
          partial = partial.slice(0, 200);
        }
      }
      if (nl < 0) break;
      lineNo++;
      const line = partial.endsWith('\r') ? partial.slice(0, -1) : partial;
      if (tooLong || line.trim() !== '') yield { line: lineNo, text: line, tooLong };
      partial = '';
      tooLong = false;
      start = nl + 1;
    }
  }
  partial += decoder.decode();
  if (partial !== '' || tooLong) {
    lineNo++;
    const line = partial.endsWith('\r') ? partial.slice(0, -1) : partial;
    if (tooLong || line.trim() !== '') yield { line: lineNo, text: line, tooLong };
  }
}

/**
 * Lines of an import file with their verdicts. `onFormat` learns the format once the first
 * line has been seen (detected there unless `format` is given).
 */
export async function* readImportLines(
  input: ImportInput,
  options: { format?: ImportFormat | undefined; maxLineLength?: number; onFormat?: (format: ImportFormat) => void } = {},
): AsyncGenerator<ReadLine> {
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  let parse: ((line: string) => LineResult) | undefined;
  for await (const { line, text, tooLong } of splitLines(input, maxLength)) {
    const clean = line === 1 || !parse ? text.replace(/^\uFEFF/, '') : text;
    if (!parse) {
      if (tooLong) {
        yield { line, raw: clean, result: { invalid: `line longer than ${maxLength} characters` } };
        continue;
      }
      const format = options.format ?? detectFormat(clean);
      options.onFormat?.(format);
      parse = importLineParser(format);
    }
    if (tooLong) {
      yield { line, raw: clean, result: { invalid: `line longer than ${maxLength} characters` } };
      continue;
    }
    const result = parse(clean);
    if ('skip' in result) continue;
    yield { line, raw: clean, result };
  }
}

type RejectedKind = 'invalid' | 'duplicate';

export interface RejectedRecord {
  line: number;
  kind: RejectedKind;
  reason: string;
  /** The line as it was in the file (cut to 200 characters when it was too long). */
  raw: string;
}

export interface ImportSummary {
  format: ImportFormat | null;
  origin: ImportOrigin | null;
  /** Rows read (non-empty lines other than a header). */
  rows: number;
  accepted: number;
  unchanged: number;
  /** Of the unchanged rows: imported before (same row, an earlier run) / already suppressed there by other means. */
  unchangedDetail: { alreadyImported: number; alreadySuppressed: number };
  duplicate: number;
  invalid: number;
  firstDuplicates: Array<{ line: number; firstLine: number }>;
  firstInvalid: Array<{ line: number; reason: string }>;
  /** Rows settled per second over the run (wall clock, reading included). */
  rowsPerSecond: number;
  elapsedMs: number;
}

export interface ImportDeps {
  store: BulkSuppressionStore;
  now: () => string;
  policy?: PolicyConfig | undefined;
}

export interface ImportOptions {
  /** Set when the format is given (else detected from the first line). */
  format?: ImportFormat | undefined;
  /** Overrides defaultImportOrigin(format); `null` = no origin. */
  origin?: ImportOrigin | null | undefined;
  /** Workers writing at once (each one request in flight). */
  concurrency?: number;
  /** Rows a worker reads in one BatchGetItem (≤ 100). */
  chunkSize?: number;
  /** How many line numbers of each rejected kind the summary keeps. */
  firstLines?: number;
  maxLineLength?: number;
  onRejected?: (rejected: RejectedRecord) => void | Promise<void>;
  /** Called after each chunk is written. */
  onProgress?: (summary: Readonly<ImportSummary>) => void;
  /** The origin a format implies when none is given. */
  defaultOrigin?: (format: ImportFormat) => ImportOrigin | undefined;
}

interface PendingRow extends ImportRow {
  raw: string;
  /** An earlier row of the file had the same digest (first line): a duplicate unless the store says otherwise. */
  suspectedDuplicateOf?: number | undefined;
}

function emptySummary(): ImportSummary {
  return {
    format: null,
    origin: null,
    rows: 0,
    accepted: 0,
    unchanged: 0,
    unchangedDetail: { alreadyImported: 0, alreadySuppressed: 0 },
    duplicate: 0,
    invalid: 0,
    firstDuplicates: [],
    firstInvalid: [],
    rowsPerSecond: 0,
    elapsedMs: 0,
  };
}

export async function importSuppressions(deps: ImportDeps, input: ImportInput, options: ImportOptions = {}): Promise<ImportSummary> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const chunkSize = Math.min(100, Math.max(1, options.chunkSize ?? 100));
  const firstLines = options.firstLines ?? 20;
  const policy = deps.policy ?? DEFAULT_POLICY;
  const summary = emptySummary();
  const started = performance.now();
  const seen = new Map<number, number>();
  const active = new Set<Promise<void>>();
  let failure: unknown;
  const runAt = deps.now();

  const timing = () => {
    summary.elapsedMs = Math.round(performance.now() - started);
    const done = summary.accepted + summary.unchanged + summary.duplicate + summary.invalid;
    summary.rowsPerSecond = Math.round(done / Math.max(0.001, summary.elapsedMs / 1000));
  };

  const reject = async (r: RejectedRecord) => {
    if (r.kind === 'invalid') {
      summary.invalid++;
      if (summary.firstInvalid.length < firstLines) summary.firstInvalid.push({ line: r.line, reason: r.reason });
    } else summary.duplicate++;
    await options.onRejected?.(r);
  };

  const decideFor = (row: PendingRow) => (current: AddressState | undefined): Decision => {
    // A suspected duplicate changes nothing when its scope is already held (whatever the reason):
    // the file said it twice. Only a digest collision (scope not held) is written as a new row.
    if (row.suspectedDuplicateOf !== undefined && current?.suppressions.some((s) => s.scope === manualScopeKey(row.reason, row.scope))) {
      return { outcome: 'duplicate', added: [], why: 'same address and scope earlier in the file' };
    }
    return applyManualSuppression(
      current,
      { email: row.email, reason: row.reason, scope: row.scope, at: row.at ?? runAt, source: 'import', key: importKey(row, summary.origin ?? undefined) },
      policy,
    );
  };

  // A fresh import is mostly new addresses: write them without reading first (one request per
  // chunk instead of two). When a chunk shows addresses exist (a re-run, an overlap with the
  // store), read first until a chunk is all new again.
  let assumeNew = true;
  const writeChunk = async (rows: PendingRow[], held = false) => {
    const result = await deps.store.updateMany(
      rows.map((row) => ({ email: row.email, decide: decideFor(row) })),
      { assumeNew: assumeNew && !held },
    );
    if (!held) assumeNew = result.path === 'assumed-new' || result.existing === 0;
    const decisions = result.decisions;
    for (const [i, row] of rows.entries()) {
      const decision = decisions[i] as Decision;
      if (decision.outcome === 'suppressed') summary.accepted++;
      else if (row.suspectedDuplicateOf !== undefined) {
        await reject({ line: row.line, kind: 'duplicate', reason: `same address and scope as line ${row.suspectedDuplicateOf}`, raw: row.raw });
        if (summary.firstDuplicates.length < firstLines) summary.firstDuplicates.push({ line: row.line, firstLine: row.suspectedDuplicateOf });
      } else {
        summary.unchanged++;
        summary.unchangedDetail[decision.outcome === 'duplicate' ? 'alreadyImported' : 'alreadySuppressed']++;
      }
    }
    timing();
    options.onProgress?.(summary);
  };

  const launch = (rows: PendingRow[], held = false) => {
    const p: Promise<void> = writeChunk(rows, held).then(
      () => {
        active.delete(p);
      },
      (error: unknown) => {
        active.delete(p);
        failure ??= error;
      },
    );
    active.add(p);
  };

  const settled = async () => {
    while (active.size > 0) await Promise.race(active);
  };
  const slot = async () => {
    while (active.size >= concurrency) await Promise.race(active);
  };
  // A suspected duplicate waits until every row before it is written, so it is judged against
  // its first occurrence's write, never races it (that would count the wrong line as the duplicate).
  // Held rows are few in a normal file; at most one chunk of them is held at a time.
  let chunk: PendingRow[] = [];
  let held: PendingRow[] = [];
  const flushHeld = async () => {
    if (chunk.length > 0) {
      await slot();
      launch(chunk);
      chunk = [];
    }
    await settled();
    if (failure === undefined && held.length > 0) launch(held, true);
    held = [];
  };
  for await (const { line, raw, result } of readImportLines(input, {
    format: options.format,
    maxLineLength: options.maxLineLength,
    onFormat: (format) => {
      summary.format = format;
      const origin = options.origin === undefined ? (options.defaultOrigin?.(format) ?? undefined) : options.origin;
      summary.origin = origin ?? null;
    },
  })) {
    if (failure !== undefined) break;
    summary.rows++;
    if ('invalid' in result) {
      await reject({ line, kind: 'invalid', reason: result.invalid, raw });
      continue;
    }
    const digest = rowDigest(rowKey(result.row));
    const firstLine = seen.get(digest);
    if (firstLine === undefined) {
      seen.set(digest, line);
      chunk.push({ line, ...result.row, raw });
    } else {
      held.push({ line, ...result.row, raw, suspectedDuplicateOf: firstLine });
      if (held.length >= chunkSize) await flushHeld();
    }
    if (chunk.length >= chunkSize) {
      await slot();
      if (failure !== undefined) break;
      launch(chunk);
      chunk = [];
    }
  }
  if (failure === undefined) await flushHeld();
  await settled();
  timing();
  if (failure !== undefined) {
    throw new ImportInterruptedError(`import stopped after a store error: ${failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)}`, summary, failure);
  }
  return summary;
}
