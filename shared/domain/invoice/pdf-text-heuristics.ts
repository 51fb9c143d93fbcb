/**
 * Best-effort invoice fields from the text of a plain PDF (German, English, some French).
 * Everything here is a guess, so every field carries a confidence below 1 and the scale is
 * deliberately coarse:
 *   ~0.85 value on the same line as a specific label ("Rechnungsnummer", "Amount due"),
 *   ~0.65 value on the line after such a label, or a generic label ("Total", "Datum"),
 *   <=0.5 positional or derived guesses (first date in the text, issue date + payment term).
 * Nothing is returned when the text does not read like an invoice; a missed invoice is
 * cheaper than a made-up one landing in someone's accounts payable.
 */
import type { InvoiceDocumentType, InvoiceField, InvoiceFields, RecognisedInvoice } from './types.ts';
import { INVOICE_FIELDS } from './types.ts';
import { isValidIban } from './iban.ts';
import { isoDate } from './values.ts';
import { RECOGNITION_LIMITS } from './budget.ts';

interface Guess {
  value: string;
  confidence: number;
}

const HEAD_LINES = 15;

const INVOICE_KEYWORD = /\b(rechnung\w*|invoice\w*|factur\w*|fattura|factuur|faktura|gutschrift|credit\s*note)\b/i;
const CREDIT_NOTE_KEYWORD = /\b(gutschrift|credit\s*note|avoir|rechnungskorrektur|stornorechnung)\b/i;
const OTHER_DOCUMENT_KEYWORD =
  /\b(angebot|kostenvoranschlag|quotation|quote|offer|lieferschein|delivery\s*note|auftragsbestätigung|order\s*confirmation|mahnung|zahlungserinnerung|payment\s*reminder|kontoauszug|bank\s*statement)\b/i;

// ---------------------------------------------------------------- amounts & currency

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

function amountsIn(line: string): string[] {
  const out: string[] = [];
  for (const { sign, integerPart, decimalSeparator, decimals } of amountMatches(line)) {
    const groupSeparators = integerPart.replace(/\d/g, '');
    if (groupSeparators.includes(decimalSeparator)) continue; // "1.234.56" is not a number
    out.push(`${sign === '' ? '' : '-'}${integerPart.replace(/\D/g, '')}.${decimals}`);
  }
  return out;
}

const CURRENCY_CODES = ['EUR', 'USD', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'JPY', 'CAD', 'AUD'];
const CURRENCY_CODE = new RegExp(`\\b(${CURRENCY_CODES.join('|')})\\b`);
const CURRENCY_SYMBOLS: Array<[RegExp, string, number]> = [
  [/€/, 'EUR', 1],
  [/£/, 'GBP', 1],
  [/\bFr\.|\bSFr\./, 'CHF', 0.8],
  [/\$/, 'USD', 0.6], // also CAD, AUD, ...
];

function currencyIn(line: string): Guess | null {
  const code = CURRENCY_CODE.exec(line);
  if (code?.[1]) return { value: code[1], confidence: 1 };
  for (const [pattern, value, certainty] of CURRENCY_SYMBOLS) {
    if (pattern.test(line)) return { value, confidence: certainty };
  }
  return null;
}

// ---------------------------------------------------------------- dates

const MONTHS: Record<string, number> = {
  jan: 1, januar: 1, january: 1, janvier: 1, feb: 2, februar: 2, february: 2, février: 2,
  mär: 3, mar: 3, märz: 3, march: 3, mars: 3, apr: 4, april: 4, avril: 4, mai: 5, may: 5,
  jun: 6, juni: 6, june: 6, juin: 6, jul: 7, juli: 7, july: 7, juillet: 7, aug: 8, august: 8,
  août: 8, sep: 9, sept: 9, september: 9, septembre: 9, okt: 10, oct: 10, oktober: 10,
  october: 10, octobre: 10, nov: 11, november: 11, novembre: 11, dez: 12, dec: 12,
  dezember: 12, december: 12, décembre: 12,
};
const MONTH_NAME = `(${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})\\.?`;

