/**
 * Best-effort invoice fields from the text layer of a plain PDF, in English, German, French,
 * Dutch, Spanish and Italian. Reads the layout (pdf-layout.ts), not a flat string:
 *  - a label's value is in the same segment after it, in the next segment to the right, or in
 *    the segment below it in the same column (label rows over value rows);
 *  - buyer blocks ("Bill To", "ATTN:", "Rechnungsempfänger", "Client", ...) are fenced off, so
 *    the customer's name, VAT id or IBAN is never taken for the seller's;
 *  - the seller is the legal name that the letterhead, the sender line, a "Sold By" label or
 *    the footer with VAT id / IBAN / register entry agree on.
 *
 * Confidence is evidence-based and calibrated on the generated corpus (bench:recognition prints
 * it): >= 0.8 only for a value under a specific label, validated where a check exists (IBAN
 * checksum, VAT id shape, net + VAT = total); a guess from position alone stays below 0.5.
 * Nothing is returned when the text does not read like an invoice.
 *
 * Every pattern here is linear: alternations of literals and bounded classes, no nested
 * quantifiers; text is examined per segment, and segments are capped in length.
 */
import type { InvoiceDocumentType, InvoiceField, InvoiceFields, RecognisedInvoice } from './types.ts';
import { INVOICE_FIELDS } from './types.ts';
import { isValidIban } from './iban.ts';
import { isoDate } from './values.ts';
import { layoutFromLines } from './pdf-layout.ts';
import type { LayoutLine, Segment, TextLayout } from './pdf-layout.ts';
import { RECOGNITION_LIMITS } from './budget.ts';

interface Guess {
  value: string;
  confidence: number;
}

/** Longer segments are cut before any pattern looks at them (RECOGNITION_LIMITS.lineChars). */
const MAX_SEGMENT_CHARS = RECOGNITION_LIMITS.lineChars;
/** Lines considered (RECOGNITION_LIMITS.textLines); invoices that matter fit in far fewer. */
const MAX_LINES = RECOGNITION_LIMITS.textLines;

// ---------------------------------------------------------------- document kind

const INVOICE_KEYWORD =
  /\b(rechnung\w{0,20}|invoice\w{0,10}|factur\w{0,10}|fattura|factuur|faktura|gutschrift|credit\s?note|tax\s?invoice|bill\s?of\s?supply)\b/i;
const CREDIT_NOTE_KEYWORD =
  /\b(gutschrift|credit\s?note|avoir|rechnungskorrektur|stornorechnung|creditnota|nota\s?de\s?cr[ée]dito|factura\s?rectificativa|nota\s?di\s?credito)\b/i;
const OTHER_DOCUMENT_KEYWORD =
  /\b(angebot|kostenvoranschlag|quotation|quote|offer|offerte|devis|presupuesto|preventivo|lieferschein|delivery\s?note|bon\s?de\s?livraison|auftragsbestätigung|order\s?confirmation|mahnung|zahlungserinnerung|payment\s?reminder|kontoauszug|bank\s?statement|pro\s?forma|proforma)\b/i;

// ---------------------------------------------------------------- amounts

/**
 * Amounts with exactly two decimals; totals on invoices are always printed that way. The
 * matches are exactly those of
 *   /(?<![\d.,])([-−]?)(\d{1,3}(?:[.,'\u00a0\u202f ]\d{3})+|\d+)([.,])(\d{2})(?![\d.,]?\d)/g
 * (the unit test holds that pattern and compares), but found in linear time: the pattern
 * backtracks through the whole digit-group chain from every group start, so a 200 kB line of
 * "123 123 123 …" (a few hundred bytes of deflated PDF) took it minutes. Here one right-to-left
 * pass precomputes, per position, the digit run, the group chain and the furthest place in
 * that chain where a decimal tail fits; every start is then decided in constant time.
 */
/** Indian lakh/crore grouping; the repetition is bounded, so each start costs constant work. */
const LAKH_AMOUNT = /(?<![\d.,])([-−]?)(\d{1,2}(?:,\d{2}){1,6},\d{3})\.(\d{2})(?![\d]|[.,]\d)/g;
const LAKH_AMOUNT_ONE = new RegExp(`^${LAKH_AMOUNT.source}$`);

