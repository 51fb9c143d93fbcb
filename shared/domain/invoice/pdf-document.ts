/**
 * The only place that touches pdf.js (through unpdf): open a PDF, list embedded files, and
 * read page text as lines. pdf.js errors are translated into PdfDocumentError codes here so
 * the recogniser never depends on pdf.js exception classes.
 */
import { getDocumentProxy } from 'unpdf';
import type { PdfPageText, PdfTextRun } from './pdf-layout.ts';
import type { RecognitionBudget } from './budget.ts';

export const MAX_PDF_BYTES = 25 * 1024 * 1024;
/** Invoices are short; a 500-page catalogue attached to a mail should not stall the pipeline. */
const MAX_TEXT_PAGES = 20;

const CLOSE_TIMEOUT_MS = 2_000;

export type PdfDocumentErrorCode = 'pdf-encrypted' | 'pdf-unreadable';

export class PdfDocumentError extends Error {
  override name = 'PdfDocumentError';
  constructor(
    readonly code: PdfDocumentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface EmbeddedFile {
  name: string;
  bytes: Uint8Array;
}

export interface OpenedPdf {
  readonly pageCount: number;
  /** Files from the /EmbeddedFiles name tree; size caps are the XML parser's job. */
  embeddedFiles(): Promise<EmbeddedFile[]>;
  /**
   * Positioned text runs of the first pages. Reads pdf.js's text stream chunk by chunk,
   * checking the budget's clock and text-item cap between chunks (RecognitionBudgetError),
   * so one page drawing a huge content stream, or every page drawing the same one, stops at
   * the budget instead of running for minutes.
   */
  textPages(budget: RecognitionBudget): Promise<PdfPageText[]>;
  close(): Promise<void>;
}

const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

/** PDF readers accept up to 1 KiB of junk before the header, so we do too. */
export function hasPdfMagic(firstBytes: Uint8Array): boolean {
  const limit = Math.min(firstBytes.length - PDF_MAGIC.length, 1024);
  for (let start = 0; start <= limit; start++) {
    if (PDF_MAGIC.every((b, i) => firstBytes[start + i] === b)) return true;
  }
  return false;
}

function endsWithEofMarker(bytes: Uint8Array): boolean {
  const tail = new TextDecoder('latin1').decode(bytes.subarray(Math.max(0, bytes.length - 1024)));
  return tail.includes('%%EOF');
}

interface TextItemLike {
  str?: unknown;
  transform?: unknown;
  width?: unknown;
  height?: unknown;
}

/** pdf.js text items as runs; how many are read is the budget's cap (pdfTextItems). */
function toRuns(items: readonly TextItemLike[]): PdfTextRun[] {
  const runs: PdfTextRun[] = [];
  for (const item of items) {
    if (typeof item.str !== 'string' || !Array.isArray(item.transform)) continue;
    const [a, b, , , x, y] = item.transform as number[];
    if (typeof x !== 'number' || typeof y !== 'number') continue;
    // The font size is the length of the text matrix's x axis (rotation-independent).
    const scale = typeof a === 'number' && typeof b === 'number' ? Math.hypot(a, b) : 0;
    runs.push({
      str: item.str.length > 2_000 ? item.str.slice(0, 2_000) : item.str,
      x,
      y,
      width: typeof item.width === 'number' ? item.width : 0,
      height: typeof item.height === 'number' && item.height > 0 ? item.height : scale,
    });
  }
  return runs;
}

export async function openPdf(bytes: Uint8Array): Promise<OpenedPdf> {
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A plain copy: pdf.js may transfer (detach) the buffer it is given, and it rejects Node
    // Buffers, which is what mail parsers hand out (Buffer#slice would not even copy).
    doc = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
      disableFontFace: true,
      useSystemFonts: false,
      enableXfa: false,
    });
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'PasswordException') {
      throw new PdfDocumentError('pdf-encrypted', 'PDF is password-protected; it cannot be read without the password');
    }
    const detail = error instanceof Error ? error.message : String(error);
    const hint = endsWithEofMarker(bytes) ? '' : ' It has no %%EOF marker at the end, so it is probably truncated.';
    throw new PdfDocumentError('pdf-unreadable', `PDF cannot be opened: ${detail}.${hint}`);
  }

  return {
    pageCount: doc.numPages,

    async embeddedFiles() {
      const attachments = await doc.getAttachments();
      const files: EmbeddedFile[] = [];
      for (const [id, attachment] of attachments ?? []) {
        const content = attachment.content ?? (await doc.getAttachmentContent(id));
        if (!content) continue;
        files.push({ name: attachment.filename || id, bytes: content });
      }
      return files;
    },

    async textPages(budget) {
      const pages: PdfPageText[] = [];
      let itemCount = 0;
      for (let pageNumber = 1; pageNumber <= Math.min(doc.numPages, MAX_TEXT_PAGES); pageNumber++) {
        budget.checkTime(`text of page ${pageNumber}`);
        const page = await doc.getPage(pageNumber);
        const [, , , top = 842] = page.view;
        const reader = (page.streamTextContent() as ReadableStream<{ items: TextItemLike[] }>).getReader();
        const runs: PdfTextRun[] = [];
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            itemCount += value.items.length;
            budget.checkCount(itemCount, budget.limits.pdfTextItems, 'PDF text items');
            budget.checkTime(`text of page ${pageNumber}`);
            for (const run of toRuns(value.items)) runs.push(run);
          }
        } catch (error) {
          // Keep draining (and dropping) the stream until close() has terminated pdf.js's task:
          // a stream nobody reads holds that task on backpressure, and destroy() waits for it
          // forever. (reader.cancel() instead makes pdf.js enqueue into a closed stream and
          // throw uncaught.)
          void (async () => {
            for (;;) if ((await reader.read()).done) return;
          })().catch(() => undefined);
          throw error;
        }
        pages.push({ height: top, runs });
      }
      return pages;
    },

    async close() {
      // Never wait forever on pdf.js's teardown: a stuck destroy must not hold the message.
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        timer.unref();
      });
      await Promise.race([doc.loadingTask.destroy(), giveUp]).finally(() => clearTimeout(timer));
    },
  };
}
