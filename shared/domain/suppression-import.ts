/**
 * Reading suppression lists people bring from a provider, and writing ours out. Pure.
 *
 * Formats read:
 * - `ses-csv`: SES's bulk-import CSV, one `address,REASON` per line (REASON = BOUNCE |
 *   COMPLAINT), no header (https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html);
 *   a first line naming the columns (`email,reason`) is tolerated and skipped.
 * - `ses-ndjson`: one JSON object per line, `{"emailAddress": ..., "reason": ...}` as SES's
 *   import takes it; `EmailAddress`/`Reason` (the API's member names, as in a
 *   ListSuppressedDestinations dump) and `lastUpdateTime` are accepted too.
 * - `mailtrap-csv`: Mailtrap's suppressions export, a header row then one record per line.
 *   Columns are found by name (`email`, `type`, `sending_stream`, `domain_name`,
 *   `created_at`; "Sending stream" etc. also match), so column order and extra columns do not
 *   matter. Types map as the sync maps ours to Mailtrap's: hard bounce -> bounce, spam
 *   complaint -> complaint (both global, as the webhook maps them), unsubscription ->
 *   unsubscribe for that domain/stream, manual import -> manual for that domain/stream.
 *
 * Rows are numbered by their line in the file (1-based) so a person can fix the file.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { SuppressionScope } from './feedback-event.ts';
import { domainKey, isEmailAddress, normaliseEmail } from './email-address.ts';
import { isJsonObject, parseJson } from '../schemas/json.ts';
import { scopeKey, type AddressState, type SuppressionReason } from './suppression-policy.ts';

export type ImportFormat = 'ses-csv' | 'ses-ndjson' | 'mailtrap-csv';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['ses-csv', 'ses-ndjson', 'mailtrap-csv'];

export interface ImportRow {
  line: number;
  /** As written in the file (SES matches exact case; the store keeps the spelling). */
  email: string;
  reason: SuppressionReason;
  scope?: SuppressionScope | undefined;
  /** When the provider recorded it, if the file says. */
  at?: string | undefined;
}

interface RejectedRow {
  line: number;
  reason: string;
}

export interface ParsedImport {
  format: ImportFormat;
  accepted: ImportRow[];
  /** The same address and scope seen earlier in the file. */
  duplicates: Array<RejectedRow & { email: string; firstLine: number }>;
  invalid: RejectedRow[];
}

class ImportFormatError extends Error {
  override name = 'ImportFormatError';
}

/**
 * One CSV line. A line without a double quote is split on commas (nearly every line of an SES
 * or Mailtrap file, and 20x faster); one with quotes goes to csv-parse (RFC 4180 quoting,
 * `""` escapes, a stray quote inside a field tolerated). Records never span lines here: the
 * reader splits lines first, so one malformed line is one rejected row, never the rest of the
 * file (csv-parse's stream parser stops for good at an unterminated quote).
 */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((f) => f.trim());
  try {
    const [fields] = parseCsv(line, { relax_quotes: true, relax_column_count: true, trim: true, skip_empty_lines: false }) as string[][];
    return fields ?? [''];
  } catch (error) {
    throw new ImportFormatError(`malformed CSV quoting (${(error as { code?: string }).code ?? 'parse error'})`);
  }
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A CSV cell for a file people open in a spreadsheet: a cell starting with `=`, `+`, `-`,
 * `@`, tab or CR would run as a formula (CSV injection, OWASP), so it gets a leading `'`,
 * which spreadsheets show as text. Only for the export people read: the CSV SES imports
 * (ses-sync) must carry the address exactly.
 */
export function spreadsheetCsvField(value: string): string {
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

const headerName = (h: string) => h.trim().toLowerCase().replace(/[\s-]+/g, '_');

export function detectFormat(text: string): ImportFormat {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '')?.replace(/^\uFEFF/, '').trim() ?? '';
  if (first.startsWith('{')) return 'ses-ndjson';
  const cols = splitCsvLine(first).map(headerName);
  if (cols.includes('email') && (cols.includes('type') || cols.includes('sending_stream') || cols.includes('domain_name'))) return 'mailtrap-csv';
  return 'ses-csv';
}

function sesReason(value: unknown): SuppressionReason | undefined {
  const v = typeof value === 'string' ? value.trim().toUpperCase() : '';
  return v === 'BOUNCE' ? 'bounce' : v === 'COMPLAINT' ? 'complaint' : undefined;
}

