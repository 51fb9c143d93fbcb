/**
 * Structured e-invoices rendered by an independent implementation (@e-invoice-eu/core) from
 * one known invoice, so every assertion compares against what was put in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import type { RecognisedInvoice } from '../../../shared/domain/invoice/types.ts';
import { buildMinimalPdf } from '../../fixtures/invoices/minimal-pdf.ts';
import { EXPECTED, SAMPLE_INVOICE, renderSampleInvoice } from '../../fixtures/invoices/sample-e-invoice.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytesOf = (xml: string): Uint8Array => new TextEncoder().encode(xml);

function expectSampleFields(invoice: RecognisedInvoice | undefined): void {
  expect(invoice).toMatchObject(EXPECTED);
  expect(invoice?.confidence).toBe(1);
  expect(invoice?.warnings).toEqual([]);
  expect(Object.values(invoice?.fieldConfidence ?? {})).toEqual(Array(10).fill(1));
}

/** A visible page that disagrees with the XML, to prove the XML wins. */
const misleadingPage = [['Rechnung Nr. WRONG-1', 'Rechnungsdatum: 01.01.2020', 'Gesamtbetrag 999,99 EUR']];

describe('standalone XML', () => {
  it.each([
    ['UBL', 'ubl'],
    ['CII', 'cii'],
    ['XRECHNUNG-UBL', 'xrechnung-ubl'],
    ['XRECHNUNG-CII', 'xrechnung-cii'],
  ] as const)('%s is recognised as %s with all fields', async (sourceFormat, expectedFormat) => {
    // Prepare
    const bytes = await renderSampleInvoice(sourceFormat);

    // Act
    const result = await recogniseAttachment({ bytes, filename: 'invoice.xml', contentType: 'application/xml' });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    expect(result.invoices[0]).toMatchObject({ format: expectedFormat, documentType: 'invoice', method: 'structured-xml' });
    expectSampleFields(result.invoices[0]);
  });

  it('ignores misleading file name and MIME type', async () => {
    const bytes = await renderSampleInvoice('CII');

    const result = await recogniseAttachment({ bytes, filename: 'scan.pdf', contentType: 'application/octet-stream' });

    expect(result.invoices[0]).toMatchObject({ format: 'cii', invoiceNumber: EXPECTED.invoiceNumber });
  });

  it('matches on namespace URI, not on the prefixes chosen by the producer', async () => {
    // Prepare: same UBL document with the default namespace replaced by "inv:", cbc by "b", cac by "a"
    const original = text(await renderSampleInvoice('UBL'));
    const renamed = original
      .replace('<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"', '<inv:Invoice xmlns:inv="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"')
      .replace('</Invoice>', '</inv:Invoice>')
      .replaceAll('xmlns:cac=', 'xmlns:a=')
      .replaceAll('xmlns:cbc=', 'xmlns:b=')
      .replace(/<(\/?)cac:/g, '<$1a:')
      .replace(/<(\/?)cbc:/g, '<$1b:');
    expect(renamed).toContain('<inv:Invoice xmlns:inv=');
    expect(renamed).toContain('<b:ID>');
    expect(renamed).not.toContain('cbc:');

    // Act
    const result = await recogniseAttachment({ bytes: bytesOf(renamed) });

    // Assess
    expect(result.invoices[0]).toMatchObject({ format: 'ubl' });
    expectSampleFields(result.invoices[0]);
  });

  it('does not accept UBL element names in a foreign namespace', async () => {
    const original = text(await renderSampleInvoice('UBL'));
    const foreign = original.replace('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2', 'urn:example:not-ubl');

    const result = await recogniseAttachment({ bytes: bytesOf(foreign) });

    expect(result.invoices).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual(['xml-not-invoice']);
  });

  it('decodes character references and keeps entity-escaped text intact', async () => {
    const original = text(await renderSampleInvoice('UBL'));
    const escaped = original.replace(
      `<cbc:RegistrationName>${EXPECTED.sellerName}</cbc:RegistrationName>`,
      '<cbc:RegistrationName>M&#252;ller &amp; S&#xF6;hne &lt;GmbH&gt;</cbc:RegistrationName>',
    );

    const result = await recogniseAttachment({ bytes: bytesOf(escaped) });

    expect(result.invoices[0]?.sellerName).toBe('Müller & Söhne <GmbH>');
  });
});

