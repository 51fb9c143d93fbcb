/**
 * What the invoice recogniser reports about one attachment. Field names follow EN 16931
 * business terms (BT-x in the comments) so structured and heuristic results can be compared
 * and stored side by side.
 */

export type InvoiceFormat = 'factur-x' | 'zugferd' | 'xrechnung-ubl' | 'xrechnung-cii' | 'ubl' | 'cii' | 'pdf-text';

export type InvoiceDocumentType = 'invoice' | 'credit-note';

type RecognitionMethod = 'structured-xml' | 'embedded-xml' | 'pdf-text';

export interface RecognisedInvoice {
  format: InvoiceFormat;
  documentType: InvoiceDocumentType;
  /** BT-1 */
  invoiceNumber: string | null;
  /** BT-2, YYYY-MM-DD */
  issueDate: string | null;
  /** BT-9, YYYY-MM-DD */
  dueDate: string | null;
  /** BT-5, ISO 4217 code */
  currency: string | null;
  /**
   * BT-112. Decimal string; for XML exactly as written (only surrounding whitespace removed),
   * for pdf-text rewritten to the same form ("1234.56") with the printed number of decimals.
   */
  totalWithVat: string | null;
  /** BT-115, same conventions as totalWithVat. */
  amountDue: string | null;
  /** BT-27 (falls back to the trading name BT-28 when a non-EN 16931 document lacks it). */
  sellerName: string | null;
  /** BT-31, whitespace removed ("DE 123456789" → "DE123456789"). */
  sellerVatId: string | null;
  /** BT-10 (in Germany usually the Leitweg-ID). */
  buyerReference: string | null;
  /** BT-84 of the first payment means, whitespace removed. Not necessarily an IBAN in XML. */
  iban: string | null;
  method: RecognitionMethod;
  /** 1 for structured data; below 1 for anything guessed from text. */
  confidence: number;
  /** Per field name above: 0 for a field not found; structured: 1 for every value read. */
  fieldConfidence: Record<string, number>;
  /** What accounting should know before trusting it (empty when nothing). */
  warnings: RecognitionWarning[];
}

/**
 * - einvoice-incomplete: an e-invoice lacks mandatory EN 16931 business terms of the profile
 *   it claims; `missing` names them ("BT-2", "BT-112", ...). Its confidence is below 1.
 */
interface EinvoiceIncompleteWarning {
  code: 'einvoice-incomplete';
  missing: string[];
}

export type RecognitionWarning = EinvoiceIncompleteWarning;

/**
 * Machine-readable reasons an attachment yielded no (or an incomplete) invoice:
 * - empty: zero bytes
 * - too-large: above the XML (10 MB) or PDF (25 MB) cap, not parsed at all
 * - unsupported-type: neither PDF nor XML by content (name and MIME type are only hints)
 * - xml-invalid: not well-formed, bad encoding, undeclared namespace prefix
 * - xml-dtd-forbidden: has a DOCTYPE/ENTITY declaration (no e-invoice needs one; blocks entity bombs)
 * - xml-not-invoice: well-formed XML whose root is not a UBL Invoice/CreditNote or CII invoice
 * - pdf-encrypted: needs a password we do not have
 * - pdf-unreadable: pdf.js cannot open it (truncated, corrupt)
 * - pdf-no-text: no embedded e-invoice and no extractable text (e.g. a scan; we do no OCR)
 * - embedded-xml-invalid: a PDF carries an e-invoice-named XML file that cannot be used
 * - invoice-like-unrecognised: a plain PDF reads like an invoice (invoice words with an amount,
 *   IBAN or invoice number) but too little of it was found to record an invoice
 * - recognition-budget-exceeded: recognising it would pass its budget (time, decoded PDF bytes,
 *   text items, XML elements: shared/domain/invoice/budget.ts); stored, not recognised
 * - recognition-failed: unexpected internal error (a bug); the message has the details
 */
type RecognitionProblemCode =
  | 'empty'
  | 'too-large'
  | 'unsupported-type'
  | 'xml-invalid'
  | 'xml-dtd-forbidden'
  | 'xml-not-invoice'
  | 'pdf-encrypted'
  | 'pdf-unreadable'
  | 'pdf-no-text'
  | 'embedded-xml-invalid'
  | 'invoice-like-unrecognised'
  | 'recognition-budget-exceeded'
  | 'recognition-failed';

export interface RecognitionProblem {
  code: RecognitionProblemCode;
  message: string;
}

export interface RecognitionResult {
  invoices: RecognisedInvoice[];
  problems: RecognitionProblem[];
}

export const INVOICE_FIELDS = [
  'invoiceNumber',
  'issueDate',
  'dueDate',
  'currency',
  'totalWithVat',
  'amountDue',
  'sellerName',
  'sellerVatId',
  'buyerReference',
  'iban',
] as const;

export type InvoiceField = (typeof INVOICE_FIELDS)[number];

export type InvoiceFields = Record<InvoiceField, string | null>;