/** Absent -> undefined; present but not a time a Date can hold (`1e300`, `"soon"`) -> null, so the row is refused with its line. */
function isoOrUndefined(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    const t = new Date(Math.abs(value) > 1e12 ? value : value * 1000).getTime();
    return Number.isFinite(t) ? new Date(t).toISOString() : null;
  }
  if (typeof value !== 'string') return null;
  if (value.trim() === '') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const MAILTRAP_TYPES: Record<string, SuppressionReason> = {
  'hard bounce': 'bounce',
  hard_bounce: 'bounce',
  'spam complaint': 'complaint',
  spam_complaint: 'complaint',
  unsubscription: 'unsubscribe',
  'manual import': 'manual',
  manual_import: 'manual',
};

export type LineResult = { row: Omit<ImportRow, 'line'> } | { invalid: string } | { skip: true };

function parseSesCsvLine(line: string, first: boolean): LineResult {
  const fields = splitCsvLine(line);
  const [email = '', reason, ...rest] = fields;
  if (first && /^(email|e-?mail_?address|address)$/i.test(email) && /^reason$/i.test(reason ?? '')) return { skip: true };
  if (rest.length > 0) return { invalid: `expected 2 columns (address,REASON), found ${fields.length}` };
  if (!isEmailAddress(email)) return { invalid: 'not an email address' };
  const r = sesReason(reason);
  if (!r) return { invalid: `reason must be BOUNCE or COMPLAINT` };
  return { row: { email: email.trim(), reason: r } };
}

function parseSesJsonLine(line: string): LineResult {
  let obj: unknown;
  try {
    obj = parseJson(line, 'line');
  } catch {
    return { invalid: 'not valid JSON' };
  }
  if (!isJsonObject(obj)) return { invalid: 'not a JSON object' };
  const o = obj;
  const email = o.emailAddress ?? o.EmailAddress ?? o.email;
  if (typeof email !== 'string' || !isEmailAddress(email)) return { invalid: 'emailAddress missing or not an email address' };
  const r = sesReason(o.reason ?? o.Reason);
  if (!r) return { invalid: 'reason must be BOUNCE or COMPLAINT' };
  const at = isoOrUndefined(o.lastUpdateTime ?? o.LastUpdateTime);
  if (at === null) return { invalid: 'lastUpdateTime is not a valid date' };
  return { row: { email: email.trim(), reason: r, at } };
}

function mailtrapLineParser(header: string[]): (line: string) => LineResult {
  const cols = header.map(headerName);
  const at = (name: string, ...alts: string[]) => [name, ...alts].map((n) => cols.indexOf(n)).find((i) => i >= 0) ?? -1;
  const iEmail = at('email', 'email_address');
  const iType = at('type', 'suppression_type');
  const iStream = at('sending_stream', 'stream');
  const iDomain = at('domain_name', 'domain', 'sending_domain');
  const iCreated = at('created_at', 'created', 'date');
  if (iEmail < 0 || iType < 0) throw new ImportFormatError('Mailtrap CSV needs `email` and `type` columns');
  return (line) => {
    const f = splitCsvLine(line);
    const email = f[iEmail] ?? '';
    if (!isEmailAddress(email)) return { invalid: 'not an email address' };
    const reason = MAILTRAP_TYPES[(f[iType] ?? '').trim().toLowerCase()];
    if (!reason) return { invalid: `unknown Mailtrap type "${f[iType] ?? ''}"` };
    const domain = iDomain >= 0 ? domainKey(f[iDomain] ?? '') : '';
    const streamRaw = iStream >= 0 ? (f[iStream] ?? '').trim().toLowerCase() : '';
    const stream = streamRaw === 'transactional' || streamRaw === 'bulk' ? streamRaw : undefined;
    // Bounces and complaints say something about the address itself: global, as the webhook maps them.
    const scoped = (reason === 'unsubscribe' || reason === 'manual') && domain !== '';
    // Mailtrap's export date format is not documented: an unreadable date is dropped, not the row.
    const at = iCreated >= 0 ? (isoOrUndefined(f[iCreated]) ?? undefined) : undefined;
    return {
      row: {
        email: email.trim(),
        reason,
        scope: scoped ? { domain, ...(stream ? { stream } : {}) } : undefined,
        at,
      },
    };
  };
}

