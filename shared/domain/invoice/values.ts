/** Normalisers shared by the structured and heuristic extractors. */

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

export function isoDate(year: number, month: number, day: number): string | null {
  if (!isCalendarDate(year, month, day)) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** xsd:date as used by UBL ("2024-01-15", optionally with a zone suffix) → YYYY-MM-DD. */
export function fromXsdDate(raw: string | null): string | null {
  const match = raw === null ? null : /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(raw);
  return match ? isoDate(Number(match[1]), Number(match[2]), Number(match[3])) : null;
}

/**
 * CII udt:DateTimeString. EN 16931 only allows format 102 (CCYYMMDD); some producers omit
 * the attribute or write an ISO date anyway, so accept both shapes but nothing partial
 * (610 = month, 616 = week cannot become a calendar day).
 */
export function fromCiiDate(raw: string | null, format: string | undefined): string | null {
  if (raw === null) return null;
  const value = raw.trim();
  if (format !== undefined && format !== '102') return fromXsdDate(value);
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return match ? isoDate(Number(match[1]), Number(match[2]), Number(match[3])) : fromXsdDate(value);
}

/**
 * Amounts from XML are kept exactly as written apart from whitespace, so "336.9" stays
 * "336.9" and "1000.00" keeps its precision; anything that is not an xsd:decimal is dropped
 * rather than guessed at.
 */
export function xmlAmount(raw: string | null): string | null {
  if (raw === null) return null;
  const compact = raw.replace(/\s+/g, '');
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(compact) ? compact : null;
}

export function withoutWhitespace(raw: string | null): string | null {
  if (raw === null) return null;
  const compact = raw.replace(/\s+/g, '');
  return compact === '' ? null : compact;
}

export function upperCode(raw: string | null): string | null {
  const compact = withoutWhitespace(raw);
  return compact === null ? null : compact.toUpperCase();
}
