/**
 * Hostile inbound mail: the offline parser's time and peak RSS on each attack of issue 9,
 * next to ordinary invoice mails measured in the same run (the baseline).
 *
 *   npm run bench:inbound-hostile      (SCALE=1: the sizes of the issue; SCALE=0.1 for a quick look)
 *
 * Every case is written to an .eml file and parsed once in a fresh node process running the
 * esbuild bundle of bench/inbound-parse-child.ts (what inbound-parse runs: parse, recognition,
 * budgets; attachments streamed to a sink that drops them), so each peak RSS is that case's
 * own: process.resourceUsage().maxRSS, the whole process as Lambda's "Max Memory Used" counts
 * it (an idle node process with the bundle loaded is ~70 MB of it). Time is one cold run
 * (pdf.js loading included, as for the first message of a fresh function).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildParseChild, runParseChild } from './inbound-child-runner.ts';
import {
  foldedSubject,
  genuineInvoicePart,
  longFilenamePart,
  mailWith,
  namedParts,
  pdfEmbeddedFileBomb,
  pdfLongDigitLines,
  pdfSharedContentStream,
  rawMultipartMail,
  rawPart,
  xmlManyEmptyElements,
  xmlNamespacePerElement,
  xrechnungWithNumber,
} from '../test/fixtures/inbound/hostile.ts';
import { facturXMail, plainPdfMail } from '../test/fixtures/inbound/mails.ts';
import { machine } from './machine.ts';

const SCALE = Number(process.env.SCALE ?? 1);
const n = (value: number) => Math.max(1, Math.round(value * SCALE));
const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'mailbridge-bench-hostile-'));

interface Case {
  name: string;
  baseline?: boolean;
  mail: () => Promise<string>;
}

const pdf = (filename: string, body: Uint8Array) => ({ contentType: 'application/pdf', filename, body });
const xml = (filename: string, body: Uint8Array) => ({ contentType: 'application/xml', filename, body });

const CASES: Case[] = [
  { name: 'baseline: Factur-X mail', baseline: true, mail: () => facturXMail() },
  { name: 'baseline: plain-text PDF mail', baseline: true, mail: async () => plainPdfMail() },
  { name: `PDF embedded-file bomb (${n(1024)} MiB of zeros)`, mail: () => mailWith([pdf('bomb.pdf', pdfEmbeddedFileBomb(n(1024) * MiB))]) },
  { name: `20 pages sharing one content stream (${n(200_000)} runs)`, mail: () => mailWith([pdf('katalog.pdf', pdfSharedContentStream(20, n(200_000)))]) },
  { name: `XML, every element declares a namespace (${n(10_000)})`, mail: () => mailWith([xml('ns.xml', xmlNamespacePerElement(n(10_000)))]) },
  { name: `XML, every element declares a namespace (${n(15_000)}, ~1.75 MB mail)`, mail: () => mailWith([xml('ns.xml', xmlNamespacePerElement(n(15_000)))]) },
  { name: `XML, ${n(2_500_000)} empty elements`, mail: () => mailWith([xml('empty.xml', xmlManyEmptyElements(n(2_500_000)))]) },
  { name: `PDF, 4 lines of ${n(50_000)} digit groups (1 pt font)`, mail: () => mailWith([pdf('digits.pdf', pdfLongDigitLines(4, n(50_000)))]) },
  { name: `folded subject of ${n(600)} KB`, mail: async () => rawMultipartMail([rawPart(await genuineInvoicePart())], foldedSubject(n(600_000))) },
  { name: `RFC 2231 file name of ${n(300)} KB`, mail: async () => rawMultipartMail([rawPart(await genuineInvoicePart()), longFilenamePart(n(300_000)).raw]) },
  { name: `${n(900)} named parts`, mail: () => mailWith(namedParts(n(900))) },
  { name: '3,000-digit invoice number', mail: async () => mailWith([xml('long.xml', await xrechnungWithNumber('9'.repeat(3000)))]) },
];

try {
  const bundle = await buildParseChild(work);
  console.log(
    `inbound hostile mail: one cold parse per case in a fresh process; ${machine()}, SCALE=${SCALE}`,
  );
  console.log(['case'.padEnd(58), 'mail bytes'.padStart(11), 'time ms'.padStart(8), 'peak RSS MB'.padStart(12), 'invoices'.padStart(9), '  problems'].join(' '));
  let worstMs = 0;
  let worstRss = 0;
  let worstMsCase = '';
  let worstRssCase = '';
  for (const c of CASES) {
    const file = join(work, 'case.eml');
    writeFileSync(file, await c.mail());
    const r = runParseChild(bundle, 'mailbridge', file, 1);
    const ms = r.elapsedMs[0] ?? NaN;
    const rss = r.firstRunMaxRssKiB / 1024;
    console.log(
      [c.name.padEnd(58), String(r.bytes).padStart(11), ms.toFixed(0).padStart(8), rss.toFixed(1).padStart(12), String(r.invoices).padStart(9), `  ${[...new Set(r.problems)].join(',') || '-'}`].join(' '),
    );
    if (!c.baseline && ms > worstMs) [worstMs, worstMsCase] = [ms, c.name];
    if (!c.baseline && rss > worstRss) [worstRss, worstRssCase] = [rss, c.name];
  }
  console.log(`worst time over the hostile inputs: ${worstMs.toFixed(0)} ms (${worstMsCase}); worst peak RSS: ${worstRss.toFixed(1)} MB (${worstRssCase})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