interface FoundDate {
  iso: string;
  /** Day/month order could not be told apart (01/02/2024). */
  ambiguous: boolean;
}

function fullYear(raw: string): number {
  const year = Number(raw);
  return raw.length === 2 ? 2000 + year : year;
}

const DATE_PATTERNS: Array<(line: string) => FoundDate[]> = [
  (line) =>
    [...line.matchAll(/\b(\d{4})-(\d{2})-(\d{2})\b/g)].flatMap((m) => {
      const iso = isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
      return iso ? [{ iso, ambiguous: false }] : [];
    }),
  (line) =>
    [...line.matchAll(/(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?![\d])/g)].flatMap((m) => {
      const iso = isoDate(fullYear(m[3]!), Number(m[2]), Number(m[1]));
      return iso ? [{ iso, ambiguous: false }] : [];
    }),
  (line) =>
    [...line.matchAll(/\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g)].flatMap((m) => {
      const [first, second, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
      // European default (day first) unless the numbers rule it out.
      const iso = first > 12 || second <= 12 ? isoDate(year, second, first) : isoDate(year, first, second);
      return iso ? [{ iso, ambiguous: first <= 12 && second <= 12 && first !== second }] : [];
    }),
  (line) =>
    [...line.matchAll(new RegExp(`\\b(\\d{1,2})\\.?\\s+${MONTH_NAME}\\s+(\\d{4})\\b`, 'gi'))].flatMap((m) => {
      const iso = isoDate(Number(m[3]), MONTHS[m[2]!.toLowerCase()] ?? 0, Number(m[1]));
      return iso ? [{ iso, ambiguous: false }] : [];
    }),
  (line) =>
    [...line.matchAll(new RegExp(`\\b${MONTH_NAME}\\s+(\\d{1,2}),?\\s+(\\d{4})\\b`, 'gi'))].flatMap((m) => {
      const iso = isoDate(Number(m[3]), MONTHS[m[1]!.toLowerCase()] ?? 0, Number(m[2]));
      return iso ? [{ iso, ambiguous: false }] : [];
    }),
];

function datesIn(line: string): FoundDate[] {
  return DATE_PATTERNS.flatMap((pattern) => pattern(line));
}

function addDays(iso: string, days: number): string {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- labelled search

/**
 * Finds a value next to a label: on the label's line after the label, else at the start of
 * the next line (labels in one column, values in the next row of a table).
 */
function labelled(
  lines: readonly string[],
  label: RegExp,
  read: (text: string) => string | null,
  confidence: { sameLine: number; nextLine: number },
  pick: 'first' | 'last' = 'first',
): Guess | null {
  const order = pick === 'first' ? lines.map((_, i) => i) : lines.map((_, i) => lines.length - 1 - i);
  for (const i of order) {
    const line = lines[i]!;
    const match = label.exec(line);
    if (!match) continue;
    const after = line.slice(match.index + match[0].length);
    const sameLine = read(after);
    if (sameLine !== null) return { value: sameLine, confidence: confidence.sameLine };
    const next = lines[i + 1];
    if (confidence.nextLine > 0 && after.trim().replace(/[:#.]/g, '') === '' && next !== undefined) {
      const nextValue = read(next);
      if (nextValue !== null) return { value: nextValue, confidence: confidence.nextLine };
    }
  }
  return null;
}

// ---------------------------------------------------------------- fields

const INVOICE_NUMBER_LABEL =
  /\b(rechnungs?\s*-?\s*(nummer|nr\.?|no\.?)|rechnung\s+(nr|no)\.?|invoice\s*(number|no\.?|nr\.?|#|id)|inv\.?\s*no\.?|facture\s*n[°o]\.?|num[ée]ro\s+de\s+facture|belegnummer|beleg-?nr\.?|gutschrifts?\s*-?\s*(nummer|nr\.?)|credit\s*note\s*(number|no\.?))/i;
const INVOICE_WORD_THEN_TOKEN = /\b(rechnung|invoice|facture|gutschrift)\s*[:#]?\s*/i;

function invoiceNumberToken(text: string): string | null {
  const match = /^\s*[:#.]?\s*([A-Za-z0-9][A-Za-z0-9\-/._]{0,39})/.exec(text);
  const token = match?.[1]?.replace(/[._/-]+$/, '');
  if (!token || !/\d/.test(token)) return null;
  if (datesIn(token).length > 0 || amountsIn(token).length > 0) return null;
  return token;
}

function findInvoiceNumber(lines: readonly string[]): Guess | null {
  return (
    labelled(lines, INVOICE_NUMBER_LABEL, invoiceNumberToken, { sameLine: 0.85, nextLine: 0.65 }) ??
    labelled(lines, INVOICE_WORD_THEN_TOKEN, invoiceNumberToken, { sameLine: 0.55, nextLine: 0 })
  );
}

const ISSUE_DATE_LABEL =
  /\b(rechnungsdatum|invoice\s*date|date\s*of\s*issue|issue\s*date|ausstellungsdatum|belegdatum|datum\s*der\s*rechnung|date\s*de\s*(la\s*)?facture|billing\s*date|gutschriftsdatum)\b/i;
const GENERIC_DATE_LABEL = /\b(datum|date)\b/i;
const DUE_DATE_LABEL =
  /\b(fällig(keit|keitsdatum)?(\s*am)?|zahlbar\s*bis(\s*zum)?|zahlungsziel|due\s*date|payment\s*due|due\s*(on|by)|pay\s*by|échéance|date\s*d'échéance)\b/i;
const NOT_ISSUE_DATE = /(liefer|leistung|delivery|service|period|zeitraum|fällig|due|bis\b|échéance|bestell|order)/i;

const firstDate = (text: string): string | null => datesIn(text)[0]?.iso ?? null;

function findIssueDate(lines: readonly string[]): Guess | null {
  const specific = labelled(lines, ISSUE_DATE_LABEL, firstDate, { sameLine: 0.85, nextLine: 0.7 });
  if (specific) return specific;
  const genericLines = lines.filter((l) => !NOT_ISSUE_DATE.test(l));
  const generic = labelled(genericLines, GENERIC_DATE_LABEL, firstDate, { sameLine: 0.65, nextLine: 0.5 });
  if (generic) return generic;
  // Letters put the date near the top; take the first date not about delivery or payment.
  const fallback = genericLines.slice(0, 30).map(firstDate).find((d) => d !== null);
  return fallback ? { value: fallback, confidence: 0.35 } : null;
}

const PAYMENT_TERM_DAYS = /\b(?:innerhalb\s+(?:von\s+)?|within\s+|net\s+|netto\s+)(\d{1,3})\s*(?:tagen|tage|days)?\b|\b(\d{1,3})\s+tage\s+netto\b/i;

function findDueDate(lines: readonly string[], issueDate: Guess | null): Guess | null {
  const explicit = labelled(lines, DUE_DATE_LABEL, firstDate, { sameLine: 0.8, nextLine: 0.65 });
  if (explicit) return explicit;
  if (!issueDate) return null;
  for (const line of lines) {
    const term = PAYMENT_TERM_DAYS.exec(line);
    const days = Number(term?.[1] ?? term?.[2]);
    if (term && days > 0 && days <= 180) {
      return { value: addDays(issueDate.value, days), confidence: Math.min(0.5, issueDate.confidence) };
    }
  }
  return null;
}

const GROSS_TOTAL_LABEL =
  /(gesamtbetrag|rechnungsbetrag|bruttobetrag|endbetrag|gesamtsumme|endsumme|summe\s*brutto|bruttosumme|gesamt\s*brutto|grand\s*total|invoice\s*total|total\s*(amount\s*)?(incl\.?|inkl\.?|including|gross|ttc)|total\s*amount|montant\s*ttc)/i;
const WEAK_TOTAL_LABEL = /\b(total|summe|gesamt|betrag)\b/i;
const NET_OR_TAX_ONLY = /\b(netto|net|nettobetrag|zwischensumme|subtotal|sub-total|mwst|ust|vat|tax|steuer|tva|rabatt|discount|skonto)\b/i;
const GROSS_MARKER = /(brutto|gross|incl|inkl|including|ttc|zu\s*zahlen|due|zahlbetrag)/i;
const AMOUNT_DUE_LABEL =
  /(zahlbetrag|zu\s*zahlen(der\s*betrag)?|noch\s*offen|offener\s*betrag|amount\s*due|balance\s*due|total\s*due|payable\s*amount|montant\s*dû|net\s*à\s*payer)/i;
const PAID_OR_DUE = new RegExp(`${AMOUNT_DUE_LABEL.source}|\\b(paid|bezahlt|gezahlt|anzahlung|prepaid|payé)\\b`, 'i');

const lastAmount = (text: string): string | null => amountsIn(text).at(-1) ?? null;

function totalLines(lines: readonly string[]): string[] {
  // A "Total" line that is only about net or tax is not BT-112.
  return lines.map((l) => (NET_OR_TAX_ONLY.test(l) && !GROSS_MARKER.test(l) ? '' : l));
}

/**
 * BT-112 from, in order: a gross-total label, a bare "Total"/"Summe" that is not about an
 * amount paid or due, and only then an "amount due" line (equal to the total whenever
 * nothing was prepaid, which is the common case).
 */
function findTotal(lines: readonly string[]): { guess: Guess; line: string } | null {
  const candidates = totalLines(lines);
  const notPaidOrDue = candidates.map((l) => (PAID_OR_DUE.test(l) ? '' : l));
  const passes: Array<[readonly string[], RegExp, { sameLine: number; nextLine: number }]> = [
    [notPaidOrDue, GROSS_TOTAL_LABEL, { sameLine: 0.8, nextLine: 0.65 }],
    [notPaidOrDue, WEAK_TOTAL_LABEL, { sameLine: 0.6, nextLine: 0.45 }],
    [candidates, AMOUNT_DUE_LABEL, { sameLine: 0.5, nextLine: 0.4 }],
  ];
  for (const [searched, label, confidence] of passes) {
    const guess = labelled(searched, label, lastAmount, confidence, 'last');
    if (!guess) continue;
    // The line is kept for the currency lookup: the last label line showing that amount.
    const line = [...searched].reverse().find((l) => label.test(l) && amountsIn(l).includes(guess.value)) ?? '';
    return { guess, line };
  }
  return null;
}

function findCurrency(lines: readonly string[], totalLine: string | null): Guess | null {
  const onTotal = totalLine ? currencyIn(totalLine) : null;
  if (onTotal) return { value: onTotal.value, confidence: 0.85 * onTotal.confidence };
  const counts = new Map<string, { count: number; certainty: number }>();
  for (const line of lines) {
    const found = currencyIn(line);
    if (!found) continue;
    const entry = counts.get(found.value) ?? { count: 0, certainty: found.confidence };
    entry.count++;
    counts.set(found.value, entry);
  }
  const best = [...counts.entries()].sort((a, b) => b[1].count - a[1].count)[0];
  return best ? { value: best[0], confidence: 0.6 * best[1].certainty } : null;
}

const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{1,4}){3,8}/g;

function findIban(lines: readonly string[]): Guess | null {
  for (const line of lines) {
    for (const match of line.toUpperCase().matchAll(IBAN_CANDIDATE)) {
      // The pattern can swallow a following word ("... 51 BIC"); shorten until the checksum
      // (and the country's length, where known) holds, longest first.
      const compact = match[0].replace(/\s+/g, '');
      for (let length = compact.length; length >= 15; length--) {
        const candidate = compact.slice(0, length);
        if (isValidIban(candidate)) return { value: candidate, confidence: /iban/i.test(line) ? 0.85 : 0.7 };
      }
    }
  }
  return null;
}

const VAT_ID_LABEL =
  /(ust\.?\s*-?\s*id\.?\s*-?\s*(nr\.?|nummer)?|umsatzsteuer\s*-?\s*id(entifikations)?(nummer|nr\.?)?|vat\s*(id|no\.?|number|reg(istration)?\.?\s*(no\.?|number)?)|tva\s*intra\w*|n°\s*tva)\s*[:.]?\s*/i;
const BUYER_CONTEXT = /\b(ihre|your|kunde|kunden|customer|buyer|client|empfänger)\b/i;

function vatIdToken(text: string): string | null {
  const match = /^\s*([A-Z]{2})\s?([0-9A-Z][0-9A-Z ]{7,14})/.exec(text);
  if (!match) return null;
  const compact = `${match[1]}${match[2]!.replace(/\s+/g, '')}`;
  if (!/^[A-Z]{2}[0-9A-Z]{8,12}$/.test(compact) || !/\d{6}/.test(compact)) return null;
  if (compact.startsWith('DE') && !/^DE\d{9}$/.test(compact.slice(0, 11))) return null;
  return compact.startsWith('DE') ? compact.slice(0, 11) : compact;
}

function findSellerVatId(lines: readonly string[]): Guess | null {
  const sellerLines = lines.map((l) => (BUYER_CONTEXT.test(l) ? '' : l));
  const viaLabel = labelled(sellerLines, VAT_ID_LABEL, vatIdToken, { sameLine: 0.7, nextLine: 0.55 });
  if (viaLabel) return viaLabel;
  const bare = sellerLines.map((l) => /\bDE\s?\d{9}\b/.exec(l)?.[0]).find((v) => v !== undefined);
  return bare ? { value: bare.replace(/\s+/g, ''), confidence: 0.45 } : null;
}

const LEGAL_FORM =
  /\b(GmbH(\s*&\s*Co\.?\s*KG)?|gGmbH|AG|UG|KG|OHG|GbR|e\.\s?K\.|e\.\s?V\.|Ltd\.?|Limited|LLC|Inc\.?|Corp\.?|SARL|SAS|S\.A\.|B\.V\.|N\.V\.|S\.r\.l\.|plc|ApS|A\/S|Oy)(?![\w])/;
const SEGMENT_SEPARATOR = /\s+[·•|–-]\s+|\s{2,}|,\s+(?=\d)/;

function findSellerName(lines: readonly string[]): Guess | null {
  const head = lines.slice(0, HEAD_LINES);
  for (const line of head) {
    if (!LEGAL_FORM.test(line) || BUYER_CONTEXT.test(line)) continue;
    // Sender lines above the address window look like "Firma GmbH · Straße 1 · 12345 Ort".
    const segment = line.split(SEGMENT_SEPARATOR).find((s) => LEGAL_FORM.test(s)) ?? line;
    return { value: segment.trim(), confidence: 0.5 };
  }
  const first = head.find(
    (l) => /\p{L}{3}/u.test(l) && !INVOICE_KEYWORD.test(l) && datesIn(l).length === 0 && amountsIn(l).length === 0,
  );
  return first ? { value: first, confidence: 0.25 } : null;
}

const BUYER_REFERENCE_LABEL = /\b(leitweg-?id|buyer\s*reference|käuferreferenz)\b\s*[:#]?\s*/i;
const WEAK_BUYER_REFERENCE_LABEL =
  /\b(ihre\s*referenz|your\s*reference|ihr\s*zeichen|ihre\s*bestellnummer|bestellnummer|purchase\s*order|po\s*(number|no\.?))\s*[:#]?\s*/i;
const referenceToken = (text: string): string | null => /^\s*([A-Za-z0-9][A-Za-z0-9\-/._]{1,49})/.exec(text)?.[1] ?? null;

function findBuyerReference(lines: readonly string[]): Guess | null {
  return (
    labelled(lines, BUYER_REFERENCE_LABEL, referenceToken, { sameLine: 0.85, nextLine: 0.65 }) ??
    labelled(lines, WEAK_BUYER_REFERENCE_LABEL, referenceToken, { sameLine: 0.5, nextLine: 0.4 })
  );
}

// ---------------------------------------------------------------- assembly

function looksLikeInvoice(lines: readonly string[]): boolean {
  const head = lines.slice(0, HEAD_LINES).join('\n');
  const all = lines.join('\n');
  if (!INVOICE_KEYWORD.test(all)) return false;
  // Quotes and dunning letters mention "Rechnung" too, but their title comes first.
  const invoiceAt = head.search(INVOICE_KEYWORD);
  const otherAt = head.search(OTHER_DOCUMENT_KEYWORD);
  return otherAt < 0 || (invoiceAt >= 0 && invoiceAt < otherAt);
}

/**
 * Bounded input for the patterns below: at most `textLines` lines of at most `lineChars`
 * characters, runs of three or more blanks shortened to two (what `\s{2,}` separators need;
 * no `\s*…\s*` pattern then meets a long run). Each pattern is linear in its line, so the
 * whole guess is linear in this capped text.
 */
function boundedLines(lines: readonly string[]): string[] {
  return lines.slice(0, RECOGNITION_LIMITS.textLines).map((l) => {
    const collapsed = l.replace(/\s{3,}/g, '  ');
    return collapsed.length > RECOGNITION_LIMITS.lineChars ? collapsed.slice(0, RECOGNITION_LIMITS.lineChars) : collapsed;
  });
}

export function recogniseInvoiceText(input: readonly string[]): RecognisedInvoice | null {
  const lines = boundedLines(input);
  if (!looksLikeInvoice(lines)) return null;

  const invoiceNumber = findInvoiceNumber(lines);
  const total = findTotal(lines);
  if (!invoiceNumber && !total) return null;

  const issueDate = findIssueDate(lines);
  const explicitAmountDue = labelled(totalLines(lines), AMOUNT_DUE_LABEL, lastAmount, { sameLine: 0.8, nextLine: 0.65 }, 'last');
  // Without a separate "amount due" line, what is payable is the total; say so only weakly.
  const amountDue = explicitAmountDue ?? (total ? { value: total.guess.value, confidence: total.guess.confidence * 0.7 } : null);

  const guesses: Record<InvoiceField, Guess | null> = {
    invoiceNumber,
    issueDate,
    dueDate: findDueDate(lines, issueDate),
    currency: findCurrency(lines, total?.line ?? null),
    totalWithVat: total?.guess ?? null,
    amountDue,
    sellerName: findSellerName(lines),
    sellerVatId: findSellerVatId(lines),
    buyerReference: findBuyerReference(lines),
    iban: findIban(lines),
  };

  const fields = Object.fromEntries(INVOICE_FIELDS.map((f) => [f, guesses[f]?.value ?? null])) as InvoiceFields;
  const fieldConfidence = Object.fromEntries(
    INVOICE_FIELDS.map((f) => [f, Math.round((guesses[f]?.confidence ?? 0) * 100) / 100]),
  );
  const core: InvoiceField[] = ['invoiceNumber', 'issueDate', 'totalWithVat', 'currency'];
  const confidence = Math.min(0.9, core.reduce((sum, f) => sum + (fieldConfidence[f] ?? 0), 0) / core.length);
  const documentType: InvoiceDocumentType = CREDIT_NOTE_KEYWORD.test(lines.slice(0, HEAD_LINES).join('\n'))
    ? 'credit-note'
    : 'invoice';

  return {
    format: 'pdf-text',
    documentType,
    ...fields,
    method: 'pdf-text',
    confidence: Math.round(confidence * 100) / 100,
    fieldConfidence,
  };
}
