/**
 * Public entry point: one attachment in, recognised invoices and problems out.
 *
 * Order of trust: an e-invoice XML (standalone, or embedded in a PDF as Factur-X/ZUGFeRD)
 * beats anything read off the page, so a hybrid PDF's text is never consulted. The file
 * name and MIME type are hints for messages only: mail clients mislabel attachments
 * (application/octet-stream, "scan.pdf" that is XML), so the bytes decide.
 *
 * Never throws for bad input: every failure becomes a `problems` entry, because the mail
 * pipeline must keep processing the other attachments of the same message. That includes
 * an attachment over its RecognitionBudget (time, decoded bytes, text items, XML elements):
 * `recognition-budget-exceeded`, no invoice from it.
 */
import type { RecognitionProblem, RecognitionResult } from './types.ts';
import { MAX_XML_BYTES, looksLikeXml } from './xml-document.ts';
import { recogniseInvoiceXml } from './structured-invoice.ts';
import { MAX_PDF_BYTES, PdfDocumentError, hasPdfMagic, openPdf } from './pdf-document.ts';
import type { EmbeddedFile, OpenedPdf } from './pdf-document.ts';
import { isInvoiceLike, recogniseInvoiceLayout } from './pdf-text-heuristics.ts';
import { layoutFromPages } from './pdf-layout.ts';
import type { TextLayout } from './pdf-layout.ts';
import { checkPdfStreams } from './pdf-streams.ts';
import { RecognitionBudget, RecognitionBudgetError } from './budget.ts';

export interface AttachmentInput {
  bytes: Uint8Array;
  /** Hint only (used in messages); detection goes by content. */
  filename?: string;
  /** Hint only (used in messages); detection goes by content. */
  contentType?: string;
  /** What recognising this attachment may cost; defaults to RECOGNITION_LIMITS from now. */
  budget?: RecognitionBudget;
}

/** Names the Factur-X, ZUGFeRD 1.0/2.x and XRechnung-in-PDF specifications give the XML. */
const E_INVOICE_FILE_NAMES = ['factur-x.xml', 'zugferd-invoice.xml', 'xrechnung.xml'];

const SNIFF_BYTES = 1024;

/**
 * Cheap pre-check from the first bytes (1 KiB is plenty) so the caller knows which MIME
 * parts are worth buffering: PDF magic or an XML start. Name and type are accepted for API
 * symmetry but cannot make random bytes a candidate; an XML part named ".txt" still is one.
 */
export function isCandidateAttachment(
  _filename: string | undefined,
  _contentType: string | undefined,
  firstBytes: Uint8Array,
): boolean {
  const head = firstBytes.subarray(0, SNIFF_BYTES);
  return hasPdfMagic(head) || looksLikeXml(head);
}

function describe(input: AttachmentInput): string {
  const parts = [input.filename && `"${input.filename}"`, input.contentType && `(${input.contentType})`].filter(Boolean);
  return parts.length > 0 ? `attachment ${parts.join(' ')}` : 'attachment';
}

function problem(code: RecognitionProblem['code'], message: string): RecognitionResult {
  return { invoices: [], problems: [{ code, message }] };
}

/** E-invoice names first (most specific), then any other XML the PDF carries. */
function orderEmbeddedFiles(files: EmbeddedFile[]): EmbeddedFile[] {
  const rank = (file: EmbeddedFile): number => {
    const index = E_INVOICE_FILE_NAMES.indexOf(file.name.toLowerCase());
    return index >= 0 ? index : E_INVOICE_FILE_NAMES.length;
  };
  return files
    .filter((f) => rank(f) < E_INVOICE_FILE_NAMES.length || looksLikeXml(f.bytes.subarray(0, SNIFF_BYTES)))
    .sort((a, b) => rank(a) - rank(b));
}

