/**
 * How a long import shows itself: a cli-progress bar on a terminal (rows done, rows/s, ETA
 * from the bytes read), a plain line every `everyMs` when stderr is a pipe or a log file.
 * Both on stderr, so stdout stays the JSON summary.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import cliProgress from 'cli-progress';
import { spreadsheetCsvField } from '../../shared/domain/suppression-import.ts';
import type { ImportSummary, RejectedRecord } from '../../shared/services/import-suppressions.ts';

export interface ProgressReporter {
  update(summary: Readonly<ImportSummary>): void;
  stop(): void;
}

const done = (s: Readonly<ImportSummary>) => s.accepted + s.unchanged + s.duplicate + s.invalid;

export function progressReporter(opts: { totalBytes: number; bytesRead: () => number; tty: boolean; everyMs?: number; out?: NodeJS.WritableStream }): ProgressReporter {
  const out = opts.out ?? process.stderr;
  let latest: Readonly<ImportSummary> | undefined;
  const started = Date.now();
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: 'import {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
        fps: 5,
        etaBuffer: 40,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, opts.totalBytes), 0, { rows: 0, rate: 0 });
    return {
      update(summary) {
        bar.update(Math.min(opts.totalBytes, opts.bytesRead()), { rows: done(summary).toLocaleString('en-US'), rate: summary.rowsPerSecond.toLocaleString('en-US') });
      },
      stop() {
        bar.update(Math.max(1, opts.totalBytes));
        bar.stop();
      },
    };
  }
  const line = () => {
    if (!latest) return;
    const pct = opts.totalBytes > 0 ? Math.min(100, Math.floor((opts.bytesRead() / opts.totalBytes) * 100)) : 100;
    const rate = latest.rowsPerSecond;
    const elapsed = (Date.now() - started) / 1000;
    const eta = pct > 0 && pct < 100 ? Math.round((elapsed / pct) * (100 - pct)) : 0;
    out.write(`import: ${done(latest).toLocaleString('en-US')} rows (${pct}% of the file), ${rate.toLocaleString('en-US')} rows/s, ETA ${eta} s\n`);
  };
  const timer = setInterval(line, opts.everyMs ?? 10_000);
  timer.unref();
  return {
    update(summary) {
      latest = summary;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Every rejected row to a CSV (`line,kind,reason,row`), created on the first one; cells made safe for spreadsheets. */
export function rejectsWriter(path: string): { write(r: RejectedRecord): Promise<void>; close(): Promise<number> } {
  let stream: WriteStream | undefined;
  let count = 0;
  const put = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const s = (stream ??= createWriteStream(path));
      const ok = s.write(text, (error) => (error ? reject(error) : undefined));
      if (ok) resolve();
      else s.once('drain', resolve);
    });
  return {
    async write(r) {
      if (count++ === 0) await put('line,kind,reason,row\n');
      await put(`${r.line},${r.kind},${spreadsheetCsvField(r.reason)},${spreadsheetCsvField(r.raw)}\n`);
    },
    close: () =>
      new Promise<number>((resolve, reject) => {
        if (!stream) return resolve(0);
        stream.end((error?: Error | null) => (error ? reject(error) : resolve(count)));
      }),
  };
}