interface AmountMatch {
  sign: string;
  integerPart: string;
  decimalSeparator: string;
  decimals: string;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isDecimalSeparator = (c: number): boolean => c === 0x2e || c === 0x2c; // . ,
const isGroupSeparator = (c: number): boolean => c === 0x2e || c === 0x2c || c === 0x27 || c === 0xa0 || c === 0x202f || c === 0x20;

export function amountMatches(line: string): AmountMatch[] {
  const n = line.length;
  const at = (i: number): number => (i < n ? line.charCodeAt(i) : -1);
  // tail(q): [.,]\d{2} at q, not followed by a digit or by [.,] and a digit.
  const tail = (q: number): boolean =>
    isDecimalSeparator(at(q)) && isDigit(at(q + 1)) && isDigit(at(q + 2)) && !isDigit(at(q + 3)) && !(isDecimalSeparator(at(q + 3)) && isDigit(at(q + 4)));
  const run = new Int32Array(n + 5); // digits starting at i
  const groups = new Int32Array(n + 5); // consecutive "S\d{3}" groups starting at i
  const furthest = new Int32Array(n + 5).fill(-1); // furthest tail position in the chain from i (i itself included)
  for (let i = n - 1; i >= 0; i--) {
    run[i] = isDigit(at(i)) ? 1 + run[i + 1]! : 0;
    groups[i] = isGroupSeparator(at(i)) && isDigit(at(i + 1)) && isDigit(at(i + 2)) && isDigit(at(i + 3)) ? 1 + groups[i + 4]! : 0;
  }
  for (let i = n; i >= 0; i--) {
    const further = groups[i]! >= 1 ? furthest[i + 4]! : -1;
    furthest[i] = further >= 0 ? further : tail(i) ? i : -1;
  }

  const out: AmountMatch[] = [];
  for (let i = 0; i < n; ) {
    if (i > 0 && (isDigit(at(i - 1)) || isDecimalSeparator(at(i - 1)))) {
      i++;
      continue;
    }
    const c = at(i);
    const p = c === 0x2d || c === 0x2212 ? i + 1 : i; // - or −
    const r = run[p] ?? 0;
    let q = -1;
    if (r >= 1) {
      // \d{1,3}(?:S\d{3})+ can only take the whole run (a shorter one leaves a digit where S must be).
      if (r <= 3 && groups[p + r]! >= 1) q = furthest[p + r + 4]!;
      // \d+ can only end where the run ends (the tail needs [.,] there).
      if (q < 0 && tail(p + r)) q = p + r;
    }
    if (q < 0) {
      i++;
      continue;
    }
    out.push({ sign: line.slice(i, p), integerPart: line.slice(p, q), decimalSeparator: line[q]!, decimals: line.slice(q + 1, q + 3) });
    i = q + 3;
  }
  return out;
}

function amountsIn(text: string): string[] {
  const out: string[] = [];
  // Indian grouping first (1,23,456.78, which three-digit groups do not cover), then the
  // linear scanner on the text between those.
  const pieces: string[] = [];
  let from = 0;
  for (const match of text.matchAll(LAKH_AMOUNT)) {
    pieces.push(text.slice(from, match.index), match[0]);
    from = match.index + match[0].length;
  }
  pieces.push(text.slice(from));
  const matches = pieces.flatMap((piece, i) => {
    if (i % 2 === 0) return amountMatches(piece);
    const lakh = LAKH_AMOUNT_ONE.exec(piece)!;
    return [{ sign: lakh[1] ?? '', integerPart: lakh[2]!, decimalSeparator: '.', decimals: lakh[3]! }];
  });
  for (const { sign, integerPart, decimalSeparator, decimals } of matches) {
    const groupSeparators = integerPart.replace(/\d/g, '');
    if (groupSeparators.includes(decimalSeparator)) continue; // "1.234.56" is not a number
    out.push(`${sign === '' ? '' : '-'}${integerPart.replace(/\D/g, '')}.${decimals}`);
  }
  return out;
}

// ---------------------------------------------------------------- currency

const CURRENCY_CODES = ['EUR', 'USD', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'JPY', 'CAD', 'AUD', 'INR', 'CNY', 'RON', 'BGN', 'TRY', 'NZD', 'SGD', 'HKD', 'ZAR', 'BRL', 'MXN'];
const CURRENCY_CODE = new RegExp(`(?<![A-Za-z])(${CURRENCY_CODES.join('|')})(?![A-Za-z])`);

/** Country of the seller (IBAN / VAT id prefix) → its currency, for "kr" and "$". */
const COUNTRY_CURRENCY: Record<string, string> = {
  SE: 'SEK', NO: 'NOK', DK: 'DKK', US: 'USD', CA: 'CAD', AU: 'AUD', NZ: 'NZD', SG: 'SGD', HK: 'HKD',
};

interface CurrencySignal {
  code: string;
  certainty: number;
}

function currencyIn(text: string, sellerCountry: string | null): CurrencySignal | null {
  const code = CURRENCY_CODE.exec(text);
  if (code?.[1]) return { code: code[1], certainty: 1 };
  if (text.includes('€')) return { code: 'EUR', certainty: 1 };
  if (text.includes('£')) return { code: 'GBP', certainty: 1 };
  if (text.includes('₹')) return { code: 'INR', certainty: 1 };
  if (/(?<![A-Za-z])Rs\.?(?=\s?\d)|(?<![A-Za-z])Rs\.?(?![A-Za-z])/.test(text)) return { code: 'INR', certainty: 0.95 };
  if (/(?<![A-Za-z])(?:SFr\.|Fr\.)(?=\s?\d)/.test(text)) return { code: 'CHF', certainty: 0.9 };
  if (/(?<![A-Za-z])zł/.test(text)) return { code: 'PLN', certainty: 1 };
  if (/(?<![A-Za-z])Kč/.test(text)) return { code: 'CZK', certainty: 1 };
  if (text.includes('¥')) return { code: 'JPY', certainty: 0.8 };
  if (/(?<![A-Za-z])kr\.?(?![A-Za-z])/i.test(text)) {
    const local = sellerCountry ? COUNTRY_CURRENCY[sellerCountry] : undefined;
    return local && ['SEK', 'NOK', 'DKK'].includes(local) ? { code: local, certainty: 0.95 } : { code: 'SEK', certainty: 0.4 };
  }
  if (text.includes('$')) {
    if (/US\$|U\.S\.\s?\$/.test(text)) return { code: 'USD', certainty: 1 };
    const local = sellerCountry ? COUNTRY_CURRENCY[sellerCountry] : undefined;
    if (local && !['SEK', 'NOK', 'DKK'].includes(local)) return { code: local, certainty: 0.9 };
    return { code: 'USD', certainty: 0.6 };
  }
  return null;
}

// ---------------------------------------------------------------- dates

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, januar: 1, janvier: 1, januari: 1, enero: 1, gennaio: 1, gen: 1, ene: 1, jänner: 1,
  feb: 2, february: 2, februar: 2, février: 2, fevrier: 2, februari: 2, febrero: 2, febbraio: 2, fév: 2, févr: 2,
  mar: 3, march: 3, märz: 3, mär: 3, mars: 3, maart: 3, marzo: 3, mrt: 3,
  apr: 4, april: 4, avril: 4, abril: 4, aprile: 4, avr: 4, abr: 4,
  may: 5, mai: 5, mei: 5, mayo: 5, maggio: 5, mag: 5,
  jun: 6, june: 6, juni: 6, juin: 6, junio: 6, giugno: 6, giu: 6,
  jul: 7, july: 7, juli: 7, juillet: 7, julio: 7, luglio: 7, juil: 7, lug: 7,
  aug: 8, august: 8, août: 8, aout: 8, augustus: 8, agosto: 8, ago: 8,
  sep: 9, sept: 9, september: 9, septembre: 9, septiembre: 9, settembre: 9, set: 9,
  oct: 10, october: 10, oktober: 10, octobre: 10, octubre: 10, ottobre: 10, okt: 10, ott: 10,
  nov: 11, november: 11, novembre: 11, noviembre: 11,
  dec: 12, december: 12, dezember: 12, décembre: 12, decembre: 12, diciembre: 12, dicembre: 12, dez: 12, dic: 12, déc: 12,
};
const MONTH_NAME = `(${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})\\.?`;
const DAY_MONTH_YEAR = new RegExp(`(?<![\\p{L}\\d])(\\d{1,2})(?:\\.|º|er)?\\s{0,2}(?:de\\s)?${MONTH_NAME}(?:\\s{0,2}de)?[\\s,]{1,3}(\\d{4})(?!\\d)`, 'giu');
const MONTH_DAY_YEAR = new RegExp(`(?<![\\p{L}\\d])${MONTH_NAME}\\s{1,2}(\\d{1,2})(?:st|nd|rd|th)?\\s{0,2},?\\s{0,2}(\\d{4})(?!\\d)`, 'giu');

interface FoundDate {
  iso: string;
  /** Day and month could both be the day (03/04/2024): the order was decided by the document. */
  ambiguous: boolean;
}

type DayOrder = 'day-first' | 'month-first';

function fullYear(raw: string): number {
  const year = Number(raw);
  return raw.length === 2 ? 2000 + year : year;
}

function numericDates(text: string): Array<{ a: number; b: number; year: number; separator: string }> {
  const out: Array<{ a: number; b: number; year: number; separator: string }> = [];
  for (const m of text.matchAll(/(?<![\d.\/-])(\d{1,2})([./-])\s?(\d{1,2})\2\s?(\d{4}|\d{2})(?![\d]|[.\/-]\d)/g)) {
    out.push({ a: Number(m[1]), b: Number(m[3]), year: fullYear(m[4]!), separator: m[2]! });
  }
  return out;
}

function datesIn(text: string, order: DayOrder): FoundDate[] {
  return datesAt(text, order).map((f) => f.date);
}

