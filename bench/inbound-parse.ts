/**
 * Inbound parse: throughput (MB/s) and peak RSS for messages of 1, 10 and 40 MB, our
 * streaming path next to mailparser's simpleParser, then per-attachment recognition time
 * (bench/invoice-recognition.ts).
 *
 *   npm run bench:inbound      (SIZES=1,10,40 RUNS=3 WARM_MB=40 RECOGNITION_RUNS=100 WORST_CASE=0|1)
 *
 * Each message is a supplier's mail as the pipeline sees them: a Factur-X PDF, an XRechnung
 * UBL XML and a plain text PDF invoice (all recognised), plus scans (random bytes behind a
 * JPEG header, base64) filling it up to the size. MB = 2^20 bytes of raw message. One more
 * 40 MB message, outside the goals, shows the worst case for memory: its scans are PDFs, so
 * each is a recognition candidate (buffered, up to INBOUND_MAX_CANDIDATE_BYTES, and opened).
 *
 * Every case runs in a fresh node process (bench/inbound-parse-child.ts, bundled with esbuild
 * as serverless-esbuild bundles the Lambda), so its peak RSS is its own: `peak RSS` is
 * process.resourceUsage().maxRSS after the first parse in that process (the whole process,
 * node included, as Lambda's "Max Memory Used" counts it). Throughput is raw message bytes
 * over the median elapsed time of the warm runs (after the first; the cold first run is shown
 * too: it includes loading pdf.js). Small messages get more warm runs, so every size is
 * measured after a similar amount of work.
 * Goals (issue 5): peak RSS < 160 MB at 40 MB, >= 40 MB/s.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildParseChild, runParseChild } from './inbound-child-runner.ts';
import { buildMail, type MimePart } from '../test/fixtures/inbound/mime.ts';
import { buildMinimalPdf } from '../test/fixtures/invoices/minimal-pdf.ts';
import { renderSampleInvoice } from '../test/fixtures/invoices/sample-e-invoice.ts';
import { machine } from './machine.ts';

const MiB = 1024 * 1024;
const SIZES = (process.env.SIZES ?? '1,10,40').split(',').map(Number);
/** Warm runs per case: at least RUNS, and at least WARM_MB of message in total (so 1 MB gets as much warm-up as 40 MB). */
const RUNS = Number(process.env.RUNS ?? 3);
const WARM_MB = Number(process.env.WARM_MB ?? 40);
const RECOGNITION_RUNS = Number(process.env.RECOGNITION_RUNS ?? 100);
/** WORST_CASE=0 leaves out the 40 MB message whose scans are all PDFs. */
const WORST_CASE = process.env.WORST_CASE !== '0';
const PARSERS = ['mailbridge', 'mailbridge-parse', 'simpleParser'] as const;
const GOAL_RSS_MB = 160;
const GOAL_MBPS = 40;

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'mailbridge-bench-inbound-'));

/** Length of `bytes` base64-encoded in 76-character CRLF lines, as buildMail writes it. */
const encodedLength = (bytes: number): number => {
  const b64 = 4 * Math.ceil(bytes / 3);
  return b64 + 2 * Math.max(0, Math.ceil(b64 / 76) - 1);
};

type ScanKind = 'jpeg' | 'pdf';

/** A scan of about `bytes`: random bytes behind a JPEG header, or that JPEG inside a one-page PDF. */
function scan(bytes: number, kind: ScanKind, n: number): MimePart {
  const jpeg = randomBytes(bytes);
  jpeg.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]);
  if (kind === 'jpeg') return { contentType: 'image/jpeg', filename: `beleg-${n}.jpg`, body: jpeg };
  const pdf = buildMinimalPdf({ pages: [[`Beleg ${n}`]], attachments: [{ name: `beleg-${n}.jpg`, bytes: jpeg, mimeType: 'image/jpeg' }] });
  return { contentType: 'application/pdf', filename: `beleg-${n}.pdf`, body: pdf };
}

async function invoiceParts(): Promise<MimePart[]> {
  const plain = buildMinimalPdf({
    pages: [
      ['Nordlicht Design GmbH · Hafenstraße 12 · 20457 Hamburg', 'Rechnung', 'Rechnungsnummer: RE-2024-0042', 'Rechnungsdatum: 12.02.2024', 'Gesamtbetrag 1.190,00 €', 'IBAN DE02 1203 0000 0000 2020 51'],
    ],
  });
  return [
    { contentType: 'application/pdf', filename: 'Rechnung FX-2024-0815.pdf', body: await renderSampleInvoice('Factur-X-EN16931') },
    { contentType: 'application/xml', filename: 'xrechnung.xml', body: await renderSampleInvoice('XRECHNUNG-UBL') },
    { contentType: 'application/pdf', filename: 'RE-2024-0042.pdf', body: plain },
  ];
}