describe('credit notes', () => {
  const creditNote = structuredClone(SAMPLE_INVOICE);
  creditNote['ubl:Invoice']['cbc:InvoiceTypeCode'] = '381';

  it('a UBL CreditNote root is a credit note', async () => {
    const bytes = await renderSampleInvoice('UBL', creditNote);
    expect(text(bytes)).toContain('<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"');

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({
      documentType: 'credit-note',
      format: 'ubl',
      invoiceNumber: EXPECTED.invoiceNumber,
      totalWithVat: EXPECTED.totalWithVat,
      iban: EXPECTED.iban,
    });
  });

  it('CII type code 381 is a credit note', async () => {
    const bytes = await renderSampleInvoice('CII', creditNote);

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ documentType: 'credit-note', format: 'cii', amountDue: EXPECTED.amountDue });
  });
});

describe('hybrid PDFs (XML embedded in a PDF)', () => {
  let ciiXml: string;
  beforeAll(async () => {
    ciiXml = text(await renderSampleInvoice('CII'));
  });

  it('Factur-X EN 16931 PDF from @e-invoice-eu/core is factur-x', async () => {
    // Prepare
    const bytes = await renderSampleInvoice('Factur-X-EN16931');

    // Act
    const result = await recogniseAttachment({ bytes, filename: 'RE-4711.pdf', contentType: 'application/pdf' });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    expect(result.invoices[0]).toMatchObject({ format: 'factur-x', method: 'embedded-xml', documentType: 'invoice' });
    expectSampleFields(result.invoices[0]);
  });

  it('Factur-X XRECHNUNG profile (embedded as xrechnung.xml) is xrechnung-cii: the guideline decides', async () => {
    const bytes = await renderSampleInvoice('Factur-X-XRechnung');

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ format: 'xrechnung-cii', method: 'embedded-xml' });
    expectSampleFields(result.invoices[0]);
  });

  it('an XRechnung guideline is xrechnung-cii even under the name factur-x.xml', async () => {
    const xrechnung = text(await renderSampleInvoice('XRECHNUNG-CII'));
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'factur-x.xml', bytes: bytesOf(xrechnung) }] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ format: 'xrechnung-cii', method: 'embedded-xml' });
  });

  it('a guideline that does not tell (plain EN 16931) leaves it to the file name: xrechnung.xml is xrechnung-cii', async () => {
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'xrechnung.xml', bytes: bytesOf(ciiXml) }] });

    const result = await recogniseAttachment({ bytes });

    expect(ciiXml).toContain('<ram:ID>urn:cen.eu:en16931:2017</ram:ID>');
    expect(result.invoices[0]).toMatchObject({ format: 'xrechnung-cii', method: 'embedded-xml' });
  });

  it('a Factur-X guideline is factur-x even under the ZUGFeRD 2.0 name', async () => {
    const basic = text(await renderSampleInvoice('CII')).replace(
      '<ram:ID>urn:cen.eu:en16931:2017</ram:ID>',
      '<ram:ID>urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic</ram:ID>',
    );
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'zugferd-invoice.xml', bytes: bytesOf(basic) }] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ format: 'factur-x', method: 'embedded-xml' });
  });

  it('embedded XML wins over the (misleading) visible text', async () => {
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'factur-x.xml', bytes: bytesOf(ciiXml) }] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices).toHaveLength(1);
    expect(result.invoices[0]).toMatchObject({ format: 'factur-x', invoiceNumber: EXPECTED.invoiceNumber, totalWithVat: '1190.00' });
  });

  it('ZUGFeRD 2.0 file name zugferd-invoice.xml is zugferd', async () => {
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'zugferd-invoice.xml', bytes: bytesOf(ciiXml) }] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ format: 'zugferd', method: 'embedded-xml' });
    expectSampleFields(result.invoices[0]);
  });

  it('ZUGFeRD 2.0 guideline id is zugferd even under the name factur-x.xml', async () => {
    const zugferd20 = ciiXml.replace(
      '<ram:ID>urn:cen.eu:en16931:2017</ram:ID>',
      '<ram:ID>urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended</ram:ID>',
    );
    expect(zugferd20).not.toBe(ciiXml);
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'factur-x.xml', bytes: bytesOf(zugferd20) }] });

    const result = await recogniseAttachment({ bytes });

    expect(result.invoices[0]).toMatchObject({ format: 'zugferd', invoiceNumber: EXPECTED.invoiceNumber });
  });

  it('ZUGFeRD 1.0 CrossIndustryDocument (ZUGFeRD-invoice.xml) is zugferd', async () => {
    // Prepare: a trimmed ZUGFeRD 1.0 COMFORT document, hand-written after the 1.0 schema
    const zugferd1 = `<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:SpecifiedExchangedDocumentContext>
  <rsm:HeaderExchangedDocument>
    <ram:ID>Z1-2015-77</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20150601</udt:DateTimeString></ram:IssueDateTime>
  </rsm:HeaderExchangedDocument>
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeAgreement>
      <ram:BuyerReference>AB-321</ram:BuyerReference>
      <ram:SellerTradeParty>
        <ram:Name>Lieferant GmbH</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
    </ram:ApplicableSupplyChainTradeAgreement>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>31</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE08700901001234567890</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:SpecifiedTradePaymentTerms>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20150701</udt:DateTimeString></ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementMonetarySummation>
        <ram:LineTotalAmount currencyID="EUR">198.00</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount currencyID="EUR">198.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">37.62</ram:TaxTotalAmount>
        <ram:GrandTotalAmount currencyID="EUR">235.62</ram:GrandTotalAmount>
        <ram:DuePayableAmount currencyID="EUR">235.62</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementMonetarySummation>
    </ram:ApplicableSupplyChainTradeSettlement>
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>`;
    const bytes = buildMinimalPdf({ pages: misleadingPage, attachments: [{ name: 'ZUGFeRD-invoice.xml', bytes: bytesOf(zugferd1) }] });

    // Act
    const result = await recogniseAttachment({ bytes });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.invoices[0]).toMatchObject({
      format: 'zugferd',
      method: 'embedded-xml',
      documentType: 'invoice',
      invoiceNumber: 'Z1-2015-77',
      issueDate: '2015-06-01',
      dueDate: '2015-07-01',
      currency: 'EUR',
      totalWithVat: '235.62',
      amountDue: '235.62',
      sellerName: 'Lieferant GmbH',
      sellerVatId: 'DE123456789',
      buyerReference: 'AB-321',
      iban: 'DE08700901001234567890',
    });
  });

  it('a broken factur-x.xml is reported and the PDF text is used instead', async () => {
    const bytes = buildMinimalPdf({
      pages: misleadingPage,
      attachments: [{ name: 'factur-x.xml', bytes: bytesOf('<rsm:CrossIndustryInvoice xmlns:rsm="x"><unclosed>') }],
    });

    const result = await recogniseAttachment({ bytes });

    expect(result.problems.map((p) => p.code)).toEqual(['embedded-xml-invalid']);
    expect(result.problems[0]?.message).toContain('xml-invalid');
    expect(result.invoices[0]).toMatchObject({ method: 'pdf-text', invoiceNumber: 'WRONG-1', totalWithVat: '999.99' });
  });

  it('a non-invoice XML attachment with another name is ignored silently', async () => {
    const bytes = buildMinimalPdf({
      pages: misleadingPage,
      attachments: [{ name: 'timesheet.xml', bytes: bytesOf('<timesheet><hours>10</hours></timesheet>') }],
    });

    const result = await recogniseAttachment({ bytes });

    expect(result.problems).toEqual([]);
    expect(result.invoices[0]?.method).toBe('pdf-text');
  });
});
