/**
 * The generated evaluation corpus (test/fixtures/invoices/*-corpus.ts), small enough for the
 * suite: structured e-invoices in every format @e-invoice-eu/core writes must come out exactly;
 * plain PDFs in six languages and five layouts must mostly come out right, and a field reported
 * with confidence >= 0.8 must be right at least 98% of the time. bench/invoice-recognition.ts
 * runs the same scoring on a larger corpus and prints it.
 */
import { describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import { generateEInvoiceCorpus } from '../../fixtures/invoices/e-invoice-corpus.ts';
import { generatePlainPdfCorpus } from '../../fixtures/invoices/plain-pdf-corpus.ts';
import { CONFIDENT, emptyScore, formatScore, scoreDocument, totals } from '../../fixtures/invoices/evaluate-recognition.ts';

describe('generated evaluation corpus', () => {
  it('structured e-invoices: every stated field right, in the expected format', async () => {
    const score = emptyScore();
    const formats: string[] = [];
    for (const c of await generateEInvoiceCorpus(1, undefined, 7)) {
      const result = await recogniseAttachment({ bytes: c.bytes });
      if (result.invoices[0]?.format !== c.format) formats.push(`${c.id}: ${result.invoices[0]?.format}`);
      scoreDocument(score, c.id, c.expected, result.invoices[0]);
    }

    const t = totals(score);
    expect(formats).toEqual([]);
    expect(score.wrongExamples).toEqual([]);
    expect(t.right, formatScore('e-invoices', score)).toBe(t.stated);
  }, 180_000);

  it(`plain PDFs: at least 90% of stated fields right, and >= 98% right among those at confidence >= ${CONFIDENT}`, async () => {
    const score = emptyScore();
    for (const c of generatePlainPdfCorpus(40, 5000)) {
      const result = await recogniseAttachment({ bytes: c.bytes });
      scoreDocument(score, c.id, c.expected, result.invoices[0]);
    }

    const t = totals(score);
    const report = `${formatScore('plain PDFs', score)}\n${score.wrongExamples.join('\n')}`;
    expect(score.unrecognised, report).toBe(0);
    expect(t.right / t.stated, report).toBeGreaterThanOrEqual(0.9);
    expect(t.confidentRight / t.confident, report).toBeGreaterThanOrEqual(0.98);
  }, 120_000);
});
