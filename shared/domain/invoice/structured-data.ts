/** What the syntax-specific extractors (UBL, CII) hand to the recogniser. */
import type { InvoiceDocumentType, InvoiceFields } from './types.ts';
import type { BusinessTerm } from './einvoice-completeness.ts';

export interface StructuredInvoiceData {
  fields: InvoiceFields;
  documentType: InvoiceDocumentType;
  /** BT-24 specification identifier (UBL CustomizationID / CII guideline ID). */
  specificationId: string | null;
  /** Mandatory EN 16931 terms found (see einvoice-completeness.ts for what counts). */
  terms: ReadonlySet<BusinessTerm>;
}

/**
 * UNTDID 1001 document type codes that EN 16931 treats as credit notes (BT-3). Everything
 * else, including corrected invoices (384) and prepayment invoices (386), is an invoice.
 */
const CREDIT_NOTE_TYPE_CODES = new Set(['81', '83', '261', '262', '296', '308', '381', '396', '420', '458', '532']);

export function isCreditNoteTypeCode(code: string | null): boolean {
  return code !== null && CREDIT_NOTE_TYPE_CODES.has(code.trim());
}
