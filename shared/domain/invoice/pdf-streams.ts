/**
 * Measures what a PDF's streams decode to before pdf.js is allowed near them. pdf.js inflates
 * a stream completely into one growing buffer and offers no output limit, so a 1 MB PDF with
 * a deflate bomb (an embedded "factur-x.xml" of zeros, ~1000:1) makes it allocate gigabytes.
 *
 * Every `stream … endstream` in the file (streams can never sit inside object streams, so all
 * of them are visible in the raw bytes) is decoded here with zlib's `maxOutputLength` and
 * counted; the PDF is refused (RecognitionBudgetError) when the sum passes the budget, before
 * anything is decoded past it. Declared sizes (/DL, an embedded file's /Params /Size) are
 * checked first. A stream we cannot measure (an encrypted document's, a filter chain we do not
 * decode) counts at deflate's maximum ratio, 1032:1: unknown means large.
 */
import { constants, inflateSync } from 'node:zlib';
import { RecognitionBudgetError, type RecognitionBudget } from './budget.ts';

/** zlib's deflate cannot expand more than this (RFC 1951: 258-byte matches from ~2 bits). */
const DEFLATE_MAX_RATIO = 1032;

/** Filters pdf.js only runs on images when rendering; text extraction never decodes them. */
const IMAGE_FILTERS = new Set(['DCTDecode', 'DCT', 'JPXDecode', 'CCITTFaxDecode', 'CCF', 'JBIG2Decode', 'Crypt']);
const FLATE = new Set(['FlateDecode', 'Fl']);
const SHRINKING = new Set(['ASCIIHexDecode', 'AHx', 'ASCII85Decode', 'A85']);

const STREAM = Buffer.from('stream');
const ENDSTREAM = Buffer.from('endstream');
const DICT_LOOKBACK = 64 * 1024;

/** The `<< … >>` that ends right before `end` (exclusive), nesting respected; null if none close by. */
function dictionaryBefore(buf: Buffer, end: number): string | null {
  let i = end - 1;
  while (i >= 0 && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i--;
  if (i < 1 || buf[i] !== 0x3e || buf[i - 1] !== 0x3e) return null;
  let depth = 0;
  const stop = Math.max(0, end - DICT_LOOKBACK);
  for (; i > stop; i--) {
    if (buf[i] === 0x3e && buf[i - 1] === 0x3e) {
      depth++;
      i--;
    } else if (buf[i] === 0x3c && buf[i - 1] === 0x3c) {
      depth--;
      i--;
      if (depth === 0) return buf.toString('latin1', i, end);
    }
  }
  return null;
}

function filtersOf(dict: string): string[] {
  const match = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9#]+)/.exec(dict);
  if (!match?.[1]) return [];
  return [...match[1].matchAll(/\/([A-Za-z0-9#]+)/g)].map((m) => m[1]!);
}

const declaredInt = (dict: string, pattern: RegExp): number | null => {
  const m = pattern.exec(dict);
  return m?.[1] ? Number(m[1]) : null;
};

/** Bytes `data` decodes to under `filters`, at most `limit + 1` (anything above is over the budget anyway). */
function decodedSize(data: Buffer, filters: string[], limit: number): number {
  const decoding = filters.filter((f) => !IMAGE_FILTERS.has(f));
  if (decoding.length === 0) return data.length;
  if (decoding.every((f) => SHRINKING.has(f))) return data.length;
  if (decoding.length === 1 && FLATE.has(decoding[0]!)) {
    try {
      // Z_SYNC_FLUSH: a truncated stream yields what it has, as pdf.js reads it.
      return inflateSync(data, { maxOutputLength: limit + 1, finishFlush: constants.Z_SYNC_FLUSH }).length;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) return limit + 1;
      // Corrupt or encrypted: pdf.js may still get bytes out of it; assume the worst.
    }
  }
  return data.length * DEFLATE_MAX_RATIO;
}

export interface PdfStreamsSummary {
  streams: number;
  decodedBytes: number;
}

/**
 * Throws RecognitionBudgetError when the PDF's streams would decode to more than the budget
 * allows (or there are too many of them); otherwise says what they decode to.
 */
export function checkPdfStreams(bytes: Uint8Array, budget: RecognitionBudget): PdfStreamsSummary {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = budget.limits.pdfDecodedBytes;
  let decodedBytes = 0;
  let streams = 0;
  let at = buf.indexOf(STREAM);
  while (at >= 0) {
    const isEnd = at >= 3 && buf.toString('latin1', at - 3, at) === 'end';
    let dataStart = at + STREAM.length;
    if (buf[dataStart] === 0x0d) dataStart++;
    if (buf[dataStart] === 0x0a) dataStart++;
    const dict = isEnd || dataStart === at + STREAM.length ? null : dictionaryBefore(buf, at);
    if (dict === null) {
      at = buf.indexOf(STREAM, at + STREAM.length);
      continue;
    }
    streams++;
    budget.checkCount(streams, budget.limits.pdfStreams, 'PDF streams');
    if (streams % 64 === 0) budget.checkTime('measuring PDF streams');

    const declaredLength = declaredInt(dict, /\/Length\s+(\d+)(?!\s+\d+\s+R)/);
    let dataEnd = -1;
    if (declaredLength !== null && dataStart + declaredLength <= buf.length) {
      const after = buf.toString('latin1', dataStart + declaredLength, Math.min(buf.length, dataStart + declaredLength + 12));
      if (/^\s*endstream/.test(after)) dataEnd = dataStart + declaredLength;
    }
    if (dataEnd < 0) {
      const end = buf.indexOf(ENDSTREAM, dataStart);
      dataEnd = end < 0 ? buf.length : end;
    }

    const remaining = limit - decodedBytes;
    const declared = Math.max(declaredInt(dict, /\/DL\s+(\d+)/) ?? 0, declaredInt(dict, /\/Params\s*<<[^>]*\/Size\s+(\d+)/) ?? 0);
    if (declared > remaining) {
      throw new RecognitionBudgetError(`a PDF stream declares ${declared} decoded bytes, over the ${limit}-byte decoding budget`);
    }
    decodedBytes += decodedSize(buf.subarray(dataStart, dataEnd), filtersOf(dict), remaining);
    if (decodedBytes > limit) {
      throw new RecognitionBudgetError(`the PDF's streams decode to more than the ${limit}-byte budget (passed at stream ${streams})`);
    }
    at = buf.indexOf(STREAM, Math.max(dataEnd, at + STREAM.length));
  }
  return { streams, decodedBytes };
}
