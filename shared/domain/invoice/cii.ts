/**
 * EN 16931 fields from UN/CEFACT Cross Industry Invoice D16B (XRechnung CII, Factur-X,
 * ZUGFeRD 2.x) and from its predecessor, the ZUGFeRD 1.0 CrossIndustryDocument, which is
 * still sent by older accounting software. Both share the same tree shape; only namespaces
 * and a few element names differ, so one extractor walks a per-dialect name table.
 */
import { descend, descendAll, namespaced, textOf } from './xml-document.ts';
import type { XmlElement, XmlName } from './xml-document.ts';
import { fromCiiDate, upperCode, withoutWhitespace, xmlAmount } from './values.ts';
import { isCreditNoteTypeCode } from './structured-data.ts';
import type { StructuredInvoiceData } from './structured-data.ts';
import { presentTerms } from './einvoice-completeness.ts';

const CII_NS = 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100';
const ZUGFERD1_NS = 'urn:ferd:CrossIndustryDocument:invoice:1p0';

export type CiiDialect = 'cii-d16b' | 'zugferd-1';

interface DialectNames {
  root: XmlName;
  context: XmlName;
  document: XmlName;
  transaction: XmlName;
  agreement: XmlName;
  settlement: XmlName;
  summation: XmlName;
  ram: (local: string) => XmlName;
  udt: (local: string) => XmlName;
}

const d16bRsm = namespaced(CII_NS);
const d16bRam = namespaced('urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100');
const z1Rsm = namespaced(ZUGFERD1_NS);
const z1Ram = namespaced('urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12');

const DIALECTS: Record<CiiDialect, DialectNames> = {
  'cii-d16b': {
    root: d16bRsm('CrossIndustryInvoice'),
    context: d16bRsm('ExchangedDocumentContext'),
    document: d16bRsm('ExchangedDocument'),
    transaction: d16bRsm('SupplyChainTradeTransaction'),
    agreement: d16bRam('ApplicableHeaderTradeAgreement'),
    settlement: d16bRam('ApplicableHeaderTradeSettlement'),
    summation: d16bRam('SpecifiedTradeSettlementHeaderMonetarySummation'),
    ram: d16bRam,
    udt: namespaced('urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100'),
  },
  'zugferd-1': {
    root: z1Rsm('CrossIndustryDocument'),
    context: z1Rsm('SpecifiedExchangedDocumentContext'),
    document: z1Rsm('HeaderExchangedDocument'),
    transaction: z1Rsm('SpecifiedSupplyChainTradeTransaction'),
    agreement: z1Ram('ApplicableSupplyChainTradeAgreement'),
    settlement: z1Ram('ApplicableSupplyChainTradeSettlement'),
    summation: z1Ram('SpecifiedTradeSettlementMonetarySummation'),
    ram: z1Ram,
    udt: namespaced('urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15'),
  },
};

export function ciiDialectOf(root: XmlElement): CiiDialect | null {
  for (const [dialect, names] of Object.entries(DIALECTS) as [CiiDialect, DialectNames][]) {
    if (root.ns === names.root.ns && root.local === names.root.local) return dialect;
  }
  return null;
}