async function recognisePdf(input: AttachmentInput, budget: RecognitionBudget): Promise<RecognitionResult> {
  const label = describe(input);
  if (input.bytes.length > MAX_PDF_BYTES) {
    return problem('too-large', `${label} is a PDF of ${input.bytes.length} bytes, the limit is ${MAX_PDF_BYTES}`);
  }
  // Before pdf.js decodes anything: what would its streams inflate to?
  checkPdfStreams(input.bytes, budget);
  let pdf: OpenedPdf;
  try {
    pdf = await openPdf(input.bytes);
  } catch (error) {
    if (error instanceof PdfDocumentError) return problem(error.code, `${label}: ${error.message}`);
    return problem('pdf-unreadable', `${label}: PDF cannot be opened: ${String(error)}`);
  }

  const problems: RecognitionProblem[] = [];
  try {
    let embedded: EmbeddedFile[] = [];
    try {
      embedded = orderEmbeddedFiles(await pdf.embeddedFiles());
    } catch (error) {
      if (error instanceof RecognitionBudgetError) throw error;
      problems.push({ code: 'pdf-unreadable', message: `${label}: embedded files cannot be read: ${String(error)}` });
    }
    for (const file of embedded) {
      const isNamedEInvoice = E_INVOICE_FILE_NAMES.includes(file.name.toLowerCase());
      budget.checkTime('embedded files');
      const result = recogniseInvoiceXml(file.bytes, { embeddedFileName: file.name }, budget);
      if (result.invoice) {
        const own = result.problems.map((p) => ({ ...p, message: `${label}: embedded ${file.name}: ${p.message}` }));
        return { invoices: [result.invoice], problems: [...problems, ...own] };
      }
      // Other XML attachments (delivery notes, timesheets) are not worth a problem.
      if (isNamedEInvoice) {
        const reasons = result.problems.map((p) => `${p.code}: ${p.message}`).join('; ');
        problems.push({ code: 'embedded-xml-invalid', message: `${label}: embedded ${file.name} is unusable (${reasons})` });
      }
    }

    let layout: TextLayout;
    try {
      layout = layoutFromPages(await pdf.textPages(budget));
    } catch (error) {
      if (error instanceof RecognitionBudgetError) throw error;
      problems.push({ code: 'pdf-unreadable', message: `${label}: text cannot be extracted: ${String(error)}` });
      return { invoices: [], problems };
    }
    if (layout.lines.length === 0) {
      problems.push({ code: 'pdf-no-text', message: `${label}: PDF has no extractable text (scanned image?); OCR is not attempted` });
      return { invoices: [], problems };
    }
    budget.checkTime('text heuristics');
    const invoice = recogniseInvoiceLayout(layout);
    if (!invoice && isInvoiceLike(layout)) {
      problems.push({
        code: 'invoice-like-unrecognised',
        message: `${label}: reads like an invoice, but neither an invoice number nor a total could be found in its text`,
      });
    }
    return { invoices: invoice ? [invoice] : [], problems };
  } finally {
    await pdf.close().catch(() => undefined);
  }
}

function recogniseXml(input: AttachmentInput, budget: RecognitionBudget): RecognitionResult {
  const label = describe(input);
  if (input.bytes.length > MAX_XML_BYTES) {
    return problem('too-large', `${label} is XML of ${input.bytes.length} bytes, the limit is ${MAX_XML_BYTES}`);
  }
  const result = recogniseInvoiceXml(input.bytes, undefined, budget);
  return {
    invoices: result.invoice ? [result.invoice] : [],
    problems: result.problems.map((p) => ({ ...p, message: `${label}: ${p.message}` })),
  };
}

export async function recogniseAttachment(input: AttachmentInput): Promise<RecognitionResult> {
  const budget = input.budget ?? new RecognitionBudget();
  try {
    const bytes = input.bytes;
    if (!bytes || bytes.length === 0) return problem('empty', `${describe(input)} is empty`);
    const head = bytes.subarray(0, SNIFF_BYTES);
    if (hasPdfMagic(head)) return await recognisePdf(input, budget);
    if (looksLikeXml(head)) return recogniseXml(input, budget);
    return problem('unsupported-type', `${describe(input)} is neither a PDF nor XML by content`);
  } catch (error) {
    if (error instanceof RecognitionBudgetError) {
      return problem('recognition-budget-exceeded', `${describe(input)} is over its recognition budget, not recognised: ${error.message}`);
    }
    // Last line of defence for bugs in our code or the libraries: report, do not throw.
    return problem('recognition-failed', `${describe(input)} could not be processed: ${String(error)}`);
  }
}
