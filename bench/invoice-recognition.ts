/**
 * Per-attachment recognition time for each input kind the mail pipeline sees, then accuracy
 * and calibration on the generated evaluation corpus.
 * Run: npm run bench:recognition -- [runs=200] [plainPdfs=400] [eInvoices=10]
 *
 * Inputs are generated in-process (an @e-invoice-eu/core rendering of one sample invoice
 * and a hand-written text PDF), so the bench needs no corpus and measures only
 * recogniseAttachment. Each kind gets warm-up runs first, so pdf.js loading and JIT
 * warm-up do not land in the figures; the cold first call is reported separately.
 */
import { recogniseAttachment } from '../shared/domain/invoice/recognise-attachment.ts';
import { buildMinimalPdf } from '../test/fixtures/invoices/minimal-pdf.ts';
import { renderSampleInvoice } from '../test/fixtures/invoices/sample-e-invoice.ts';
import { generatePlainPdfCorpus } from '../test/fixtures/invoices/plain-pdf-corpus.ts';
import { generateEInvoiceCorpus } from '../test/fixtures/invoices/e-invoice-corpus.ts';
import { emptyScore, formatScore, scoreDocument } from '../test/fixtures/invoices/evaluate-recognition.ts';
import { openPdf } from '../shared/domain/invoice/pdf-document.ts';
import { layoutFromPages } from '../shared/domain/invoice/pdf-layout.ts';
import { RecognitionBudget } from '../shared/domain/invoice/budget.ts';
import { recogniseInvoiceText } from '../shared/domain/invoice/pdf-text-heuristics.ts';

const runs = Number(process.argv[2] ?? 200);
const plainPdfCount = Number(process.argv[3] ?? 400);
const eInvoiceCount = Number(process.argv[4] ?? 10);
const WARM_UP = 20;

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function timeOnce(bytes: Uint8Array): Promise<number> {
  const started = performance.now();
  const result = await recogniseAttachment({ bytes });
  const elapsed = performance.now() - started;
  if (result.invoices.length !== 1) throw new Error(`bench input not recognised: ${JSON.stringify(result.problems)}`);
  return elapsed;
}

const plainPdf = buildMinimalPdf({
  pages: [
    [
      'Nordlicht Design GmbH · Hafenstraße 12 · 20457 Hamburg',
      'Rechnung',
      'Rechnungsnummer: RE-2024-0042',
      'Rechnungsdatum: 12.02.2024',
      '1 Webdesign 10 100,00 € 1.000,00 €',
      'Nettobetrag 1.000,00 €',
      'zzgl. 19% USt. 190,00 €',
      'Gesamtbetrag 1.190,00 €',
      'Zahlbar bis 13.03.2024 ohne Abzug.',
      'IBAN DE02 1203 0000 0000 2020 51 BIC BYLADEM1001',
      'USt-IdNr.: DE 987654321',
    ],
  ],
});

const inputs: Array<[string, Uint8Array]> = [
  ['UBL XML (XRechnung)', await renderSampleInvoice('XRECHNUNG-UBL')],
  ['CII XML (XRechnung)', await renderSampleInvoice('XRECHNUNG-CII')],
  ['Factur-X PDF (EN 16931)', await renderSampleInvoice('Factur-X-EN16931')],
  ['plain text PDF', plainPdf],
];

console.log(`invoice recognition, ${runs} runs per input after ${WARM_UP} warm-up runs (node ${process.version})`);
console.log(['input'.padEnd(26), 'bytes'.padStart(7), 'cold ms'.padStart(9), 'median ms'.padStart(10), 'p95 ms'.padStart(8)].join(' '));
for (const [label, bytes] of inputs) {
  const cold = await timeOnce(bytes);
  for (let i = 0; i < WARM_UP; i++) await timeOnce(bytes);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await timeOnce(bytes));
  samples.sort((a, b) => a - b);
  console.log(
    [
      label.padEnd(26),
      String(bytes.length).padStart(7),
      cold.toFixed(2).padStart(9),
      percentile(samples, 50).toFixed(3).padStart(10),
      percentile(samples, 95).toFixed(3).padStart(8),
    ].join(' '),
  );
}

// ------------------------------------------------------------------ accuracy and calibration

console.log('');
console.log(`accuracy on the generated corpus (seeds 1..; a field counts as right only when equal to what the document states)`);

const eInvoiceScore = emptyScore();
let wrongFormat = 0;
for (const c of await generateEInvoiceCorpus(eInvoiceCount)) {
  const result = await recogniseAttachment({ bytes: c.bytes });
  if (result.invoices[0]?.format !== c.format) wrongFormat++;
  scoreDocument(eInvoiceScore, c.id, c.expected, result.invoices[0]);
}
console.log(formatScore(`e-invoices (${eInvoiceCount} invoices x 10 formats of @e-invoice-eu/core)`, eInvoiceScore));
console.log(`format reported wrongly: ${wrongFormat}`);
console.log('');

// Baseline in the same run: the same plain PDFs read from their text alone (lines, no
// coordinates), which is what the recogniser did before it used positions.
const positional = emptyScore();
const textOnly = emptyScore();
const plainStarted = performance.now();
for (const c of generatePlainPdfCorpus(plainPdfCount)) {
  const result = await recogniseAttachment({ bytes: c.bytes });
  scoreDocument(positional, c.id, c.expected, result.invoices[0]);
  const pdf = await openPdf(c.bytes);
  const lines = layoutFromPages(await pdf.textPages(new RecognitionBudget())).lines.map((l) => l.text);
  await pdf.close();
  scoreDocument(textOnly, c.id, c.expected, recogniseInvoiceText(lines) ?? undefined);
}
const plainMs = performance.now() - plainStarted;
console.log(formatScore(`plain PDFs, positional (${plainPdfCount} documents, 6 languages, 5 layouts)`, positional));
console.log('');
console.log(formatScore('baseline: the same plain PDFs as text lines without coordinates', textOnly));
console.log(`(${(plainMs / plainPdfCount).toFixed(1)} ms per document for both readings together)`);
const wrongConfident = positional.wrongExamples.filter((e) => / \((0\.[89]\d*|1)\) /.test(e));
if (wrongConfident.length > 0) console.log(`wrong at confidence >= 0.8:\n  ${wrongConfident.join('\n  ')}`);
