/**
 * Plain-PDF extraction from the text layer's positions, one test per class of mistake seen on
 * real vendor invoices: buyer blocks taken as the seller, payment deadlines taken as the issue
 * date, unusual date/number/VAT id/currency spellings, labels with values to the right or
 * below, and invoice-like PDFs that used to vanish without a trace.
 */
import { describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import { recogniseInvoiceText } from '../../../shared/domain/invoice/pdf-text-heuristics.ts';
import { buildMinimalPdf } from '../../fixtures/invoices/minimal-pdf.ts';
import type { PlacedText } from '../../fixtures/invoices/minimal-pdf.ts';

const at = (x: number, y: number, text: string, size = 9): PlacedText => ({ x, y, text, size });

async function recognise(runs: PlacedText[]) {
  const result = await recogniseAttachment({ bytes: buildMinimalPdf({ pages: [runs] }) });
  return { result, invoice: result.invoices[0] };
}

describe('seller versus buyer', () => {
  it('a customer block under "Bill To:" with ATTN: is never the seller; the footer issuer is', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'INVOICE', 20),
      at(57, 110, 'Bill To:'),
      at(57, 122, 'Kunde Handels GmbH'),
      at(57, 134, 'ATTN: Jane Doe'),
      at(57, 146, 'Marktplatz 5, 80331 München'),
      at(57, 158, 'Customer VAT No. DE 111 222 333'),
      at(380, 110, 'Invoice No.'),
      at(460, 110, '2024-117'),
      at(380, 122, 'Date'),
      at(460, 122, '03/04/2024'),
      at(340, 400, 'Total', 10),
      at(500, 400, '€ 1,190.00', 10),
      at(57, 770, 'Brightside Consulting Ltd', 7),
      at(57, 780, '221B Baker Street, London', 7),
      at(230, 770, 'IBAN GB33 BUKB 2020 1555 5555 55', 7),
      at(410, 770, 'VAT Reg. No. GB 123 4567 89', 7),
    ]);

    expect(invoice).toMatchObject({
      sellerName: 'Brightside Consulting Ltd',
      sellerVatId: 'GB123456789',
      iban: 'GB33BUKB20201555555555',
      invoiceNumber: '2024-117',
      totalWithVat: '1190.00',
      currency: 'EUR',
    });
    expect(invoice?.fieldConfidence.sellerName).toBeGreaterThanOrEqual(0.8);
  });

  it('"Sold By :" names the seller; "Billing Address :" is the buyer', async () => {
    const { invoice } = await recognise([
      at(57, 50, 'Tax Invoice/Bill of Supply/Cash Memo', 12),
      at(57, 90, 'Sold By :'),
      at(57, 102, 'Lumen Retail Private Limited'),
      at(57, 114, '12 MG Road, Bengaluru, Karnataka 560001'),
      at(330, 90, 'Billing Address :'),
      at(330, 102, 'Orbis Traders Pvt. Ltd.'),
      at(57, 190, 'Order Number: 403-1234567-7654321'),
      at(57, 202, 'Invoice Number : IN-BLR1-2931'),
      at(57, 214, 'Invoice Date : 20-10-2015'),
      at(340, 300, 'TOTAL:', 10),
      at(480, 300, '₹1,23,456.00', 10),
    ]);

    expect(invoice).toMatchObject({
      sellerName: 'Lumen Retail Private Limited',
      invoiceNumber: 'IN-BLR1-2931',
      issueDate: '2015-10-20',
      totalWithVat: '123456.00',
      currency: 'INR',
    });
  });

  it('without labels, the company in the address window is not the seller when the letterhead and sender line agree', async () => {
    const { invoice } = await recognise([
      at(57, 50, 'Kronos Media e.K.', 16),
      at(57, 130, 'Kronos Media e.K. · Lindenallee 23 · 50667 Köln', 6),
      at(57, 150, 'Orbis Consulting GmbH'),
      at(57, 162, 'Hauptstraße 1'),
      at(57, 174, '10115 Berlin'),
      at(360, 150, 'Rechnungsnummer', 8),
      at(460, 150, 'RE-4711', 8),
      at(57, 270, 'Rechnung', 14),
      at(340, 400, 'Gesamtbetrag', 10),
      at(480, 400, '1.190,00 €', 10),
    ]);

    expect(invoice?.sellerName).toBe('Kronos Media e.K.');
  });
});

