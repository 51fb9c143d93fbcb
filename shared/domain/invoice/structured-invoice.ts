/**
 * Turns XML bytes into a RecognisedInvoice when the root element is an e-invoice, deciding
 * the format from the document itself (root namespace, specification identifier) and, for
 * XML found inside a PDF, from the embedded file name.
 */
import type { InvoiceFormat, RecognisedInvoice, RecognitionProblem, RecognitionWarning } from './types.ts';
import { INVOICE_FIELDS } from './types.ts';
import { XmlDocumentError, parseXmlDocument } from './xml-document.ts';
import type { RecognitionBudget } from './budget.ts';
import { extractUbl, isUblRoot } from './ubl.ts';
import { ciiDialectOf, extractCii } from './cii.ts';
import type { StructuredInvoiceData } from './structured-data.ts';
import { completenessConfidence, completenessProfile, missingBusinessTerms } from './einvoice-completeness.ts';

export interface XmlRecognition {
  invoice: RecognisedInvoice | null;
  problems: RecognitionProblem[];
}

/** Present when the XML came out of a PDF; the name is the embedded file's name. */
export interface EmbeddingContext {
  embeddedFileName: string;
}

/**
 * The format of CII found inside a PDF. The guideline identifier (BT-24) is what the producer
 * declares the XML to be, so it decides first; the embedded file's name only when the
 * guideline does not tell (plain `urn:cen.eu:en16931:2017` is written by Factur-X and ZUGFeRD
 * 2.x alike):
 *  1. ZUGFeRD 1.0 CrossIndustryDocument (urn:ferd:... root) -> zugferd;
 *  2. guideline naming XRechnung (`...#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0`, the
 *     XRECHNUNG profile of Factur-X 1.07 / ZUGFeRD 2.3) -> xrechnung-cii: accounting must
 *     treat it as an XRechnung, whatever container carries it;
 *  3. guideline naming ZUGFeRD (`urn:zugferd...`, `urn:ferd:...`, `...zugferd.de...`) -> zugferd;
 *  4. guideline naming Factur-X (`urn:factur-x.eu:...`) -> factur-x;
 *  5. file name: `xrechnung.xml` -> xrechnung-cii, `zugferd-invoice.xml` (ZUGFeRD 1.0/2.0
 *     name; ZUGFeRD >= 2.1 adopted `factur-x.xml`) -> zugferd, anything else -> factur-x.
 */
function hybridFormat(data: StructuredInvoiceData, isZugferd1: boolean, embeddedFileName: string): InvoiceFormat {
  const guideline = (data.specificationId ?? '').toLowerCase();
  const fileName = embeddedFileName.toLowerCase();
  if (isZugferd1) return 'zugferd';
  if (guideline.includes('xrechnung')) return 'xrechnung-cii';
  if (/urn:zugferd|urn:ferd:|zugferd\.de/.test(guideline)) return 'zugferd';
  if (guideline.includes('factur-x')) return 'factur-x';
  if (fileName === 'xrechnung.xml') return 'xrechnung-cii';
  if (fileName === 'zugferd-invoice.xml') return 'zugferd';
  return 'factur-x';
}

function isXrechnung(data: StructuredInvoiceData): boolean {
  return (data.specificationId ?? '').toLowerCase().includes('xrechnung');
}

/** Throws RecognitionBudgetError (never an XML problem) when the document is over `budget`. */
export function recogniseInvoiceXml(bytes: Uint8Array, embedding?: EmbeddingContext, budget?: RecognitionBudget): XmlRecognition {
  let root;
  try {
    root = parseXmlDocument(bytes, budget);
  } catch (error) {
    if (error instanceof XmlDocumentError) return { invoice: null, problems: [{ code: error.code, message: error.message }] };
    throw error;
  }

  let data: StructuredInvoiceData;
  let format: InvoiceFormat;
  const dialect = ciiDialectOf(root);
  if (isUblRoot(root)) {
    data = extractUbl(root);
    // Factur-X/ZUGFeRD are CII-only, so a UBL file in a PDF is just UBL that travels in one.
    format = isXrechnung(data) ? 'xrechnung-ubl' : 'ubl';
  } else if (dialect !== null) {
    data = extractCii(root, dialect);
    if (embedding) format = hybridFormat(data, dialect === 'zugferd-1', embedding.embeddedFileName);
    else format = isXrechnung(data) ? 'xrechnung-cii' : 'cii';
  } else {
    return {
      invoice: null,
      problems: [
        {
          code: 'xml-not-invoice',
          message: `XML root {${root.ns}}${root.local} is not a UBL Invoice/CreditNote or a CII CrossIndustryInvoice`,
        },
      ],
    };
  }

  const missing = missingBusinessTerms(completenessProfile(data.specificationId, dialect === 'zugferd-1'), data.terms);
  const warnings: RecognitionWarning[] = missing.length > 0 ? [{ code: 'einvoice-incomplete', missing }] : [];

  return {
    invoice: {
      format,
      documentType: data.documentType,
      ...data.fields,
      method: embedding ? 'embedded-xml' : 'structured-xml',
      confidence: completenessConfidence(missing),
      // A value read from the XML is exactly what the producer wrote; an absent one is absent.
      fieldConfidence: Object.fromEntries(INVOICE_FIELDS.map((field) => [field, data.fields[field] === null ? 0 : 1])),
      warnings,
    },
    problems: [],
  };
}
