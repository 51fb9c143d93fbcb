/**
 * Which mandatory EN 16931 business terms an e-invoice lacks, judged against the profile it
 * claims (BT-24). One rule for UBL and CII: the extractors only say which terms they found.
 *
 * EN 16931-1 (2017) mandatory terms checked here, by group:
 *  - document: BT-1 number, BT-2 issue date, BT-3 type code, BT-5 currency, BT-24 specification
 *  - parties: BT-27 seller name, BT-40 seller country, BT-44 buyer name, BT-55 buyer country
 *  - totals (BG-22): BT-106 sum of line net amounts, BT-109 total without VAT,
 *    BT-112 total with VAT, BT-115 amount due
 *  - VAT breakdown (BG-23, at least one, each complete): BT-116 taxable amount, BT-117 VAT
 *    amount, BT-118 VAT category code
 *  - lines (BG-25, at least one, each complete): BT-126 line id, BT-129 quantity, BT-131 line
 *    net amount, BT-146 net price, BT-151 item VAT category code, BT-153 item name
 *
 * Factur-X/ZUGFeRD MINIMUM and BASIC WL are not EN 16931 invoices and have no lines by design,
 * so they are held to their own profile's mandatory terms instead; a claimed profile cannot
 * make a document "complete" that lacks what that profile itself requires. ZUGFeRD 1.0 is
 * held to the header terms (its line structure predates EN 16931).
 */
import type { InvoiceFields } from './types.ts';
import { textOf, type XmlElement } from './xml-document.ts';

const HEADER_TERMS = ['BT-1', 'BT-2', 'BT-3', 'BT-5', 'BT-24', 'BT-27', 'BT-40', 'BT-44', 'BT-55'] as const;
const TOTAL_TERMS = ['BT-106', 'BT-109', 'BT-112', 'BT-115'] as const;
const VAT_BREAKDOWN_TERMS = ['BT-116', 'BT-117', 'BT-118'] as const;
const LINE_TERMS = ['BT-126', 'BT-129', 'BT-131', 'BT-146', 'BT-151', 'BT-153'] as const;

export type BusinessTerm =
  | (typeof HEADER_TERMS)[number]
  | (typeof TOTAL_TERMS)[number]
  | (typeof VAT_BREAKDOWN_TERMS)[number]
  | (typeof LINE_TERMS)[number];

const EN16931_REQUIRED: readonly BusinessTerm[] = [...HEADER_TERMS, ...TOTAL_TERMS, ...VAT_BREAKDOWN_TERMS, ...LINE_TERMS];
const MINIMUM_REQUIRED: readonly BusinessTerm[] = ['BT-1', 'BT-2', 'BT-3', 'BT-5', 'BT-24', 'BT-27', 'BT-40', 'BT-44', 'BT-109', 'BT-112', 'BT-115'];
const BASIC_WL_REQUIRED: readonly BusinessTerm[] = [...HEADER_TERMS, ...TOTAL_TERMS, ...VAT_BREAKDOWN_TERMS];
const HEADER_AND_TOTALS: readonly BusinessTerm[] = [...HEADER_TERMS, 'BT-109', 'BT-112', 'BT-115'];

export type CompletenessProfile = 'en16931' | 'minimum' | 'basic-wl' | 'zugferd-1';

/** The profile a guideline id (BT-24) claims; anything unrecognised is held to EN 16931. */
export function completenessProfile(specificationId: string | null, isZugferd1 = false): CompletenessProfile {
  if (isZugferd1) return 'zugferd-1';
  const id = (specificationId ?? '').toLowerCase();
  if (id.includes('minimum')) return 'minimum';
  if (id.includes('basicwl') || id.includes('basic-wl')) return 'basic-wl';
  return 'en16931';
}

const REQUIRED: Record<CompletenessProfile, readonly BusinessTerm[]> = {
  en16931: EN16931_REQUIRED,
  minimum: MINIMUM_REQUIRED,
  'basic-wl': BASIC_WL_REQUIRED,
  'zugferd-1': HEADER_AND_TOTALS,
};

/** Missing terms in the order EN 16931 numbers them. */
export function missingBusinessTerms(profile: CompletenessProfile, present: ReadonlySet<BusinessTerm>): BusinessTerm[] {
  return REQUIRED[profile].filter((term) => !present.has(term));
}

/**
 * Invoice-level confidence of an e-invoice: 1 only when complete. Each missing term costs 0.05
 * from 0.95, floored at 0.5: a document without BT-112 is still a real e-invoice whose other
 * fields were read exactly (their field confidence stays 1), but not one to pay unseen.
 */
export function completenessConfidence(missing: readonly BusinessTerm[]): number {
  if (missing.length === 0) return 1;
  return Math.max(0.5, Math.round((0.95 - 0.05 * missing.length) * 100) / 100);
}

/**
 * Collects presence flags: header terms directly; group terms (VAT breakdown, lines) count as
 * present only when at least one group exists and every group has the term.
 */
class TermPresence {
  private readonly found = new Set<BusinessTerm>();

  mark(term: BusinessTerm, value: unknown): this {
    if (value !== null && value !== undefined && value !== '') this.found.add(term);
    return this;
  }

  markGroups<T>(terms: readonly BusinessTerm[], groups: readonly T[], has: (group: T, term: BusinessTerm) => boolean): this {
    if (groups.length === 0) return this;
    for (const term of terms) if (groups.every((group) => has(group, term))) this.found.add(term);
    return this;
  }

  get terms(): ReadonlySet<BusinessTerm> {
    return this.found;
  }
}

/** Groups of one kind (VAT breakdowns, lines) and, per group term, where a syntax keeps it. */
interface TermGroups {
  elements: readonly XmlElement[];
  terms: Readonly<Record<string, (group: XmlElement) => XmlElement | undefined>>;
}

/**
 * What an extractor read of the mandatory terms: the fields it extracted anyway, the few
 * terms that are not fields, and its groups. UBL and CII differ only in where they find
 * these; which terms count, and how, is decided here once.
 */
export interface TermEvidence {
  fields: Pick<InvoiceFields, 'invoiceNumber' | 'issueDate' | 'currency' | 'sellerName' | 'totalWithVat' | 'amountDue'>;
  typeCode: string | null;
  specificationId: string | null;
  sellerCountry: string | null;
  buyerName: string | null;
  buyerCountry: string | null;
  lineNetTotal: string | null;
  totalWithoutVat: string | null;
  vatBreakdowns: TermGroups;
  lines: TermGroups;
}

export function presentTerms(e: TermEvidence): ReadonlySet<BusinessTerm> {
  const has = (groups: TermGroups) => (group: XmlElement, term: BusinessTerm) => textOf(groups.terms[term]?.(group)) !== null;
  return new TermPresence()
    .mark('BT-1', e.fields.invoiceNumber)
    .mark('BT-2', e.fields.issueDate)
    .mark('BT-3', e.typeCode)
    .mark('BT-5', e.fields.currency)
    .mark('BT-24', e.specificationId)
    .mark('BT-27', e.fields.sellerName)
    .mark('BT-40', e.sellerCountry)
    .mark('BT-44', e.buyerName)
    .mark('BT-55', e.buyerCountry)
    .mark('BT-106', e.lineNetTotal)
    .mark('BT-109', e.totalWithoutVat)
    .mark('BT-112', e.fields.totalWithVat)
    .mark('BT-115', e.fields.amountDue)
    .markGroups(VAT_BREAKDOWN_TERMS, e.vatBreakdowns.elements, has(e.vatBreakdowns))
    .markGroups(LINE_TERMS, e.lines.elements, has(e.lines)).terms;
}