/** A message of about `mib` MiB: the invoices, then scans of at most 8 MiB each up to the size. */
function message(mib: number, invoices: MimePart[], kind: ScanKind): string {
  const base = buildMail({ subject: `Rechnungen und Belege (${mib} MB)`, parts: invoices }).length;
  const partOverhead = 200;
  let remaining = mib * MiB - base;
  const scans: MimePart[] = [];
  for (let n = 1; remaining > partOverhead + 1000; n++) {
    const encoded = Math.min(remaining - partOverhead, encodedLength(8 * MiB));
    // Invert encodedLength (approximately; the last bytes do not matter).
    const bytes = Math.floor((encoded * 3 * 76) / (4 * 78));
    scans.push(scan(bytes, kind, n));
    remaining -= encodedLength(bytes) + partOverhead;
  }
  return buildMail({ subject: `Rechnungen und Belege (${mib} MB)`, parts: [...invoices, ...scans] });
}


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

try {
  // The child as the Lambda runs it: one esbuild bundle (serverless.yml's custom.esbuild options).
  const bundle = await buildParseChild(work);

  console.log(
    `inbound parse: each case in a fresh process: 1 cold run, then max(${RUNS}, ${WARM_MB} MB / size) warm runs; ${machine()}`,
  );
  console.log('message: Factur-X PDF + XRechnung UBL + plain PDF invoice, base64 JPEG scans up to the size; MB = 2^20 bytes');
  console.log(
    ['size', 'parser'.padEnd(17), 'bytes'.padStart(9), 'MB/s'.padStart(7), 'cold MB/s'.padStart(10), 'peak RSS MB'.padStart(12), 'RSS before'.padStart(11), 'atts'.padStart(5), 'invoices'.padStart(9)].join(' '),
  );
  const invoices = await invoiceParts();
  const verdicts: string[] = [];
  const cases: Array<{ mib: number; kind: ScanKind }> = [...SIZES.map((mib) => ({ mib, kind: 'jpeg' as const })), ...(WORST_CASE ? [{ mib: 40, kind: 'pdf' as const }] : [])];
  for (const { mib, kind } of cases) {
    const file = join(work, `message-${mib}mb-${kind}.eml`);
    writeFileSync(file, message(mib, invoices, kind));
    if (kind === 'pdf') console.log('worst case: the scans are PDFs (a JPEG inside each), so every one is a recognition candidate: buffered and opened by pdf.js');
    for (const parser of PARSERS) {
      const r = runParseChild(bundle, parser, file, 1 + Math.max(RUNS, Math.ceil(WARM_MB / mib)));
      const mb = r.bytes / MiB;
      const warm = median(r.elapsedMs.slice(1));
      const mbps = mb / (warm / 1000);
      const coldMbps = mb / ((r.elapsedMs[0] ?? NaN) / 1000);
      const peakMb = r.firstRunMaxRssKiB / 1024;
      console.log(
        [
          `${mib} MB`.padStart(5),
          parser.padEnd(17),
          String(r.bytes).padStart(9),
          mbps.toFixed(1).padStart(7),
          coldMbps.toFixed(1).padStart(10),
          peakMb.toFixed(1).padStart(12),
          (r.rssBeforeKiB / 1024).toFixed(1).padStart(11),
          String(r.attachments).padStart(5),
          String(r.invoices).padStart(9),
        ].join(' ') + (r.problems.length > 0 ? `  problems: ${r.problems.join(',')}` : ''),
      );
      if (parser === 'mailbridge' && kind === 'jpeg') {
        if (r.invoices !== 3) verdicts.push(`${mib} MB: expected 3 invoices, got ${r.invoices}`);
        if (mbps < GOAL_MBPS) verdicts.push(`${mib} MB: ${mbps.toFixed(1)} MB/s is below the ${GOAL_MBPS} MB/s goal`);
        if (mib === 40 && peakMb >= GOAL_RSS_MB) verdicts.push(`40 MB: peak RSS ${peakMb.toFixed(1)} MB is not under ${GOAL_RSS_MB} MB`);
      }
    }
  }
  console.log(
    verdicts.length === 0
      ? SIZES.includes(40)
        ? `goals met (mailbridge, JPEG-scan messages): peak RSS < ${GOAL_RSS_MB} MB at 40 MB, >= ${GOAL_MBPS} MB/s warm at every size`
        : `throughput goal met (>= ${GOAL_MBPS} MB/s warm at every size); the memory goal is about 40 MB, which this run left out`
      : `goals missed: ${verdicts.join('; ')}`,
  );

  console.log('');
  const recognition = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', join(root, 'bench', 'invoice-recognition.ts'), String(RECOGNITION_RUNS)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(recognition.stdout);
  if (recognition.status !== 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
