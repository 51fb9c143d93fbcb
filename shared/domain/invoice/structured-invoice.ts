/**
 * Turns XML bytes into a RecognisedInvoice when the root element is an e-invoice, deciding
 * the format from the document itself (root namespace, specification identifier) and, for
 * XML found inside a PDF, from the embedded file name.
 */
import type { InvoiceFormat, RecognisedInvoice, RecognitionProblem } from './types.ts';
import { INVOICE_FIELDS } from './types.ts';
import { XmlDocumentError, parseXmlDocument } from './xml-document.ts';
import type { RecognitionBudget } from './budget.ts';
import { extractUbl, isUblRoot } from './ubl.ts';
import { ciiDialectOf, extractCii } from './cii.ts';
import type { StructuredInvoiceData } from './structured-data.ts';

export interface XmlRecognition {
  invoice: RecognisedInvoice | null;
  problems: RecognitionProblem[];
}

/** Present when the XML came out of a PDF; the name is the embedded file's name. */
export interface EmbeddingContext {
  embeddedFileName: string;
}

// File names from the ZUGFeRD 1.0 and 2.0 specifications. ZUGFeRD >= 2.1 adopted
// Factur-X's "factur-x.xml", so these names alone identify the older German lineage.
const ZUGFERD_FILE_NAMES = new Set(['zugferd-invoice.xml']);

/**
 * Factur-X vs ZUGFeRD for CII inside a PDF. Since ZUGFeRD 2.1 the two are one standard
 * (same XML, same guideline IDs, same "factur-x.xml"), so only the older ZUGFeRD
 * generations are distinguishable; we call something `zugferd` when any of these holds:
 *  1. the XML is a ZUGFeRD 1.0 CrossIndustryDocument (urn:ferd:... namespace);
 *  2. the guideline ID names ZUGFeRD (`urn:zugferd...`, `urn:ferd:...`, `...zugferd.de...`),
 *     as ZUGFeRD 2.0 wrote e.g. `urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended`;
 *  3. the embedded file is `zugferd-invoice.xml` / `ZUGFeRD-invoice.xml` (1.0/2.0 names).
 * Everything else embedded in a PDF is `factur-x`: `factur-x.xml`, `urn:factur-x.eu:...`
 * guideline IDs, plain `urn:cen.eu:en16931:2017`, and `xrechnung.xml` (the XRECHNUNG
 * profile of Factur-X 1.07 / ZUGFeRD 2.3): the format names the container a reader has to
 * deal with, and that is a Factur-X hybrid PDF whatever profile the XML follows.
 */
function hybridFormat(data: StructuredInvoiceData, isZugferd1: boolean, embeddedFileName: string): InvoiceFormat {
  const guideline = (data.specificationId ?? '').toLowerCase();
  const fileName = embeddedFileName.toLowerCase();
  if (isZugferd1 || /urn:zugferd|urn:ferd:|zugferd\.de/.test(guideline) || ZUGFERD_FILE_NAMES.has(fileName)) {
    return 'zugferd';
  }
  return 'factur-x';
}

function isXrechnung(data: StructuredInvoiceData): boolean {
  return (data.specificationId ?? '').toLowerCase().includes('xrechnung');
}

const MANDATORY: Array<[keyof StructuredInvoiceData['fields'], string]> = [
  ['invoiceNumber', 'BT-1 invoice number'],
  ['issueDate', 'BT-2 issue date'],
  ['currency', 'BT-5 currency'],
  ['totalWithVat', 'BT-112 total with VAT'],
  ['amountDue', 'BT-115 amount due'],
];

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

  const problems: RecognitionProblem[] = [];
  const missing = MANDATORY.filter(([field]) => data.fields[field] === null).map(([, label]) => label);
  if (missing.length > 0) {
    problems.push({ code: 'invoice-incomplete', message: `e-invoice lacks mandatory ${missing.join(', ')}` });
  }

  return {
    invoice: {
      format,
      documentType: data.documentType,
      ...data.fields,
      method: embedding ? 'embedded-xml' : 'structured-xml',
      confidence: 1,
      fieldConfidence: Object.fromEntries(INVOICE_FIELDS.map((field) => [field, 1])),
    },
    problems,
  };
}