/**
 * The rules for one file's lines, in order: `(line, lineNo)` for each non-empty line (BOM
 * already stripped). Stateful: a Mailtrap file's first line is its header, an SES CSV's first
 * line may name the columns. A line that cannot be split (bad quoting) is invalid, not fatal.
 */
export function importLineParser(format: ImportFormat): (line: string) => LineResult {
  let first = true;
  let mailtrap: ((line: string) => LineResult) | undefined;
  const guarded = (run: () => LineResult): LineResult => {
    try {
      return run();
    } catch (error) {
      if (error instanceof ImportFormatError && !first) return { invalid: error.message };
      throw error;
    }
  };
  return (line) => {
    const result = guarded(() => {
      if (format === 'ses-ndjson') return parseSesJsonLine(line);
      if (format === 'ses-csv') return parseSesCsvLine(line, first);
      if (!mailtrap) {
        mailtrap = mailtrapLineParser(splitCsvLine(line));
        return { skip: true };
      }
      return mailtrap(line);
    });
    first = false;
    return result;
  };
}

/** What makes two rows of one file the same row: address and scope (the reason does not). */
export function rowKey(row: Pick<ImportRow, 'email' | 'scope'>): string {
  return `${normaliseEmail(row.email)} ${scopeKey(row.scope)}`;
}

/**
 * A 53-bit digest of a row key (cyrb53): the streaming import remembers a number per row
 * instead of the key, ~40 bytes a row whatever the address length. A collision only makes a
 * row a *suspected* duplicate, which the import checks against the store before calling it one.
 */
export function rowDigest(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The whole text at once (small files, tests); the CLI streams through the same line rules. */
export function parseImport(text: string, format: ImportFormat = detectFormat(text)): ParsedImport {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: ParsedImport = { format, accepted: [], duplicates: [], invalid: [] };
  const seen = new Map<string, number>();
  const parseLine = importLineParser(format);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    const result = parseLine(raw);
    if ('skip' in result) continue;
    if ('invalid' in result) {
      out.invalid.push({ line: lineNo, reason: result.invalid });
      continue;
    }
    const key = rowKey(result.row);
    const first = seen.get(key);
    if (first !== undefined) {
      out.duplicates.push({ line: lineNo, email: result.row.email, firstLine: first, reason: `same address and scope as line ${first}` });
      continue;
    }
    seen.set(key, lineNo);
    out.accepted.push({ line: lineNo, ...result.row });
  }
  return out;
}

/**
 * Which provider a file's entries already sit in, so the sync does not push them back there
 * (suppression-sync.ts `originOf` reads it from the key). A Mailtrap CSV is Mailtrap's own
 * export: by default its entries are Mailtrap's. SES's CSV is its *import* format, which any
 * list can be written in, so by default its rows are pushed to SES too (through one
 * CreateImportJob, cheap) rather than risk SES never getting them; `--origin ses` says
 * otherwise. Wrongly claiming an origin would leave that provider without the entry, so the
 * default only claims it where the format proves it.
 */
export type ImportOrigin = 'ses' | 'mailtrap';
export const IMPORT_ORIGINS: readonly ImportOrigin[] = ['ses', 'mailtrap'];

export function defaultImportOrigin(format: ImportFormat): ImportOrigin | undefined {
  return format === 'mailtrap-csv' ? 'mailtrap' : undefined;
}

/** The idempotency key of an imported row: importing the same file twice changes nothing. */
export function importKey(row: Pick<ImportRow, 'email' | 'reason' | 'scope'>, origin?: ImportOrigin): string {
  return `import:${origin ? `${origin}:` : ''}${normaliseEmail(row.email)}:${row.reason}:${scopeKey(row.scope)}`;
}

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_CSV_HEADER = 'email,spelling,reason,scope,source,since';

/** One line per suppressed scope of an address. */
export function exportLines(state: AddressState, format: ExportFormat): string[] {
  return state.suppressions.map((s) => {
    const spelling = state.spellings[0] ?? state.email;
    if (format === 'ndjson') {
      return JSON.stringify({ email: state.email, spelling, reason: s.reason, scope: s.scope, source: s.source, since: s.since });
    }
    return [state.email, spelling, s.reason, s.scope, s.source, s.since].map(spreadsheetCsvField).join(',');
  });
}