export function extractCii(root: XmlElement, dialect: CiiDialect): StructuredInvoiceData {
  const n = DIALECTS[dialect];
  const { ram, udt } = n;
  const doc = descend(root, n.document);
  const agreement = descend(root, n.transaction, n.agreement);
  const settlement = descend(root, n.transaction, n.settlement);
  const seller = descend(agreement, ram('SellerTradeParty'));
  const currency = upperCode(textOf(descend(settlement, ram('InvoiceCurrencyCode'))));

  const dateOf = (dateTime: XmlElement | undefined): string | null => {
    const value = descend(dateTime, udt('DateTimeString'));
    return fromCiiDate(textOf(value), value?.attributes.get('format'));
  };

  // CII allows a total per currency (BT-111 style repetition); BT-112 is the one in the
  // invoice currency, or the only one when no currencyID is given.
  const amountIn = (local: string): string | null => {
    const candidates = descendAll(settlement, n.summation, ram(local));
    const chosen =
      candidates.find((c) => {
        const unit = c.attributes.get('currencyID');
        return unit === undefined || currency === null || unit.toUpperCase() === currency;
      }) ?? candidates[0];
    return xmlAmount(textOf(chosen));
  };

  // VA = VAT identifier (BT-31); FC would be the national tax number (BT-32).
  const vatId = descendAll(seller, ram('SpecifiedTaxRegistration'), ram('ID')).find(
    (id) => id.attributes.get('schemeID')?.toUpperCase() === 'VA',
  );

  const accounts = descendAll(settlement, ram('SpecifiedTradeSettlementPaymentMeans'), ram('PayeePartyCreditorFinancialAccount'));
  const iban =
    accounts
      .map((account) => withoutWhitespace(textOf(descend(account, ram('IBANID')) ?? descend(account, ram('ProprietaryID')))))
      .find((id) => id !== null) ?? null;

  const dueDate =
    descendAll(settlement, ram('SpecifiedTradePaymentTerms'), ram('DueDateDateTime'))
      .map(dateOf)
      .find((d) => d !== null) ?? null;

  const typeCode = textOf(descend(doc, ram('TypeCode')));
  const specificationId = textOf(descend(root, n.context, ram('GuidelineSpecifiedDocumentContextParameter'), ram('ID')));
  const fields = {
    invoiceNumber: textOf(descend(doc, ram('ID'))),
    issueDate: dateOf(descend(doc, ram('IssueDateTime'))),
    dueDate,
    currency,
    totalWithVat: amountIn('GrandTotalAmount'),
    amountDue: amountIn('DuePayableAmount'),
    sellerName: textOf(descend(seller, ram('Name'))),
    sellerVatId: withoutWhitespace(textOf(vatId)),
    buyerReference: textOf(descend(agreement, ram('BuyerReference'))),
    iban,
  };

  const buyer = descend(agreement, ram('BuyerTradeParty'));
  const countryOf = (party: XmlElement | undefined): string | null =>
    textOf(descend(party, ram('PostalTradeAddress'), ram('CountryID')));
  const taxes = descendAll(settlement, ram('ApplicableTradeTax'));
  const taxTerm: Record<string, (t: XmlElement) => XmlElement | undefined> = {
    'BT-116': (t) => descend(t, ram('BasisAmount')),
    'BT-117': (t) => descend(t, ram('CalculatedAmount')),
    'BT-118': (t) => descend(t, ram('CategoryCode')),
  };
  const lines = descendAll(root, n.transaction, ram('IncludedSupplyChainTradeLineItem'));
  const lineSettlement = (l: XmlElement) => descend(l, ram('SpecifiedLineTradeSettlement'));
  const lineTerm: Record<string, (l: XmlElement) => XmlElement | undefined> = {
    'BT-126': (l) => descend(l, ram('AssociatedDocumentLineDocument'), ram('LineID')),
    'BT-129': (l) => descend(l, ram('SpecifiedLineTradeDelivery'), ram('BilledQuantity')),
    'BT-131': (l) => descend(lineSettlement(l), ram('SpecifiedTradeSettlementLineMonetarySummation'), ram('LineTotalAmount')),
    'BT-146': (l) => descend(l, ram('SpecifiedLineTradeAgreement'), ram('NetPriceProductTradePrice'), ram('ChargeAmount')),
    'BT-151': (l) => descend(lineSettlement(l), ram('ApplicableTradeTax'), ram('CategoryCode')),
    'BT-153': (l) => descend(l, ram('SpecifiedTradeProduct'), ram('Name')),
  };
  const summation = descend(settlement, n.summation);
  const terms = presentTerms({
    fields,
    typeCode,
    specificationId,
    sellerCountry: countryOf(seller),
    buyerName: textOf(descend(buyer, ram('Name'))),
    buyerCountry: countryOf(buyer),
    lineNetTotal: textOf(descend(summation, ram('LineTotalAmount'))),
    totalWithoutVat: textOf(descend(summation, ram('TaxBasisTotalAmount'))),
    vatBreakdowns: { elements: taxes, terms: taxTerm },
    lines: { elements: lines, terms: lineTerm },
  });

  return {
    documentType: isCreditNoteTypeCode(typeCode) ? 'credit-note' : 'invoice',
    specificationId,
    fields,
    terms,
  };
}
