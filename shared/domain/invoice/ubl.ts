/**
 * EN 16931 fields from an OASIS UBL 2.x Invoice or CreditNote (Peppol BIS, XRechnung UBL),
 * following the syntax binding of CEN/TS 16931-3-2.
 */
import { descend, descendAll, namespaced, textOf } from './xml-document.ts';
import type { XmlElement } from './xml-document.ts';
import { fromXsdDate, upperCode, withoutWhitespace, xmlAmount } from './values.ts';
import { isCreditNoteTypeCode } from './structured-data.ts';
import type { StructuredInvoiceData } from './structured-data.ts';
import { presentTerms } from './einvoice-completeness.ts';

const UBL_INVOICE_NS = 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2';
const UBL_CREDIT_NOTE_NS = 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2';
const cac = namespaced('urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2');
const cbc = namespaced('urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2');

export function isUblRoot(root: XmlElement): boolean {
  return (
    (root.ns === UBL_INVOICE_NS && root.local === 'Invoice') ||
    (root.ns === UBL_CREDIT_NOTE_NS && root.local === 'CreditNote')
  );
}

export function extractUbl(root: XmlElement): StructuredInvoiceData {
  const isCreditNoteRoot = root.local === 'CreditNote';
  const typeCode = textOf(descend(root, cbc(isCreditNoteRoot ? 'CreditNoteTypeCode' : 'InvoiceTypeCode')));
  const seller = descend(root, cac('AccountingSupplierParty'), cac('Party'));
  const totals = descend(root, cac('LegalMonetaryTotal'));
  const paymentMeans = descendAll(root, cac('PaymentMeans'));

  // BT-31 is the PartyTaxScheme whose scheme is VAT; other schemes carry BT-32 (tax number).
  const vatScheme = descendAll(seller, cac('PartyTaxScheme')).find(
    (scheme) => upperCode(textOf(descend(scheme, cac('TaxScheme'), cbc('ID')))) === 'VAT',
  );

  // CreditNote has no root DueDate in UBL 2.1; the binding maps BT-9 to PaymentDueDate there.
  const dueDate =
    fromXsdDate(textOf(descend(root, cbc('DueDate')))) ??
    paymentMeans.map((pm) => fromXsdDate(textOf(descend(pm, cbc('PaymentDueDate'))))).find((d) => d !== null) ??
    null;

  const iban =
    paymentMeans
      .map((pm) => withoutWhitespace(textOf(descend(pm, cac('PayeeFinancialAccount'), cbc('ID')))))
      .find((id) => id !== null) ?? null;

  const specificationId = textOf(descend(root, cbc('CustomizationID')));
  const fields = {
    invoiceNumber: textOf(descend(root, cbc('ID'))),
    issueDate: fromXsdDate(textOf(descend(root, cbc('IssueDate')))),
    dueDate,
    currency: upperCode(textOf(descend(root, cbc('DocumentCurrencyCode')))),
    totalWithVat: xmlAmount(textOf(descend(totals, cbc('TaxInclusiveAmount')))),
    amountDue: xmlAmount(textOf(descend(totals, cbc('PayableAmount')))),
    sellerName:
      textOf(descend(seller, cac('PartyLegalEntity'), cbc('RegistrationName'))) ??
      textOf(descend(seller, cac('PartyName'), cbc('Name'))),
    sellerVatId: withoutWhitespace(textOf(descend(vatScheme, cbc('CompanyID')))),
    buyerReference: textOf(descend(root, cbc('BuyerReference'))),
    iban,
  };

  const buyer = descend(root, cac('AccountingCustomerParty'), cac('Party'));
  const countryOf = (party: XmlElement | undefined): string | null =>
    textOf(descend(party, cac('PostalAddress'), cac('Country'), cbc('IdentificationCode')));
  const subtotals = descendAll(root, cac('TaxTotal'), cac('TaxSubtotal'));
  const subtotalTerm: Record<string, (s: XmlElement) => XmlElement | undefined> = {
    'BT-116': (s) => descend(s, cbc('TaxableAmount')),
    'BT-117': (s) => descend(s, cbc('TaxAmount')),
    'BT-118': (s) => descend(s, cac('TaxCategory'), cbc('ID')),
  };
  const lines = descendAll(root, cac(isCreditNoteRoot ? 'CreditNoteLine' : 'InvoiceLine'));
  const lineTerm: Record<string, (l: XmlElement) => XmlElement | undefined> = {
    'BT-126': (l) => descend(l, cbc('ID')),
    'BT-129': (l) => descend(l, cbc(isCreditNoteRoot ? 'CreditedQuantity' : 'InvoicedQuantity')),
    'BT-131': (l) => descend(l, cbc('LineExtensionAmount')),
    'BT-146': (l) => descend(l, cac('Price'), cbc('PriceAmount')),
    'BT-151': (l) => descend(l, cac('Item'), cac('ClassifiedTaxCategory'), cbc('ID')),
    'BT-153': (l) => descend(l, cac('Item'), cbc('Name')),
  };
  const terms = presentTerms({
    fields,
    typeCode,
    specificationId,
    sellerCountry: countryOf(seller),
    buyerName: textOf(descend(buyer, cac('PartyLegalEntity'), cbc('RegistrationName'))),
    buyerCountry: countryOf(buyer),
    lineNetTotal: textOf(descend(totals, cbc('LineExtensionAmount'))),
    totalWithoutVat: textOf(descend(totals, cbc('TaxExclusiveAmount'))),
    vatBreakdowns: { elements: subtotals, terms: subtotalTerm },
    lines: { elements: lines, terms: lineTerm },
  });

  return {
    documentType: isCreditNoteRoot || isCreditNoteTypeCode(typeCode) ? 'credit-note' : 'invoice',
    specificationId,
    fields,
    terms,
  };
}
