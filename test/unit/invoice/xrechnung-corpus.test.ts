/**
 * Runs every KoSIT XRechnung test invoice (UBL and CII) through the recogniser. The corpus
 * lives outside the project (../shared/corpus) and is read at run time. Without it, the same
 * per-invoice checks run on XRechnung UBL and CII invoices generated with @e-invoice-eu/core
 * (an independent EN 16931 implementation), and the output says the corpus was missing.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import type { RecognitionResult } from '../../../shared/domain/invoice/types.ts';
import { EXPECTED, renderSampleInvoice } from '../../fixtures/invoices/sample-e-invoice.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// XRECHNUNG_CORPUS_DIR lets CI (or a check of the "corpus absent" path) point elsewhere.
const corpusRoot = process.env.XRECHNUNG_CORPUS_DIR ?? path.resolve(projectRoot, '..', 'shared', 'corpus', 'xrechnung-testsuite');
const corpusPresent = existsSync(corpusRoot);
const EXPECTED_CORPUS_SIZE = 86;

function listXml(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listXml(full);
    return entry.name.endsWith('.xml') ? [full] : [];
  });
}

const corpusFiles = corpusPresent ? listXml(corpusRoot).sort() : [];
const relative = (file: string): string => path.relative(corpusRoot, file);

async function recogniseFile(relativePath: string) {
  const file = path.join(corpusRoot, relativePath);
  return recogniseAttachment({ bytes: readFileSync(file), filename: path.basename(file), contentType: 'application/xml' });
}

interface Case {
  name: string;
  bytes: () => Promise<Uint8Array>;
  format: 'xrechnung-ubl' | 'xrechnung-cii';
}

if (!corpusPresent) console.warn(`XRechnung corpus not found at ${corpusRoot}: its ${EXPECTED_CORPUS_SIZE} invoices are not checked; the generated XRechnung UBL and CII invoices are`);

const cases: Case[] = corpusPresent
  ? corpusFiles.map((file) => ({ name: relative(file), bytes: async () => readFileSync(file), format: file.endsWith('_ubl.xml') ? 'xrechnung-ubl' : 'xrechnung-cii' }))
  : [
      { name: 'generated XRECHNUNG-UBL', bytes: () => renderSampleInvoice('XRECHNUNG-UBL'), format: 'xrechnung-ubl' },
      { name: 'generated XRECHNUNG-CII', bytes: () => renderSampleInvoice('XRECHNUNG-CII'), format: 'xrechnung-cii' },
    ];

function expectMandatoryFields(result: RecognitionResult, format: Case['format']): void {
  expect(result.problems).toEqual([]);
  expect(result.invoices).toHaveLength(1);
  const [invoice] = result.invoices;
  expect(invoice).toMatchObject({ format, method: 'structured-xml', confidence: 1, warnings: [] });
  expect(invoice?.invoiceNumber).toBeTruthy();
  expect(invoice?.issueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(invoice?.currency).toMatch(/^[A-Z]{3}$/);
  expect(invoice?.totalWithVat).toMatch(/^-?\d+(\.\d+)?$/);
  expect(invoice?.amountDue).toMatch(/^-?\d+(\.\d+)?$/);
}

describe(corpusPresent ? 'XRechnung test suite corpus' : 'XRechnung (generated; the KoSIT corpus is missing)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s yields the mandatory fields', async (_name, c) => {
    // Act
    const result = await recogniseAttachment({ bytes: await c.bytes(), filename: `${c.name}.xml` });

    // Assess
    expectMandatoryFields(result, c.format);
  });

  if (!corpusPresent) {
    it.each(cases.map((c) => [c.name, c] as const))('%s yields exactly the invoice it was generated from', async (_name, c) => {
      const { invoices } = await recogniseAttachment({ bytes: await c.bytes() });

      expect(invoices[0]).toMatchObject({ ...EXPECTED, format: c.format });
    });
  }
});

if (corpusPresent) {
  it(`the corpus is complete: ${EXPECTED_CORPUS_SIZE} invoices`, () => {
    expect(corpusFiles).toHaveLength(EXPECTED_CORPUS_SIZE);
  });
}

if (corpusPresent) {
  describe('XRechnung test suite corpus: spot checks', () => {
    it('spot check: UBL extension case 04.01a with a prepaid amount (BT-112 ≠ BT-115)', async () => {
      const { invoices } = await recogniseFile('business-cases/extension/04.01a-INVOICE_ubl.xml');

      expect(invoices[0]).toEqual({
        format: 'xrechnung-ubl',
        documentType: 'invoice',
        invoiceNumber: '12345',
        issueDate: '2019-05-15',
        dueDate: null,
        currency: 'EUR',
        totalWithVat: '14918.84',
        amountDue: '4918.84',
        sellerName: 'M. Meier Handwerk GbR',
        sellerVatId: 'DE/12/345/67890',
        buyerReference: '12345678-12345-83',
        iban: 'DE79000000001234567890',
        method: 'structured-xml',
        confidence: 1,
        // dueDate is absent from this document: confidence 0, not 1.
        fieldConfidence: expect.objectContaining({ invoiceNumber: 1, totalWithVat: 1, dueDate: 0 }),
        warnings: [],
      });
    });

    it('spot check: CII standard case 02.01a picks the seller VAT id among three VA ids and the first IBAN', async () => {
      const { invoices } = await recogniseFile('business-cases/standard/02.01a-INVOICE_uncefact.xml');

      expect(invoices[0]).toMatchObject({
        format: 'xrechnung-cii',
        invoiceNumber: '1234567',
        issueDate: '2018-04-13',
        dueDate: '2018-04-13',
        currency: 'EUR',
        totalWithVat: '12829.69',
        amountDue: '12829.69',
        sellerName: '[Seller name]',
        sellerVatId: 'ATU123456789',
        buyerReference: '90000000-03083-72',
        iban: 'DE79000000001234567890',
      });
    });

    it('spot check: UBL 01.01a keeps the amount exactly as written ("336.9", not "336.90")', async () => {
      const { invoices } = await recogniseFile('business-cases/standard/01.01a-INVOICE_ubl.xml');

      expect(invoices[0]).toMatchObject({
        invoiceNumber: '123456XX',
        issueDate: '2016-04-04',
        totalWithVat: '336.9',
        amountDue: '336.9',
        sellerVatId: 'DE123456789', // written "DE 123456789"
      });
    });

    it('spot check: the CII and UBL renderings of 01.01a agree on every field', async () => {
      const [ubl, cii] = await Promise.all([
        recogniseFile('business-cases/standard/01.01a-INVOICE_ubl.xml'),
        recogniseFile('business-cases/standard/01.01a-INVOICE_uncefact.xml'),
      ]);

      expect({ ...cii.invoices[0], format: null }).toEqual({ ...ubl.invoices[0], format: null });
    });
  });
}
