/**
 * Runs every KoSIT XRechnung test invoice (UBL and CII) through the recogniser. The corpus
 * lives outside the project (../shared/corpus) and is read at run time; without it the
 * corpus checks are left out and one always-running test says so in the output.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';

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

it('reports whether the XRechnung corpus is available', () => {
  if (!corpusPresent) {
    console.warn(`corpus not found at ${corpusRoot}, skipped ${EXPECTED_CORPUS_SIZE} corpus checks`);
  }
  expect(corpusPresent ? corpusFiles.length : EXPECTED_CORPUS_SIZE).toBe(EXPECTED_CORPUS_SIZE);
});

describe.runIf(corpusPresent)('XRechnung test suite corpus', () => {
  it.each(corpusFiles.map((file) => [relative(file), file] as const))('%s yields the mandatory fields', async (_name, file) => {
    // Prepare
    const bytes = readFileSync(file);
    const expectedFormat = file.endsWith('_ubl.xml') ? 'xrechnung-ubl' : 'xrechnung-cii';

    // Act
    const result = await recogniseAttachment({ bytes, filename: path.basename(file) });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    const [invoice] = result.invoices;
    expect(invoice).toMatchObject({ format: expectedFormat, method: 'structured-xml', confidence: 1, warnings: [] });
    expect(invoice?.invoiceNumber).toBeTruthy();
    expect(invoice?.issueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(invoice?.currency).toMatch(/^[A-Z]{3}$/);
    expect(invoice?.totalWithVat).toMatch(/^-?\d+(\.\d+)?$/);
    expect(invoice?.amountDue).toMatch(/^-?\d+(\.\d+)?$/);
  });

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
