/**
 * Plain PDF invoices (no embedded XML): text heuristics must find the fields, flag them as
 * guesses (confidence < 1), and stay silent on documents that are not invoices.
 */
import { describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import { recogniseInvoiceText } from '../../../shared/domain/invoice/pdf-text-heuristics.ts';
import { isValidIban } from '../../../shared/domain/invoice/iban.ts';
import { buildMinimalPdf } from '../../fixtures/invoices/minimal-pdf.ts';

const GERMAN_INVOICE = [
  'Nordlicht Design GmbH · Hafenstraße 12 · 20457 Hamburg',
  'Kunde AG',
  'Marktplatz 5',
  '80331 München',
  'Rechnung',
  'Rechnungsnummer: RE-2024-0042',
  'Rechnungsdatum: 12.02.2024',
  'Leitweg-ID: 04011000-12345-03',
  'Leistungszeitraum: 01.01.2024 - 31.01.2024',
  'Pos. Beschreibung Menge Einzelpreis Gesamt',
  '1 Webdesign 10 100,00 € 1.000,00 €',
  'Nettobetrag 1.000,00 €',
  'zzgl. 19% USt. 190,00 €',
  'Gesamtbetrag 1.190,00 €',
  'Zahlbar bis 13.03.2024 ohne Abzug.',
  'Hamburger Sparkasse IBAN DE02 1203 0000 0000 2020 51 BIC BYLADEM1001',
  'USt-IdNr.: DE 987654321 Geschäftsführer: Max Muster',
];

describe('plain PDF invoice', () => {
  it('extracts the printed fields with confidences below 1', async () => {
    // Prepare
    const bytes = buildMinimalPdf({ pages: [GERMAN_INVOICE] });

    // Act
    const result = await recogniseAttachment({ bytes, filename: 'rechnung.pdf', contentType: 'application/pdf' });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    const [invoice] = result.invoices;
    expect(invoice).toMatchObject({
      format: 'pdf-text',
      method: 'pdf-text',
      documentType: 'invoice',
      invoiceNumber: 'RE-2024-0042',
      issueDate: '2024-02-12',
      dueDate: '2024-03-13',
      currency: 'EUR',
      totalWithVat: '1190.00',
      amountDue: '1190.00',
      sellerName: 'Nordlicht Design GmbH',
      sellerVatId: 'DE987654321',
      buyerReference: '04011000-12345-03',
      iban: 'DE02120300000000202051',
    });
    expect(invoice?.confidence).toBeGreaterThan(0.5);
    expect(invoice?.confidence).toBeLessThan(1);
    for (const [field, confidence] of Object.entries(invoice?.fieldConfidence ?? {})) {
      expect.soft(confidence, field).toBeGreaterThan(0);
      expect.soft(confidence, field).toBeLessThan(1);
    }
    // A total copied into "amount due" is weaker than one printed under its own label.
    expect(invoice?.fieldConfidence.amountDue).toBeLessThan(invoice?.fieldConfidence.totalWithVat ?? 0);
  });

  it('reads an English invoice with an explicit amount due and a payment term', async () => {
    const bytes = buildMinimalPdf({
      pages: [
        [
          'Brightside Consulting Ltd',
          '221B Baker Street, London',
          'INVOICE',
          'Invoice No: INV/2024/117',
          'Date: 3 March 2024',
          'Subtotal GBP 2,000.00',
          'VAT 20% GBP 400.00',
          'Total GBP 2,400.00',
          'Paid on account GBP 400.00',
          'Amount due GBP 2,000.00',
          'Payment within 14 days. IBAN GB33BUKB20201555555555',
        ],
      ],
    });

    const { invoices } = await recogniseAttachment({ bytes });

    expect(invoices[0]).toMatchObject({
      invoiceNumber: 'INV/2024/117',
      issueDate: '2024-03-03',
      dueDate: '2024-03-17',
      currency: 'GBP',
      totalWithVat: '2400.00',
      amountDue: '2000.00',
      sellerName: 'Brightside Consulting Ltd',
      iban: 'GB33BUKB20201555555555',
    });
    // A due date computed from "within 14 days" is a derived guess.
    expect(invoices[0]?.fieldConfidence.dueDate).toBeLessThanOrEqual(0.5);
  });

  it('does not report an IBAN whose checksum is wrong', () => {
    const lines = ['Rechnung Nr. 1001', 'Gesamtbetrag 10,00 EUR', 'IBAN DE02 1203 0000 0000 2020 52'];

    const invoice = recogniseInvoiceText(lines);

    expect(invoice?.invoiceNumber).toBe('1001');
    expect(invoice?.iban).toBeNull();
    expect(invoice?.fieldConfidence.iban).toBe(0);
  });

  it('recognises a credit note by its title', () => {
    const invoice = recogniseInvoiceText(['Gutschrift', 'Gutschriftsnummer: GS-77', 'Gesamtbetrag 50,00 EUR']);

    expect(invoice).toMatchObject({ documentType: 'credit-note', invoiceNumber: 'GS-77', totalWithVat: '50.00' });
  });
});

describe('PDFs that are not invoices', () => {
  it('a letter with dates and amounts yields no invoice and no problem', async () => {
    const bytes = buildMinimalPdf({
      pages: [['Einladung zum Sommerfest', 'Am 12.07.2024 feiern wir im Garten.', 'Eintritt 5,00 €', 'Viele Grüße, Ihr Team']],
    });

    const result = await recogniseAttachment({ bytes, filename: 'einladung.pdf' });

    expect(result).toEqual({ invoices: [], problems: [] });
  });

  it('a quotation that mentions a later invoice yields no invoice', async () => {
    const bytes = buildMinimalPdf({
      pages: [['Angebot Nr. AN-2024-5', 'Datum: 01.02.2024', 'Gesamtsumme 4.000,00 EUR', 'Die Rechnung folgt nach Lieferung.']],
    });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices).toEqual([]);
  });

  it('a PDF without any text reports pdf-no-text', async () => {
    const bytes = buildMinimalPdf({ pages: [[]] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual(['pdf-no-text']);
  });
});

describe('isValidIban (mod-97)', () => {
  it.each([
    ['DE02120300000000202051', true],
    ['DE02 1203 0000 0000 2020 51', true],
    ['GB33BUKB20201555555555', true],
    ['FR7630006000011234567890189', true],
    ['DE02120300000000202052', false], // checksum
    ['DE0212030000000020205', false], // length for DE
    ['not an iban', false],
  ])('%s → %s', (candidate, valid) => {
    expect(isValidIban(candidate)).toBe(valid);
  });
});