/** True when the text (after label punctuation) begins with a date: "12 september 2015 ...". */
function startsWithDate(text: string, order: DayOrder): boolean {
  const lead = /^[\s:#.\-–]*/.exec(text)?.[0].length ?? 0;
  return datesAt(text.slice(lead, lead + 40), order).some((f) => f.at === 0);
}

function datesAt(text: string, order: DayOrder): Array<{ at: number; date: FoundDate }> {
  const found: Array<{ at: number; date: FoundDate }> = [];
  // Year first: 2024-03-15, 2024/03/15, 2024.03.15 (compact 20240315 is too easily a number).
  for (const m of text.matchAll(/(?<![\d.\/-])(\d{4})([-\/.])(\d{1,2})\2(\d{1,2})(?![\d]|[.\/-]\d)/g)) {
    const iso = isoDate(Number(m[1]), Number(m[3]), Number(m[4]));
    if (iso) found.push({ at: m.index, date: { iso, ambiguous: false } });
  }
  for (const m of text.matchAll(/(?<![\d.\/-])(\d{1,2})([./-])\s?(\d{1,2})\2\s?(\d{4}|\d{2})(?![\d]|[.\/-]\d)/g)) {
    const [first, second, year] = [Number(m[1]), Number(m[3]), fullYear(m[4]!)];
    // Dots are day-first everywhere; slashes and dashes follow the document's order.
    const monthFirst = m[2] !== '.' && (first > 12 ? false : second > 12 ? true : order === 'month-first');
    const iso = monthFirst ? isoDate(year, first, second) : isoDate(year, second, first);
    if (iso) found.push({ at: m.index, date: { iso, ambiguous: m[2] !== '.' && first <= 12 && second <= 12 && first !== second } });
  }
  for (const m of text.matchAll(DAY_MONTH_YEAR)) {
    const iso = isoDate(Number(m[3]), MONTHS[m[2]!.toLowerCase()] ?? 0, Number(m[1]));
    if (iso) found.push({ at: m.index, date: { iso, ambiguous: false } });
  }
  for (const m of text.matchAll(MONTH_DAY_YEAR)) {
    const iso = isoDate(Number(m[3]), MONTHS[m[1]!.toLowerCase()] ?? 0, Number(m[2]));
    if (iso) found.push({ at: m.index, date: { iso, ambiguous: false } });
  }
  return found.sort((x, y) => x.at - y.at);
}

/**
 * Day/month order from the document itself: any slash/dash date with a first number above 12
 * is day-first, with a second above 12 month-first; otherwise a US seller means month-first.
 */
function dayOrderOf(lines: readonly LayoutLine[], sellerCountry: string | null, currency: string | null): { order: DayOrder; proven: boolean } {
  let dayFirst = 0;
  let monthFirst = 0;
  for (const line of lines) {
    for (const d of numericDates(line.text)) {
      if (d.separator === '.') continue;
      if (d.a > 12 && d.b <= 12) dayFirst++;
      if (d.b > 12 && d.a <= 12) monthFirst++;
    }
  }
  if (dayFirst > 0 && monthFirst === 0) return { order: 'day-first', proven: true };
  if (monthFirst > 0 && dayFirst === 0) return { order: 'month-first', proven: true };
  const american = sellerCountry === 'US' || (sellerCountry === null && currency === 'USD');
  return { order: american ? 'month-first' : 'day-first', proven: false };
}

function addDays(iso: string, days: number): string {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- labels

/** A label as found in a segment: where its value may be. */
interface LabelHit {
  lineIndex: number;
  segmentIndex: number;
  /** Text after the label in the same segment. */
  after: string;
  /** The matched label text. */
  label: string;
}

type Place = 'same' | 'right' | 'below' | 'below-merged';

interface Found<T> {
  value: T;
  place: Place;
  hit: LabelHit;
  lineIndex: number;
}

const clip = (text: string): string => (text.length > MAX_SEGMENT_CHARS ? text.slice(0, MAX_SEGMENT_CHARS) : text);

/**
 * The part of a cell under a label. pdf.js merges neighbouring values into one run when
 * their gap is small ("12.03.2024 INV-7 PO-1" under three labels): estimate the character
 * offset of the label's left edge and start at the word that begins nearest to it.
 */
function columnPart(cell: Segment, label: Segment): string {
  if (cell.x >= label.x - 6 || cell.right <= cell.x) return cell.text;
  const offset = Math.round(((label.x - cell.x) / (cell.right - cell.x)) * cell.text.length);
  let best = 0;
  for (let i = 0; i < cell.text.length; i++) {
    if (i > 0 && cell.text[i - 1] !== ' ') continue;
    if (Math.abs(i - offset) < Math.abs(best - offset)) best = i;
  }
  return cell.text.slice(best);
}

function overlaps(a: Segment, b: Segment, slack: number): boolean {
  return a.x <= b.right + slack && b.x <= a.right + slack;
}

class Page {
  constructor(readonly lines: readonly LayoutLine[]) {}

  /** Every segment where the label matches (first match per segment). */
  hits(label: RegExp, where: (line: LayoutLine, index: number) => boolean = () => true): LabelHit[] {
    const out: LabelHit[] = [];
    this.lines.forEach((line, lineIndex) => {
      if (!where(line, lineIndex)) return;
      line.segments.forEach((segment, segmentIndex) => {
        const text = clip(segment.text);
        const match = label.exec(text);
        if (!match) return;
        out.push({ lineIndex, segmentIndex, after: text.slice(match.index + match[0].length), label: match[0] });
      });
    });
    return out;
  }

  /**
   * The value for a label: after it in its segment; else the next segment to the right;
   * else the segment below in the same column (within three line pitches).
   */
  valueOf<T>(hit: LabelHit, read: (text: string) => T | null, places: readonly Place[] = ['same', 'right', 'below']): Found<T> | null {
    // 'below' includes 'below-merged'.
    const line = this.lines[hit.lineIndex]!;
    if (places.includes('same')) {
      const same = read(hit.after);
      if (same !== null) return { value: same, place: 'same', hit, lineIndex: hit.lineIndex };
    }
    const rest = hit.after.replace(/[\s:#.\-–]/g, '');
    if (rest !== '') return null; // something else follows the label: it is not a bare label
    const next = line.segments[hit.segmentIndex + 1];
    if (places.includes('right') && next) {
      const right = read(clip(next.text));
      if (right !== null) return { value: right, place: 'right', hit, lineIndex: hit.lineIndex };
    }
    const labelCell = line.segments[hit.segmentIndex]!;
    if (places.includes('right') && !next) {
      // A value in another font size sits on a slightly different baseline: the nearest
      // segment to the right on a neighbouring line within 0.7 line heights.
      for (const i of [hit.lineIndex - 1, hit.lineIndex + 1]) {
        const other = this.lines[i];
        if (!other || other.page !== line.page || Math.abs(other.top - line.top) > Math.max(line.height, other.height) * 0.7) continue;
        const cell = other.segments.find((s) => s.x >= labelCell.right - 2 && s.x - labelCell.right < 250);
        const value = cell ? read(clip(cell.text)) : null;
        if (value !== null) return { value, place: 'right', hit, lineIndex: i };
      }
    }
    if (!places.includes('below')) return null;
    const labelSegment = line.segments[hit.segmentIndex]!;
    for (let i = hit.lineIndex + 1; i < this.lines.length && i <= hit.lineIndex + 3; i++) {
      const below = this.lines[i]!;
      if (below.page !== line.page || below.top - line.top > Math.max(line.height, below.height) * 3.2) break;
      const cell = below.segments.find((s) => overlaps(s, labelSegment, 6));
      if (!cell) continue;
      const value = read(clip(columnPart(cell, labelSegment)));
      if (value !== null) return { value, place: cell.x < labelSegment.x - 6 ? 'below-merged' : 'below', hit, lineIndex: i };
      return null; // the cell below holds something else
    }
    return null;
  }

  first<T>(label: RegExp, read: (text: string) => T | null, options: { where?: (line: LayoutLine, index: number) => boolean; places?: Place[]; last?: boolean } = {}): Found<T> | null {
    const hits = this.hits(label, options.where);
    if (options.last) hits.reverse();
    for (const hit of hits) {
      const found = this.valueOf(hit, read, options.places);
      if (found) return found;
    }
    return null;
  }
}

// Label vocabularies. Each is an alternation of literal phrases (bounded, linear).

const INVOICE_NUMBER_LABEL = new RegExp(
  [
    'invoice\\s?(?:number|no\\.?|nr\\.?|num\\.?|#|id)',
    'inv\\.?\\s?(?:no|#)\\.?',
    'tax\\s?invoice\\s?(?:no\\.?|number|#)',
    'bill\\s?(?:no\\.?|number|#)',
    'rechnungs\\s?-?\\s?(?:nummer|nr\\.?|no\\.?)',
    'rechnung\\s(?:nr|no|nummer)\\.?',
    'beleg\\s?-?\\s?(?:nummer|nr\\.?)',
    'gutschrifts?\\s?-?\\s?(?:nummer|nr\\.?)',
    'credit\\s?note\\s?(?:number|no\\.?|#)',
    '(?:n[°ºo]\\.?|num[ée]ro)\\s?(?:de\\s)?(?:la\\s)?facture',
    'facture\\s?(?:n[°ºo]\\.?|num[ée]ro|nr)',
    'factuur\\s?-?\\s?(?:nummer|nr\\.?|no\\.?)',
    '(?:n\\.?[°º]|n[°º]\\.?|n[úu]mero)\\s?(?:de\\s)?factura',
    'factura\\s?(?:n\\.?[°º]|n[°º]\\.?|n[úu]m(?:ero|\\.)?|no\\.?)',
    '(?:numero|n\\.|n[°º])\\s?(?:di\\s|della\\s)?fattura',
    'fattura\\s?(?:n\\.?|n[°º]|numero|nr\\.?)',
  ].join('|'),
  'i',
);
/** A bare "No." / "Nr." / "#" at the start of a cell, as in "No. 2024-117". */
const GENERIC_NUMBER_LABEL = /^(?:No\.?|Nr\.?|N[°º]\.?|Number|Nummer|Num[ée]ro|#)\s?:?/i;
const NOT_INVOICE_NUMBER_CONTEXT =
  /(order|bestell|auftrag|commande|pedido|ordine|bestel|kunden|customer|client|cliente|klant|vat|tax\s?id|ust|tva|btw|iva|steuer|phone|tel|fax|account|konto|compte|cuenta|conto|rekening|pan\b|gst|reg|hrb|kvk|siret|rcs|item|artikel|article|art\.|page|seite|lieferschein|delivery|contract|vertrag|po\b)/i;
const TITLE_THEN_NUMBER = /^(?:tax\s)?(?:rechnung|invoice|facture|factuur|factura|fattura|gutschrift|credit\s?note)\s?[:#]?\s?/i;

const ISSUE_DATE_LABEL = new RegExp(
  [
    'invoice\\s?date',
    'date\\s?of\\s?(?:issue|invoice)',
    'issue\\s?date',
    'date\\s?issued',
    'issued\\s?on',
    'billing\\s?date',
    'tax\\s?point(?:\\s?date)?',
    'rechnungsdatum',
    'belegdatum',
    'ausstellungsdatum',
    'datum\\sder\\srechnung',
    'gutschriftsdatum',
    'date\\s?(?:de\\s)?(?:la\\s)?factur(?:e|ation)',
    "date\\s?d['’]\\s?[ée]mission",
    'factuurdatum',
    'fecha\\s?(?:de\\s)?(?:la\\s)?(?:factura|emisi[óo]n|expedici[óo]n)',
    'data\\s?(?:della\\s|di\\s)?(?:fattura|documento|emissione)',
  ].join('|'),
  'i',
);
const GENERIC_DATE_LABEL = /(?<![\p{L}])(?:date|datum|fecha|data|le)(?![\p{L}])/iu;

const DUE_DATE_LABEL = new RegExp(
  [
    'due\\s?date',
    'payment\\s?due(?:\\s?date)?',
    'due\\s?(?:on|by)',
    'pay(?:able)?\\s?(?:by|before|until)',
    'payment\\s?deadline',
    'please\\s?pay\\s?(?:by|before)',
    'f[äa]llig(?:keit(?:sdatum)?)?(?:\\s?am)?',
    'zahlbar\\s?bis(?:\\s?zum)?',
    'zahlungsziel',
    'zahlungsfrist',
    'bitte\\s?überweisen\\s?sie\\s?bis(?:\\s?zum)?',
    "(?:date\\s?d['’]\\s?)?[ée]ch[ée]ance",
    '[àa]\\s?(?:payer|r[ée]gler)\\s?(?:avant\\s?le|au\\s?plus\\s?tard\\s?le)',
    'date\\s?limite\\s?de\\s?(?:paiement|r[èe]glement)',
    'vervaldatum',
    'uiterste\\s?betaaldatum',
    'te\\s?betalen\\s?v[óo]{1,2}r',
    'betalen\\s?voor',
    'fecha\\s?(?:de\\s)?vencimiento',
    'vencimiento',
    'fecha\\s?l[íi]mite\\s?de\\s?pago',
    'pagar\\s?antes\\s?del?',
    '(?:data\\s?(?:di\\s)?)?scadenza',
    'termine\\s?di\\s?pagamento',
    'pagare\\s?entro\\s?il',
  ].join('|'),
  'i',
);
/** Lines about something other than the invoice's own date. */
const NOT_ISSUE_DATE_CONTEXT =
  /(order|bestell|auftrag|commande|pedido|ordine|bestel|deliver|liefer|leistung|livraison|entrega|consegna|lever|ship|versand|service|supply|prestation|period|zeitraum|p[ée]riode|periodo|from|bis\b|until|to\b|birth|geburt|valid|gültig|print|druck|created|erstellt)/i;

const NET_OR_TAX_ONLY =
  /(?<![\p{L}])(netto|net|nettobetrag|zwischensumme|subtotal|sub-total|subtotaal|ht|excl|exkl|excluding|imponibile|base\s?imponible|mwst|ust|vat|tax|steuer|tva|btw|iva|rabatt|discount|skonto|remise|korting|descuento|sconto|shipping|versand|frais|port)(?![\p{L}])/iu;
const GROSS_MARKER = /(brutto|gross|incl|inkl|including|inclusive|ttc|incluido|inclus|inclusa|inbegriffen)/i;
const GROSS_TOTAL_LABEL = new RegExp(
  [
    'grand\\s?total',
    'invoice\\s?total',
    'total\\s?(?:amount\\s?)?(?:incl\\.?|including|inc\\.?|gross)',
    'total\\s?amount',
    'amount\\s?(?:incl\\.?|including)',
    'gesamtbetrag',
    'rechnungsbetrag',
    'rechnungssumme',
    'bruttobetrag',
    'endbetrag',
    'gesamtsumme',
    'endsumme',
    'summe\\s?brutto',
    'bruttosumme',
    'gesamt\\s?brutto',
    'total\\s?ttc',
    'montant\\s?(?:total\\s?)?ttc',
    'totaal\\s?(?:incl\\.?|inclusief)\\s?btw',
    'totaalbedrag',
    'factuurbedrag',
    'total\\s?factura',
    'importe\\s?total',
    'total\\s?(?:con\\s)?iva\\s?incluido',
    'totale\\s?(?:fattura|documento)',
    'importo\\s?totale',
  ].join('|'),
  'i',
);
/** "Total" alone: only with the amount on its own line (a column header "Total" is not one). */
const WEAK_TOTAL_LABEL = /(?<![\p{L}])(total|totaal|totale|summe|gesamt)(?![\p{L}])/iu;
const AMOUNT_DUE_LABEL = new RegExp(
  [
    'amount\\s?due',
    'balance\\s?due',
    'total\\s?due',
    'amount\\s?payable',
    'payable\\s?amount',
    'amount\\s?to\\s?(?:be\\s)?pa(?:y|id)',
    'zahlbetrag',
    'zu\\s?zahlen(?:der\\s?betrag)?',
    'offener\\s?betrag',
    'noch\\s?offen',
    'restbetrag',
    'reste\\s?[àa]\\s?payer',
    'montant\\s?d[ûu]',
    'net\\s?[àa]\\s?payer',
    'solde\\s?d[ûu]',
    'openstaand\\s?bedrag',
    'nog\\s?te\\s?betalen',
    'te\\s?betalen(?:\\s?bedrag)?',
    'importe\\s?pendiente',
    'total\\s?a\\s?pagar',
    'pendiente\\s?de\\s?pago',
    'netto\\s?a\\s?pagare',
    'totale\\s?da\\s?pagare',
    'importo\\s?da\\s?pagare',
  ].join('|'),
  'i',
);
const PREPAID =
  /(?<![\p{L}])(paid|payments?\s?(?:received|made)|payments?\s?\/\s?credits?|bezahlt|gezahlt|anzahlung|abschlag\p{L}{0,10}|geleistet\p{L}{0,3}|prepaid|deposit|payé|versé|acompte|aanbetaling|reeds\s?betaald|anticipo|pagado|acconto|già\s?pagato|credit\s?applied)(?![\p{L}])/iu;

const VAT_ID_LABEL = new RegExp(
  [
    'ust\\.?\\s?-?\\s?id(?:ent)?\\.?\\s?-?\\s?(?:nr\\.?|nummer)?',
    'umsatzsteuer\\s?-?\\s?id(?:entifikations)?(?:nummer|nr\\.?)?',
    'mwst\\.?\\s?-?\\s?(?:nr|nummer)\\.?',
    'vat\\s?(?:reg(?:istration)?\\.?\\s?)?(?:id|no\\.?|number|#|nr\\.?)?',
    'tva\\s?intra\\p{L}{0,20}\\.?',
    'n[°º]\\s?(?:de\\s)?tva(?:\\s?intracommunautaire)?',
    'btw\\s?-?\\s?(?:nummer|nr\\.?|id)?',
    'nif\\s?-?\\s?(?:iva)?',
    'cif',
    'n\\.?[º°]\\s?iva',
    'p\\.?\\s?iva',
    'partita\\s?iva',
    'ust\\.?\\s?-?\\s?id',
    'uid(?:-?nr\\.?)?',
  ].join('|'),
  'iu',
);
/** Words that put a value on the buyer's side of the page. */
const BUYER_CONTEXT =
  /(?<![\p{L}])(ihre|ihr|ihrem|ihren|ihres|your|kunde\p{L}{0,3}|customer|buyer|client\p{L}{0,2}|cliente|klant|uw|vs\.|vostr\p{L}|votre|su|empfänger|destinatari\p{L}|acheteur|käufer|koper|comprador|acquirente|bill\s?to|ship\s?to|sold\s?to|billing|shipping)(?![\p{L}])/iu;

const BUYER_BLOCK_LABEL = new RegExp(
  [
    '^bill(?:ed)?\\s?to',
    '^invoice\\s?to',
    '^sold\\s?to',
    '^ship(?:ped)?\\s?to',
    '^deliver(?:ed)?\\s?to',
    '^billing\\s?address',
    '^shipping\\s?address',
    '^delivery\\s?address',
    '^attn\\.?',
    '^attention',
    '^customer\\s?:',
    '^customer$',
    '^client\\s?:',
    '^client$',
    '^rechnungsempf[äa]nger',
    '^rechnungsadresse',
    '^lieferadresse',
    '^lieferanschrift',
    '^kunde\\s?:',
    '^kunde$',
    '^empf[äa]nger',
    '^factur[ée]\\s?[àa]',
    '^adresse\\s?de\\s?(?:facturation|livraison)',
    '^destinataire',
    '^livr[ée]\\s?[àa]',
    '^factuuradres',
    '^afleveradres',
    '^klant\\s?:',
    '^klant$',
    '^aan\\s?:',
    '^facturar\\s?a',
    '^datos\\s?del\\s?cliente',
    '^cliente\\s?:',
    '^cliente$',
    '^direcci[óo]n\\s?de\\s?(?:facturaci[óo]n|env[íi]o)',
    '^spett\\.?\\s?le',
    '^intestatario',
    '^destinatario',
    '^indirizzo\\s?di\\s?(?:fatturazione|spedizione)',
  ].join('|'),
  'i',
);
const SELLER_LABEL = new RegExp(
  [
    '^sold\\s?by',
    '^seller',
    '^supplier',
    '^vendor',
    '^issued\\s?by',
    '^from\\s?:',
    '^verk[äa]ufer',
    '^lieferant',
    '^rechnungssteller',
    '^fournisseur',
    '^vendeur',
    '^[ée]metteur',
    '^leverancier',
    '^verkoper',
    '^proveedor',
    '^vendedor',
    '^emisor',
    '^fornitore',
    '^venditore',
    '^cedente(?:\\s?prestatore)?',
    '^emittente',
  ].join('|'),
  'i',
);

const BUYER_REFERENCE_LABEL = new RegExp(
  [
    'leitweg\\s?-?\\s?id',
    'buyer\\s?reference',
    'your\\s?ref(?:erence|\\.)',
    'customer\\s?reference',
    'käuferreferenz',
    'ihre\\s?referenz',
    'ihr\\s?zeichen',
    'votre\\s?r[ée]f[ée]rence',
    'r[ée]f[ée]rence\\s?client',
    'uw\\s?referentie',
    'referentie\\s?klant',
    'su\\s?referencia',
    'referencia\\s?(?:del\\s)?cliente',
    'vs\\.?\\s?riferimento',
    'riferimento\\s?cliente',
  ].join('|'),
  'i',
);

const LEGAL_FORM =
  /(?<![\p{L}])(GmbH(?:\s?&\s?Co\.?\s?KG)?|gGmbH|AG|UG|KG|OHG|GbR|e\.\s?K\.|e\.\s?V\.|Ltd\.?|Limited|LLC|LLP|Inc\.?|Corp\.?|PLC|plc|Pvt\.?\s?Ltd\.?|Private\sLimited|SARL|SAS|SASU|EURL|S\.A\.S?\.?|SA|B\.V\.|BV|N\.V\.|NV|V\.O\.F\.|S\.L\.U?\.?|SL|S\.r\.l\.|Srl|S\.p\.A\.|SpA|S\.a\.s\.|S\.n\.c\.|AB|ApS|A\/S|AS|Oy|Sp\.\sz\so\.o\.|s\.r\.o\.|KFT|Kft\.)(?![\p{L}])/u;

// ---------------------------------------------------------------- value readers

function invoiceNumberToken(order: DayOrder) {
  return (text: string): string | null => {
    const match = /^\s?[:#.\-–]?\s?(?:No\.?\s|Nr\.?\s|N[°º]\.?\s?|#\s?)?([A-Za-z0-9][A-Za-z0-9\-\/._]{0,39})/.exec(text);
    const token = match?.[1]?.replace(/[._\/-]+$/, '');
    if (!token || !/\d/.test(token)) return null;
    if (startsWithDate(text, order) || datesIn(token, order).length > 0 || amountsIn(token).length > 0) return null;
    return token;
  };
}

const dateReader = (order: DayOrder) => (text: string): FoundDate | null => datesIn(text, order)[0] ?? null;

function firstAmount(text: string): string | null {
  return amountsIn(text)[0] ?? null;
}

const VAT_SHAPES: Array<[string, RegExp]> = [
  ['AT', /^ATU\d{8}/],
  ['BE', /^BE[01]\d{9}/],
  ['BG', /^BG\d{9,10}/],
  ['CH', /^CHE\d{9}/],
  ['CY', /^CY\d{8}[A-Z]/],
  ['CZ', /^CZ\d{8,10}/],
  ['DE', /^DE\d{9}/],
  ['DK', /^DK\d{8}/],
  ['EE', /^EE\d{9}/],
  ['EL', /^EL\d{9}/],
  ['ES', /^ES[A-Z0-9]\d{7}[A-Z0-9]/],
  ['FI', /^FI\d{8}/],
  ['FR', /^FR[A-HJ-NP-Z0-9]{2}\d{9}/],
  ['GB', /^GB(?:\d{12}|\d{9}|GD\d{3}|HA\d{3})/],
  ['HR', /^HR\d{11}/],
  ['HU', /^HU\d{8}/],
  ['IE', /^IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}/],
  ['IT', /^IT\d{11}/],
  ['LT', /^LT(?:\d{12}|\d{9})/],
  ['LU', /^LU\d{8}/],
  ['LV', /^LV\d{11}/],
  ['MT', /^MT\d{8}/],
  ['NL', /^NL\d{9}B\d{2}/],
  ['NO', /^NO\d{9}(?:MVA)?/],
  ['PL', /^PL\d{10}/],
  ['PT', /^PT\d{9}/],
  ['RO', /^RO\d{2,10}/],
  ['SE', /^SE\d{12}/],
  ['SI', /^SI\d{8}/],
  ['SK', /^SK\d{10}/],
  ['XI', /^XI\d{9}/],
];

/** A VAT id at the start of the text, printed with spaces, dots or dashes ("DE 123 456 789"). */
function vatIdToken(text: string): string | null {
  const match = /^\s?[:#.]?\s?([A-Z]{2}[A-Z0-9 .\-]{2,24})/.exec(text.toUpperCase());
  if (!match) return null;
  const compact = match[1]!.replace(/[ .\-]/g, '');
  for (const [, shape] of VAT_SHAPES) {
    const found = shape.exec(compact);
    if (!found) continue;
    const value = found[0];
    // The id must end at a separator: "DE1234567890" is not a DE VAT id with a digit to spare.
    const next = compact[value.length];
    if (next !== undefined && /\d/.test(next) && !value.startsWith('NO')) return null;
    return value.replace(/MVA$/, '');
  }
  return null;
}

const referenceToken = (text: string): string | null => {
  const token = /^\s?[:#.]?\s?([A-Za-z0-9][A-Za-z0-9\-\/._]{1,49})/.exec(text)?.[1] ?? null;
  if (!token || !/\d/.test(token) || startsWithDate(text, 'day-first') || startsWithDate(text, 'month-first')) return null;
  return token;
};

// ---------------------------------------------------------------- regions

interface Regions {
  /** Line index → segment indexes that belong to a buyer block. */
  buyer: Map<number, Set<number>>;
}

function isBuyerSegment(regions: Regions, lineIndex: number, segmentIndex: number): boolean {
  return regions.buyer.get(lineIndex)?.has(segmentIndex) ?? false;
}

/**
 * Buyer blocks: a buyer label's segment and the column below it (overlapping x, small vertical
 * steps, at most eight lines), plus any "ATTN:" segment.
 */
function buyerRegions(page: Page): Regions {
  const buyer = new Map<number, Set<number>>();
  const mark = (line: number, segment: number): void => {
    const set = buyer.get(line) ?? new Set<number>();
    set.add(segment);
    buyer.set(line, set);
  };
  for (const hit of page.hits(BUYER_BLOCK_LABEL)) {
    mark(hit.lineIndex, hit.segmentIndex);
    const labelLine = page.lines[hit.lineIndex]!;
    let column = labelLine.segments[hit.segmentIndex]!;
    let previousTop = labelLine.top;
    for (let i = hit.lineIndex + 1; i < page.lines.length && i <= hit.lineIndex + 8; i++) {
      const line = page.lines[i]!;
      if (line.page !== labelLine.page || line.top - previousTop > Math.max(line.height, 8) * 2.4) break;
      const index = line.segments.findIndex((s) => overlaps(s, column, 4) && s.x >= column.x - 40);
      if (index < 0) continue;
      const segment = line.segments[index]!;
      if (SELLER_LABEL.test(segment.text) || BUYER_BLOCK_LABEL.test(segment.text) && i > hit.lineIndex + 1) break;
      mark(i, index);
      previousTop = line.top;
      column = { text: '', x: Math.min(column.x, segment.x), right: Math.max(column.right, segment.right) };
    }
  }
  return { buyer };
}

// ---------------------------------------------------------------- fields

function countryOfSeller(iban: Guess | null, vat: Guess | null): string | null {
  const fromVat = vat?.value.slice(0, 2) ?? null;
  if (fromVat) return fromVat === 'EL' ? 'GR' : fromVat;
  return iban?.value.slice(0, 2) ?? null;
}

const PLACE_CONFIDENCE: Record<Place, number> = { same: 1, right: 1, below: 0.95, 'below-merged': 0.8 };

function findInvoiceNumber(page: Page, regions: Regions, order: DayOrder): Guess | null {
  const read = invoiceNumberToken(order);
  const notBuyer = (hitLine: number) => (line: LayoutLine, index: number) => index === hitLine || line.segments.length > 0;
  void notBuyer;
  const specific = page.first(INVOICE_NUMBER_LABEL, read);
  if (specific) return { value: specific.value, confidence: 0.9 * PLACE_CONFIDENCE[specific.place] };
  for (const hit of page.hits(GENERIC_NUMBER_LABEL)) {
    const segment = page.lines[hit.lineIndex]!.segments[hit.segmentIndex]!;
    if (NOT_INVOICE_NUMBER_CONTEXT.test(segment.text) || isBuyerSegment(regions, hit.lineIndex, hit.segmentIndex)) continue;
    const found = page.valueOf(hit, read);
    if (found) return { value: found.value, confidence: 0.7 * PLACE_CONFIDENCE[found.place] };
  }
  const titled = page.first(TITLE_THEN_NUMBER, read, { places: ['same', 'right'] });
  if (titled) return { value: titled.value, confidence: 0.6 };
  return null;
}

function segmentText(page: Page, hit: LabelHit): string {
  return page.lines[hit.lineIndex]!.segments[hit.segmentIndex]!.text;
}

function findIssueDate(page: Page, order: { order: DayOrder; proven: boolean }): Guess | null {
  const read = dateReader(order.order);
  const scale = (date: FoundDate): number => (date.ambiguous && !order.proven ? 0.85 : 1);
  for (const hit of page.hits(ISSUE_DATE_LABEL)) {
    if (DUE_DATE_LABEL.test(hit.label)) continue;
    const found = page.valueOf(hit, read);
    if (found) return { value: found.value.iso, confidence: 0.9 * PLACE_CONFIDENCE[found.place] * scale(found.value) };
  }
  for (const hit of page.hits(GENERIC_DATE_LABEL)) {
    const text = segmentText(page, hit);
    const before = text.slice(0, Math.max(0, text.length - hit.after.length - hit.label.length));
    // The words between the label and its value count too: "Date of supply: ...".
    const labelWords = hit.after.split(/\d/)[0] ?? '';
    if (DUE_DATE_LABEL.test(text) || NOT_ISSUE_DATE_CONTEXT.test(before + hit.label + labelWords)) continue;
    if (hit.label.toLowerCase() === 'le' && before.trim() !== '') continue;
    const found = page.valueOf(hit, read);
    if (found) return { value: found.value.iso, confidence: 0.8 * PLACE_CONFIDENCE[found.place] * scale(found.value) };
  }
  // A letter's date near the top, not about delivery, payment or an order.
  for (const line of page.lines.slice(0, 60)) {
    if (line.page > 0) break;
    for (const segment of line.segments) {
      if (DUE_DATE_LABEL.test(segment.text) || NOT_ISSUE_DATE_CONTEXT.test(segment.text)) continue;
      const date = datesIn(clip(segment.text), order.order)[0];
      if (date) return { value: date.iso, confidence: 0.35 };
    }
  }
  return null;
}

const CASH_DISCOUNT = /(skonto|cash\s?discount|early\s?payment|escompte|korting|descuento|sconto)/i;

const PAYMENT_TERM_DAYS =
  /(?:innerhalb\s(?:von\s)?|within\s|net\s|netto\s|binnen\s|sous\s|à\s|a\s|entro\s)(\d{1,3})\s?(?:tagen|tage|days|dagen|jours|días|dias|giorni)/i;

function findDueDate(page: Page, issueDate: Guess | null, order: { order: DayOrder; proven: boolean }): Guess | null {
  const read = dateReader(order.order);
  const explicit = page.first(DUE_DATE_LABEL, read);
  if (explicit) {
    const scale = explicit.value.ambiguous && !order.proven ? 0.85 : 1;
    // "Zahlbar bis 10.03. mit 2 % Skonto, bis 31.03. netto": two dates, which one is BT-9?
    const discount = CASH_DISCOUNT.test(page.lines[explicit.hit.lineIndex]!.text) ? 0.65 : 1;
    return { value: explicit.value.iso, confidence: 0.88 * PLACE_CONFIDENCE[explicit.place] * scale * discount };
  }
  if (!issueDate) return null;
  for (const line of page.lines) {
    const term = PAYMENT_TERM_DAYS.exec(clip(line.text));
    const days = Number(term?.[1]);
    if (term && days > 0 && days <= 180) return { value: addDays(issueDate.value, days), confidence: Math.min(0.45, issueDate.confidence) };
  }
  return null;
}

interface AmountFound {
  guess: Guess;
  /** Text of the label's line to the right of the label, for the currency. */
  context: string;
  lineIndex: number;
}

function amountAfter(
  page: Page,
  label: RegExp,
  where: (line: LayoutLine, index: number) => boolean,
  base: number,
  lookBelow = true,
): AmountFound | null {
  const hits = page.hits(label, where).reverse(); // totals come last
  for (const hit of hits) {
    const line = page.lines[hit.lineIndex]!;
    // Same segment or anything to its right on the line: the last amount printed there.
    const rightText = [hit.after, ...line.segments.slice(hit.segmentIndex + 1).map((s) => s.text)].join('  ');
    const onLine = amountsIn(clip(rightText)).at(-1);
    if (onLine !== undefined) return { guess: { value: onLine, confidence: base }, context: rightText, lineIndex: hit.lineIndex };
    if (!lookBelow || (hit.after.replace(/[\s:#.\-–]/g, '') !== '' && !/^[\s:]*[A-Z]{3}\s?$|^[\s:]*[€£$₹]\s?$/.test(hit.after))) continue;
    const below = page.valueOf(hit, firstAmount, ['below']);
    if (below) {
      const belowLine = page.lines[below.lineIndex]!;
      return { guess: { value: below.value, confidence: base * 0.95 }, context: belowLine.text, lineIndex: below.lineIndex };
    }
  }
  return null;
}

function findTotals(page: Page): { total: AmountFound | null; due: AmountFound | null; prepaid: boolean; net: string | null; vat: string | null } {
  const lineText = (line: LayoutLine): string => clip(line.text);
  const grossOnly = (line: LayoutLine): boolean => !(NET_OR_TAX_ONLY.test(lineText(line)) && !GROSS_MARKER.test(lineText(line)));
  const notPaidOrDue = (line: LayoutLine): boolean => !PREPAID.test(lineText(line)) && !AMOUNT_DUE_LABEL.test(lineText(line));
  const prepaid = page.lines.some((line) => PREPAID.test(lineText(line)) && amountsIn(lineText(line)).length > 0);

  let total =
    amountAfter(page, GROSS_TOTAL_LABEL, (l) => grossOnly(l) && notPaidOrDue(l), 0.9) ??
    amountAfter(page, WEAK_TOTAL_LABEL, (l) => grossOnly(l) && notPaidOrDue(l), 0.75, false);
  const due = amountAfter(page, AMOUNT_DUE_LABEL, (l) => !PREPAID.test(lineText(l)) || AMOUNT_DUE_LABEL.test(lineText(l)), 0.88);
  if (!total && due && !prepaid) total = { ...due, guess: { value: due.guess.value, confidence: 0.6 } };

  // Net and VAT amounts, to check the total against.
  const net = amountAfter(page, /(?<![\p{L}])(netto\p{L}{0,6}|net(?:\samount)?|subtotal|sub-total|zwischensumme|summe\snetto|total\sht|montant\sht|subtotaal|totaal\sexcl\.?\sbtw|base\simponible|imponibile|totale\simponibile)(?![\p{L}])/iu, () => true, 1);
  const vat = amountAfter(page, /(?<![\p{L}])(mwst|ust|umsatzsteuer|vat|tax|tva|btw|iva)(?![\p{L}])/iu, (l) => !GROSS_MARKER.test(lineText(l)) && !GROSS_TOTAL_LABEL.test(lineText(l)), 1);
  return { total, due, prepaid, net: net?.guess.value ?? null, vat: vat?.guess.value ?? null };
}

const cents = (amount: string): number => Math.round(Number(amount) * 100);

function findCurrency(page: Page, totalContext: string | null, sellerCountry: string | null): Guess | null {
  const onTotal = totalContext ? currencyIn(totalContext, sellerCountry) : null;
  if (onTotal) return { value: onTotal.code, confidence: 0.92 * onTotal.certainty };
  const counts = new Map<string, { count: number; certainty: number }>();
  for (const line of page.lines) {
    if (amountsIn(clip(line.text)).length === 0) continue;
    const found = currencyIn(clip(line.text), sellerCountry);
    if (!found) continue;
    const entry = counts.get(found.code) ?? { count: 0, certainty: found.certainty };
    entry.count++;
    counts.set(found.code, entry);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1].count - a[1].count);
  const best = ranked[0];
  if (!best) return null;
  const unanimous = ranked.length === 1 && best[1].count >= 2;
  return { value: best[0], confidence: (unanimous ? 0.85 : 0.6) * best[1].certainty };
}

const DIRECT_DEBIT = /(lastschrift|abbuchung|direct\s?debit|pr[ée]l[èe]vement|domicili[ëe]ring|incasso|adeudo|domiciliaci[óo]n|addebito|mandat|mandate)/i;

const IBAN_CANDIDATE = /(?<![A-Z0-9])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{1,4}){3,8}/g;

function findIban(page: Page, regions: Regions): Guess | null {
  let fallback: Guess | null = null;
  for (const [lineIndex, line] of page.lines.entries()) {
    for (const [segmentIndex, segment] of line.segments.entries()) {
      const text = clip(segment.text).toUpperCase();
      if (!/\d{2}/.test(text)) continue;
      const buyerSide = isBuyerSegment(regions, lineIndex, segmentIndex) || BUYER_CONTEXT.test(segment.text);
      for (const match of text.matchAll(IBAN_CANDIDATE)) {
        // The pattern can swallow a following word ("... 51 BIC"); shorten until the checksum
        // (and the country's length, where known) holds, longest first.
        const compact = match[0].replace(/\s+/g, '');
        for (let length = compact.length; length >= 15; length--) {
          const candidate = compact.slice(0, length);
          if (!isValidIban(candidate)) continue;
          const labelled = /IBAN/.test(text) || /IBAN/i.test(line.segments[segmentIndex - 1]?.text ?? '');
          // A SEPA direct debit names the account to be debited: the buyer's.
          const debit = DIRECT_DEBIT.test(line.text) || DIRECT_DEBIT.test(page.lines[lineIndex - 1]?.text ?? '');
          if (buyerSide || debit) fallback ??= { value: candidate, confidence: 0.3 };
          else return { value: candidate, confidence: labelled ? 0.95 : 0.85 };
          break;
        }
      }
    }
  }
  return fallback;
}

function findSellerVatId(page: Page, regions: Regions): Guess | null {
  const labelled: Array<Found<string>> = [];
  for (const hit of page.hits(VAT_ID_LABEL)) {
    const text = segmentText(page, hit);
    if (isBuyerSegment(regions, hit.lineIndex, hit.segmentIndex) || BUYER_CONTEXT.test(text.slice(0, text.length - hit.after.length))) continue;
    const found = page.valueOf(hit, vatIdToken);
    if (found) labelled.push(found);
  }
  const first = labelled[0];
  if (first) {
    // Two different ids under neutral labels: one is probably the customer's.
    const distinct = new Set(labelled.map((f) => f.value)).size;
    return { value: first.value, confidence: (distinct > 1 ? 0.6 : 0.9) * PLACE_CONFIDENCE[first.place] };
  }
  // An id of a known shape outside the buyer's block, unlabelled.
  for (const [lineIndex, line] of page.lines.entries()) {
    for (const [segmentIndex, segment] of line.segments.entries()) {
      if (isBuyerSegment(regions, lineIndex, segmentIndex) || BUYER_CONTEXT.test(segment.text)) continue;
      for (const match of clip(segment.text).matchAll(/(?<![A-Z0-9])(?:ATU|CHE|DE|FR|NL|IT|ES|BE|GB)[\s.]?\d/g)) {
        const value = vatIdToken(segment.text.slice(match.index));
        if (value && !isValidIban(value)) return { value, confidence: 0.5 };
      }
    }
  }
  return null;
}

function findBuyerReference(page: Page): Guess | null {
  const found = page.first(BUYER_REFERENCE_LABEL, referenceToken);
  return found ? { value: found.value, confidence: 0.85 * PLACE_CONFIDENCE[found.place] } : null;
}

const NAME_SEPARATOR = /\s[·•|–]\s|\s-\s|,\s(?=\d)/;

/** The part of a segment that names a company: the piece with the legal form, up to it. */
const BANK_WORD = /(?<![\p{L}])(bank|banque|banca|banco|sparkasse|volksbank|raiffeisen\p{L}{0,10}|kasse|cr[ée]dit|paypal|stripe)(?![\p{L}])/iu;

function companyName(text: string): string | null {
  const piece = text.split(NAME_SEPARATOR).find((p) => LEGAL_FORM.test(p) && !BANK_WORD.test(p));
  if (!piece) return null;
  const trimmed = piece.replace(/^[\s:]+|[\s,;:]+$/g, '');
  if (trimmed.length < 3 || trimmed.length > 80 || !/\p{L}{2}/u.test(trimmed.replace(LEGAL_FORM, ''))) return null;
  if (INVOICE_NUMBER_LABEL.test(trimmed) || VAT_ID_LABEL.test(trimmed) || /\d{4,}/.test(trimmed)) return null;
  return trimmed;
}

interface NameCandidate {
  name: string;
  lineIndex: number;
  score: number;
  reasons: Set<string>;
}

function findSellerName(page: Page, regions: Regions, sellerVat: Guess | null, iban: Guess | null): Guess | null {
  // An explicit seller label wins: "Sold By :", "Lieferant", "Fournisseur", ...
  for (const hit of page.hits(SELLER_LABEL)) {
    const found = page.valueOf(hit, (text) => (text.trim().length >= 3 && !BUYER_BLOCK_LABEL.test(text) ? text.trim() : null));
    if (!found) continue;
    const name = companyName(found.value);
    return { value: name ?? found.value.replace(/^[\s:]+/, ''), confidence: name ? 0.88 : 0.6 };
  }

  const idLines = new Set<number>();
  page.lines.forEach((line, index) => {
    const compact = line.text.replace(/[\s.\-]/g, '').toUpperCase();
    if ((sellerVat && compact.includes(sellerVat.value)) || (iban && compact.includes(iban.value))) idLines.add(index);
  });

  const candidates = new Map<string, NameCandidate>();
  page.lines.forEach((line, lineIndex) => {
    line.segments.forEach((segment, segmentIndex) => {
      if (isBuyerSegment(regions, lineIndex, segmentIndex) || BUYER_CONTEXT.test(segment.text) || BUYER_BLOCK_LABEL.test(segment.text)) return;
      const name = companyName(clip(segment.text));
      if (!name) return;
      const key = name.toLowerCase().replace(/\s+/g, ' ');
      const candidate = candidates.get(key) ?? { name, lineIndex, score: 0, reasons: new Set<string>() };
      if (line.page === 0 && line.relativeTop < 0.3) candidate.reasons.add('letterhead');
      if (line.relativeTop > 0.8) candidate.reasons.add('footer');
      if (NAME_SEPARATOR.test(segment.text) && line.height < 8) candidate.reasons.add('sender-line');
      if (line.height >= 11 && line.page === 0 && line.relativeTop < 0.3) candidate.reasons.add('prominent');
      // Near the seller's VAT id or IBAN: the same block, a few lines apart.
      for (const idLine of idLines) {
        const other = page.lines[idLine]!;
        if (other.page === line.page && Math.abs(other.top - line.top) < 60) candidate.reasons.add('near-ids');
      }
      if (candidates.has(key)) candidate.reasons.add('repeated');
      candidates.set(key, candidate);
    });
  });
  const weights: Record<string, number> = { letterhead: 2, footer: 2, 'sender-line': 3, prominent: 2, 'near-ids': 3, repeated: 3 };
  let best: NameCandidate | null = null;
  for (const candidate of candidates.values()) {
    candidate.score = [...candidate.reasons].reduce((sum, r) => sum + (weights[r] ?? 0), 0);
    if (!best || candidate.score > best.score) best = candidate;
  }
  if (best && best.score > 0) {
    const strong = ['repeated', 'near-ids', 'sender-line'].filter((r) => best.reasons.has(r)).length;
    const rivals = [...candidates.values()].filter((c) => c !== best && c.score >= best.score).length;
    const confidence = rivals > 0 ? 0.4 : strong >= 2 ? 0.9 : strong === 1 ? 0.82 : 0.6;
    return { value: best.name, confidence };
  }
  // No legal form anywhere (sole traders): a short name-like line of the letterhead or the
  // footer, preferring one printed twice or large. Never confident: names have no checksum.
  const counts = new Map<string, { text: string; count: number; prominent: boolean; nearIds: boolean }>();
  page.lines.forEach((line, lineIndex) => {
    const zone = (line.page === 0 && line.relativeTop < 0.3) || line.relativeTop > 0.8;
    if (!zone) return;
    line.segments.forEach((segment, segmentIndex) => {
      const text = segment.text.trim();
      if (isBuyerSegment(regions, lineIndex, segmentIndex) || !looksLikeName(text)) return;
      const key = text.toLowerCase();
      const entry = counts.get(key) ?? { text, count: 0, prominent: false, nearIds: false };
      entry.count++;
      if (line.height >= 11 && line.relativeTop < 0.3) entry.prominent = true;
      for (const idLine of idLines) {
        const other = page.lines[idLine]!;
        if (other.page === line.page && Math.abs(other.top - line.top) < 40) entry.nearIds = true;
      }
      counts.set(key, entry);
    });
  });
  const ranked = [...counts.values()].sort(
    (x, y) => Number(y.count > 1) - Number(x.count > 1) || Number(y.prominent) - Number(x.prominent) || Number(y.nearIds) - Number(x.nearIds),
  );
  const pickName = ranked[0];
  if (!pickName) return null;
  const support = Number(pickName.count > 1) + Number(pickName.prominent) + Number(pickName.nearIds);
  return { value: pickName.text, confidence: support >= 2 ? 0.55 : 0.25 };
}

const NOT_A_NAME = new RegExp(
  [INVOICE_KEYWORD, INVOICE_NUMBER_LABEL, ISSUE_DATE_LABEL, DUE_DATE_LABEL, BUYER_REFERENCE_LABEL, VAT_ID_LABEL, BUYER_BLOCK_LABEL, SELLER_LABEL, NOT_INVOICE_NUMBER_CONTEXT, GENERIC_DATE_LABEL]
    .map((r) => `(?:${r.source})`)
    .join('|'),
  'iu',
);

/** Two to six capitalised words, no digits, no label or document word. */
function looksLikeName(text: string): boolean {
  if (text.length < 4 || text.length > 60 || /\d/.test(text) || /[:@]/.test(text)) return false;
  const words = text.split(' ');
  if (words.length < 2 || words.length > 6 || !words.every((w) => /^[\p{Lu}&]/u.test(w))) return false;
  return !NOT_A_NAME.test(text);
}

// ---------------------------------------------------------------- assembly

function looksLikeInvoice(layout: TextLayout): boolean {
  const lines = layout.lines.slice(0, MAX_LINES);
  const head = lines.filter((l) => l.page === 0).slice(0, 40).map((l) => clip(l.text)).join('\n');
  if (!lines.some((l) => INVOICE_KEYWORD.test(clip(l.text)))) return false;
  // Quotes and dunning letters mention "Rechnung" too, but their title comes first.
  const invoiceAt = head.search(INVOICE_KEYWORD);
  const otherAt = head.search(OTHER_DOCUMENT_KEYWORD);
  return otherAt < 0 || (invoiceAt >= 0 && invoiceAt < otherAt);
}

/**
 * True when a plain PDF reads like an invoice (invoice word plus an amount, IBAN or number)
 * although too little was found to record one: worth a problem, not a silent miss.
 */
export function isInvoiceLike(layout: TextLayout): boolean {
  if (!looksLikeInvoice(layout)) return false;
  const text = layout.lines.slice(0, MAX_LINES).map((l) => clip(l.text)).join('\n');
  return amountsIn(text).length > 0 || /\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}/.test(text) || /\d{3,}/.test(text);
}

export function recogniseInvoiceLayout(layout: TextLayout): RecognisedInvoice | null {
  if (!looksLikeInvoice(layout)) return null;
  const page = new Page(layout.lines.slice(0, MAX_LINES));
  const regions = buyerRegions(page);

  const iban = findIban(page, regions);
  const sellerVatId = findSellerVatId(page, regions);
  const sellerCountry = countryOfSeller(iban, sellerVatId);
  const totals = findTotals(page);
  const currency = findCurrency(page, totals.total?.context ?? null, sellerCountry);
  const order = dayOrderOf(page.lines, sellerCountry, currency?.value ?? null);
  const invoiceNumber = findInvoiceNumber(page, regions, order.order);
  if (!invoiceNumber && !totals.total) return null;

  let total = totals.total?.guess ?? null;
  if (total && totals.net && totals.vat && cents(totals.net) + cents(totals.vat) === cents(total.value)) {
    total = { value: total.value, confidence: Math.max(total.confidence, 0.95) };
  }
  let amountDue: Guess | null = totals.due?.guess ?? null;
  if (!amountDue && total) {
    // Nothing labelled as due: what is payable is the total, unless something was prepaid.
    amountDue = { value: total.value, confidence: totals.prepaid ? 0.3 : Math.min(0.85, total.confidence * 0.85) };
  }
  const issueDate = findIssueDate(page, order);

  const guesses: Record<InvoiceField, Guess | null> = {
    invoiceNumber,
    issueDate,
    dueDate: findDueDate(page, issueDate, order),
    currency,
    totalWithVat: total,
    amountDue,
    sellerName: findSellerName(page, regions, sellerVatId, iban),
    sellerVatId,
    buyerReference: findBuyerReference(page),
    iban,
  };

  const fields = Object.fromEntries(INVOICE_FIELDS.map((f) => [f, guesses[f]?.value ?? null])) as InvoiceFields;
  const fieldConfidence = Object.fromEntries(
    INVOICE_FIELDS.map((f) => [f, Math.round((guesses[f]?.confidence ?? 0) * 100) / 100]),
  );
  const core: InvoiceField[] = ['invoiceNumber', 'issueDate', 'totalWithVat', 'currency'];
  const confidence = Math.min(0.9, core.reduce((sum, f) => sum + (fieldConfidence[f] ?? 0), 0) / core.length);
  const headText = page.lines.filter((l) => l.page === 0).slice(0, 30).map((l) => clip(l.text)).join('\n');
  const documentType: InvoiceDocumentType = CREDIT_NOTE_KEYWORD.test(headText) ? 'credit-note' : 'invoice';

  return {
    format: 'pdf-text',
    documentType,
    ...fields,
    method: 'pdf-text',
    confidence: Math.round(confidence * 100) / 100,
    fieldConfidence,
    warnings: [],
  };
}

/** Same as recogniseInvoiceLayout for text without positions (one line per entry). */
export function recogniseInvoiceText(lines: readonly string[]): RecognisedInvoice | null {
  return recogniseInvoiceLayout(layoutFromLines(lines));
}