describe('dates', () => {
  it('a payment deadline printed before the invoice date is the due date, never the issue date', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'Rechnung', 16),
      at(360, 100, 'Zahlungsfrist:', 8),
      at(460, 100, '31.05.2024', 8),
      at(360, 112, 'Rechnungsnr.', 8),
      at(460, 112, 'RE-2024-17', 8),
      at(360, 124, 'Datum', 8),
      at(460, 124, '02.05.2024', 8),
      at(340, 300, 'Gesamtbetrag'),
      at(480, 300, '119,00 EUR'),
    ]);

    expect(invoice).toMatchObject({ issueDate: '2024-05-02', dueDate: '2024-05-31' });
  });

  it.each([
    ['August 3 , 2014', '2014-08-03'],
    ['20-10-2015', '2015-10-20'],
    ['3 de febrero de 2024', '2024-02-03'],
    ['12 febbraio 2024', '2024-02-12'],
    ['5 maart 2024', '2024-03-05'],
    ['1er mars 2024', '2024-03-01'],
    ['Mar 03, 2024', '2024-03-03'],
    ['2024/03/15', '2024-03-15'],
  ])('reads the issue date %s', (printed, iso) => {
    const invoice = recogniseInvoiceText(['INVOICE', `Invoice No: 77-A`, `Invoice Date: ${printed}`, 'Total 10.00 EUR']);

    expect(invoice?.issueDate).toBe(iso);
  });

  it('a US seller writes month first; a day above 12 elsewhere on the page decides the order', () => {
    const us = recogniseInvoiceText(['Acme Tools Inc.', 'New York, NY 10001', 'INVOICE', 'Invoice # 1001', 'Date 03/04/2024', 'Total $ 100.00']);
    const proven = recogniseInvoiceText(['Invoice', 'Invoice No: 1002', 'Invoice date: 03/04/2024', 'Delivery date: 25/03/2024', 'Total 100.00 EUR']);

    expect(us?.issueDate).toBe('2024-03-04');
    expect(proven?.issueDate).toBe('2024-04-03');
    expect(proven?.fieldConfidence.issueDate).toBeGreaterThanOrEqual(0.8);
  });
});

describe('numbers, ids and currencies as printed', () => {
  it.each([
    ['Invoice # INV-5521', 'INV-5521'],
    ['Invoice No. 2024/117', '2024/117'],
    ['No. F-2024-0007', 'F-2024-0007'],
    ['Factuurnummer: 2024.0815', '2024.0815'],
    ['Numero fattura 123/2024', '123/2024'],
    ['Número de factura: A-77', 'A-77'],
    ['N° de facture : FA2024-12', 'FA2024-12'],
  ])('%s is invoice number %s', (line, number) => {
    const invoice = recogniseInvoiceText(['Invoice Factura Fattura Facture Factuur', line, 'Total 10,00 EUR']);

    expect(invoice?.invoiceNumber).toBe(number);
  });

  it('an order number or customer number next to the invoice number is not taken for it', () => {
    const invoice = recogniseInvoiceText(['INVOICE', 'Customer No. 48213', 'Order No. 5512', 'Invoice No. INV-9', 'Total 10.00 GBP']);

    expect(invoice?.invoiceNumber).toBe('INV-9');
  });

  it.each([
    ['USt-IdNr.: DE 123 456 789', 'DE123456789'],
    ['VAT No. GB 123 4567 89', 'GB123456789'],
    ['N° TVA intracommunautaire : FR 12 345 678 901', 'FR12345678901'],
    ['BTW-nummer: NL 8540 97 317 B36', 'NL854097317B36'],
    ['P.IVA IT 123 456 789 01', 'IT12345678901'],
    ['NIF-IVA: ES-B12345678', 'ESB12345678'],
    ['UID: ATU 1234 5678', 'ATU12345678'],
  ])('%s is VAT id %s', (line, vatId) => {
    const invoice = recogniseInvoiceText(['Invoice', 'Invoice No: 1', 'Total 10,00 EUR', line]);

    expect(invoice?.sellerVatId).toBe(vatId);
  });

  it('the customer VAT id is not the seller VAT id', () => {
    const invoice = recogniseInvoiceText(['Rechnung', 'Rechnungsnummer 5', 'Ihre USt-IdNr. DE 999 999 999', 'Gesamtbetrag 10,00 EUR', 'USt-IdNr. DE 123 456 789']);

    expect(invoice?.sellerVatId).toBe('DE123456789');
  });

  it.each([
    ['Total Rs. 1,250.00', 'INR'],
    ['Total ₹ 1,250.00', 'INR'],
    ['Total £1,250.00', 'GBP'],
    ['Total 1 250,00 kr', 'SEK'],
    ['Total € 1.250,00', 'EUR'],
    ['Total CHF 1\'250.00', 'CHF'],
    ['Total US$ 1,250.00', 'USD'],
  ])('%s is in %s', (line, currency) => {
    const invoice = recogniseInvoiceText(['INVOICE', 'Invoice No: 9', line, 'VAT No. SE 556677889901']);

    expect(invoice?.currency).toBe(currency);
    expect(invoice?.totalWithVat).toBe('1250.00');
  });
});

describe('labels and values placed by layout', () => {
  it('reads values from the row under a row of labels', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'FACTURA', 18),
      at(57, 240, 'Nº Factura', 8),
      at(160, 240, 'Fecha', 8),
      at(260, 240, 'Vencimiento', 8),
      at(360, 240, 'Su referencia:', 8),
      at(57, 254, 'F-2024-881'),
      at(160, 254, '15/03/2024'),
      at(260, 254, '14/04/2024'),
      at(360, 254, 'PO-55120'),
      at(340, 400, 'Total factura', 10),
      at(480, 400, '1.210,00 €', 10),
    ]);

    expect(invoice).toMatchObject({
      invoiceNumber: 'F-2024-881',
      issueDate: '2024-03-15',
      dueDate: '2024-04-14',
      buyerReference: 'PO-55120',
      totalWithVat: '1210.00',
      currency: 'EUR',
    });
  });

  it('reads a value printed larger, on a slightly different baseline, to the right of its label', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'Rechnung', 18),
      at(360, 150, 'Rechnungsnummer', 7),
      at(450, 153, 'RE-2024-991', 11),
      at(340, 400, 'Gesamtbetrag'),
      at(480, 400, '1.190,00 €'),
    ]);

    expect(invoice?.invoiceNumber).toBe('RE-2024-991');
  });

  it('reads values stacked under their label (French)', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'FACTURE', 22),
      at(380, 110, 'Numéro de facture', 7),
      at(380, 120, 'FA-2291', 10),
      at(380, 136, "Date d'émission", 7),
      at(380, 146, '12 février 2024', 10),
      at(340, 400, 'Total TTC', 10),
      at(480, 400, '2 400,00 €', 10),
    ]);

    expect(invoice).toMatchObject({ invoiceNumber: 'FA-2291', issueDate: '2024-02-12', totalWithVat: '2400.00', currency: 'EUR' });
  });

  it('a total confirmed by net + VAT is reported with high confidence; a column header "Total" is not a total', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'Invoice', 18),
      at(57, 100, 'Invoice No. 88'),
      at(57, 300, 'Description', 8),
      at(500, 300, 'Total', 8),
      at(57, 316, 'Hosting'),
      at(500, 316, '100.00'),
      at(340, 360, 'Net amount'),
      at(500, 360, '100.00'),
      at(340, 374, 'VAT 20%'),
      at(500, 374, '20.00'),
      at(340, 390, 'Grand Total'),
      at(500, 390, '£120.00'),
    ]);

    expect(invoice?.totalWithVat).toBe('120.00');
    expect(invoice?.fieldConfidence.totalWithVat).toBeGreaterThanOrEqual(0.95);
  });
});

describe('values that look right but are not vouched for', () => {
  it('a due date next to a cash discount, a direct-debit IBAN and two different neutral VAT ids stay below 0.8', () => {
    const invoice = recogniseInvoiceText([
      'Rechnung',
      'Rechnungsnummer: RE-5',
      'Rechnungsdatum: 01.03.2024',
      'Zahlbar bis 10.03.2024 mit 2 % Skonto, bis 31.03.2024 netto',
      'Gesamtbetrag 119,00 EUR',
      'Der Betrag wird per SEPA-Lastschrift abgebucht von IBAN DE02 1203 0000 0000 2020 51',
      'USt-IdNr. DE 123 456 789',
      'USt-IdNr. DE 987 654 321',
    ]);

    expect(invoice?.fieldConfidence.dueDate).toBeLessThan(0.8);
    expect(invoice?.fieldConfidence.iban).toBeLessThan(0.8);
    expect(invoice?.fieldConfidence.sellerVatId).toBeLessThan(0.8);
    expect(invoice?.fieldConfidence.invoiceNumber).toBeGreaterThanOrEqual(0.8);
  });

  it('the bank named next to the IBAN in the footer is not the seller', async () => {
    const { invoice } = await recognise([
      at(57, 60, 'Rechnung', 16),
      at(57, 100, 'Rechnungsnummer: RE-77'),
      at(340, 300, 'Gesamtbetrag'),
      at(480, 300, '119,00 EUR'),
      at(57, 770, 'Alpen Technik GmbH', 7),
      at(57, 780, 'USt-IdNr. DE 123 456 789', 7),
      at(300, 770, 'Deutsche Bank AG', 7),
      at(300, 780, 'IBAN DE02 1203 0000 0000 2020 51', 7),
    ]);

    expect(invoice?.sellerName).toBe('Alpen Technik GmbH');
  });
});

describe('invoice-like PDFs that yield no invoice', () => {
  it('are recorded as invoice-like-unrecognised instead of vanishing', async () => {
    const bytes = buildMinimalPdf({ pages: [['Invoice', 'Thank you for your order of 12 items.', 'IBAN DE02 1203 0000 0000 2020 51']] });

    const result = await recogniseAttachment({ bytes, filename: 'scan.pdf' });

    expect(result.invoices).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual(['invoice-like-unrecognised']);
    expect(result.problems[0]?.message).toContain('"scan.pdf"');
  });

  it('a PDF that is not about an invoice stays silent', async () => {
    const bytes = buildMinimalPdf({ pages: [['Einladung zum Sommerfest', 'Am 12.07.2024 feiern wir.', 'Eintritt 5,00 €']] });

    const result = await recogniseAttachment({ bytes });

    expect(result).toEqual({ invoices: [], problems: [] });
  });
});
