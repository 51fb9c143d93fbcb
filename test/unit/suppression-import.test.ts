/**
 * Reading SES and Mailtrap suppression exports for `mailbridge suppressions import`, and the
 * export format.
 */
import { describe, expect, it } from 'vitest';
import { defaultImportOrigin, detectFormat, exportLines, importKey, parseImport, splitCsvLine, spreadsheetCsvField } from '../../shared/domain/suppression-import.ts';
import { applyManualSuppression } from '../../shared/domain/suppression-policy.ts';

describe('SES CSV (address,REASON)', () => {
  it('accepts valid rows and reports duplicate and invalid ones by line number', () => {
    // Prepare: SES's own example has a space after the comma; blank lines are not rows.
    const text = ['Recipient1@Example.com,BOUNCE', 'recipient2@example.com, COMPLAINT', '', 'bad-address,BOUNCE', 'recipient1@example.com,BOUNCE', 'r3@example.com,UNSUBSCRIBE', 'r4@example.com,BOUNCE,extra'].join('\r\n');
    // Act
    const parsed = parseImport(text);
    // Assess
    expect(parsed.format).toBe('ses-csv');
    expect(parsed.accepted).toEqual([
      { line: 1, email: 'Recipient1@Example.com', reason: 'bounce' },
      { line: 2, email: 'recipient2@example.com', reason: 'complaint' },
    ]);
    expect(parsed.duplicates).toEqual([{ line: 5, email: 'recipient1@example.com', firstLine: 1, reason: 'same address and scope as line 1' }]);
    expect(parsed.invalid).toEqual([
      { line: 4, reason: 'not an email address' },
      { line: 6, reason: 'reason must be BOUNCE or COMPLAINT' },
      { line: 7, reason: 'expected 2 columns (address,REASON), found 3' },
    ]);
  });

  it('skips a header row naming the columns', () => {
    const parsed = parseImport('email,reason\na@b.org,BOUNCE\n');
    expect(parsed.accepted).toEqual([{ line: 2, email: 'a@b.org', reason: 'bounce' }]);
    expect(parsed.invalid).toEqual([]);
  });
});

describe('SES NDJSON', () => {
  it('reads import lines and API-shaped dumps, with their time', () => {
    const text = [
      '{"emailAddress": "a@b.org", "reason": "BOUNCE"}',
      '{"EmailAddress": "C@d.org", "Reason": "COMPLAINT", "LastUpdateTime": "2024-10-11T18:00:00Z"}',
      '{"emailAddress": "a@b.org"',
      '["x"]',
    ].join('\n');
    const parsed = parseImport(text);
    expect(parsed.format).toBe('ses-ndjson');
    expect(parsed.accepted).toEqual([
      { line: 1, email: 'a@b.org', reason: 'bounce', at: undefined },
      { line: 2, email: 'C@d.org', reason: 'complaint', at: '2024-10-11T18:00:00.000Z' },
    ]);
    expect(parsed.invalid).toEqual([
      { line: 3, reason: 'not valid JSON' },
      { line: 4, reason: 'not a JSON object' },
    ]);
  });
});

describe('Mailtrap CSV export', () => {
  it('finds columns by name and maps types to our reasons and scopes', () => {
    const text = [
      'ID,Email,Type,Sending Stream,Domain Name,Created At',
      '1,u1@x.org,hard bounce,transactional,Sender.example,2024-10-11T18:00:00Z',
      '2,u2@x.org,unsubscription,bulk,sender.example,2024-10-11T18:00:00Z',
      '3,u3@x.org,manual import,transactional,,2024-10-11T18:00:00Z',
      '4,u4@x.org,spam complaint,transactional,sender.example,not a date',
      '5,u5@x.org,soft bounce,transactional,sender.example,2024-10-11T18:00:00Z',
      '6,u2@x.org,unsubscription,bulk,sender.example,2024-10-11T19:00:00Z',
    ].join('\n');
    const parsed = parseImport(text);
    expect(parsed.format).toBe('mailtrap-csv');
    expect(parsed.accepted).toEqual([
      { line: 2, email: 'u1@x.org', reason: 'bounce', scope: undefined, at: '2024-10-11T18:00:00.000Z' },
      { line: 3, email: 'u2@x.org', reason: 'unsubscribe', scope: { domain: 'sender.example', stream: 'bulk' }, at: '2024-10-11T18:00:00.000Z' },
      { line: 4, email: 'u3@x.org', reason: 'manual', scope: undefined, at: '2024-10-11T18:00:00.000Z' },
      { line: 5, email: 'u4@x.org', reason: 'complaint', scope: undefined, at: undefined },
    ]);
    expect(parsed.invalid).toEqual([{ line: 6, reason: 'unknown Mailtrap type "soft bounce"' }]);
    expect(parsed.duplicates.map((d) => d.line)).toEqual([7]);
  });

  it('is told apart from SES formats by its header', () => {
    expect(detectFormat('email,type,sending_stream\n')).toBe('mailtrap-csv');
    expect(detectFormat('\uFEFFa@b.org,BOUNCE\n')).toBe('ses-csv');
    expect(detectFormat('\n{"emailAddress":"a@b.org"}')).toBe('ses-ndjson');
  });
});

describe('import keys and export', () => {
  it('gives the same row the same key whatever its spelling, so a second import is a duplicate', () => {
    expect(importKey({ email: 'A@B.org', reason: 'bounce' })).toBe(importKey({ email: 'a@b.org', reason: 'bounce' }));
    expect(importKey({ email: 'a@b.org', reason: 'unsubscribe', scope: { domain: 'x.org' } })).toBe('import:a@b.org:unsubscribe:domain:x.org');
  });

  it('names the provider a file came from in the key: Mailtrap for its export, nobody for SES formats', () => {
    expect(defaultImportOrigin('mailtrap-csv')).toBe('mailtrap');
    expect(defaultImportOrigin('ses-csv')).toBeUndefined();
    expect(defaultImportOrigin('ses-ndjson')).toBeUndefined();
    expect(importKey({ email: 'A@B.org', reason: 'bounce' }, 'mailtrap')).toBe('import:mailtrap:a@b.org:bounce:global');
  });

  it('writes one line per suppressed scope, quoting CSV fields when needed', () => {
    const state = applyManualSuppression(undefined, { email: "O'Brien&Co@b.org", reason: 'unsubscribe', scope: { domain: 'a,b.example' }, at: '2024-10-11T18:00:00.000Z', key: 'k', source: 'import' }).next!;
    expect(exportLines(state, 'csv')).toEqual([`o'brien&co@b.org,O'Brien&Co@b.org,unsubscribe,"domain:a,b.example",import,2024-10-11T18:00:00.000Z`]);
    expect(JSON.parse(exportLines(state, 'ndjson')[0] ?? '{}')).toEqual({
      email: "o'brien&co@b.org",
      spelling: "O'Brien&Co@b.org",
      reason: 'unsubscribe',
      scope: 'domain:a,b.example',
      source: 'import',
      since: '2024-10-11T18:00:00.000Z',
    });
  });

  it.each(['=', '+', '-'])('neutralises an exported address starting with %j, which a spreadsheet would run as a formula', (lead) => {
    // Prepare: an RFC-valid address that a spreadsheet would read as a formula (a DDE payload).
    const raw = `${lead}cmd|'/Ccalc'!A0@b.org`;
    const state = applyManualSuppression(undefined, { email: raw, reason: 'manual', at: '2024-10-11T18:00:00.000Z', key: 'k', source: 'import' }).next!;
    // Act
    const [line] = exportLines(state, 'csv');
    // Assess: the cell starts with a quote mark (shown as text), the value follows unchanged.
    const cells = splitCsvLine(line ?? '');
    expect(cells.slice(0, 2)).toEqual([`'${raw.toLowerCase()}`, `'${raw}`]);
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    // The NDJSON export is data, not a sheet: unchanged.
    expect(JSON.parse(exportLines(state, 'ndjson')[0] ?? '{}').spelling).toBe(raw);
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1'])('neutralises any cell starting with a formula character: %j', (value) => {
    const cell = spreadsheetCsvField(value);
    expect(splitCsvLine(cell)[0]?.startsWith("'")).toBe(true);
    expect(splitCsvLine(cell)[0]?.slice(1).trim()).toBe(value.trim());
    expect(spreadsheetCsvField('plain@b.org')).toBe('plain@b.org');
  });
});

describe('NDJSON rows with impossible dates', () => {
  it.each([1e300, -1e300, '+300000-01-01T00:00:00Z', 'soon', true])('rejects lastUpdateTime %j with its line, keeps the other rows', (value) => {
    // Prepare
    const text = ['{"emailAddress":"a@b.org","reason":"BOUNCE","lastUpdateTime":1728669600}', JSON.stringify({ emailAddress: 'c@d.org', reason: 'BOUNCE', lastUpdateTime: value }), '{"emailAddress":"e@f.org","reason":"COMPLAINT"}'].join('\n');
    // Act
    const parsed = parseImport(text, 'ses-ndjson');
    // Assess
    expect(parsed.accepted.map((r) => [r.line, r.at])).toEqual([
      [1, '2024-10-11T18:00:00.000Z'],
      [3, undefined],
    ]);
    expect(parsed.invalid).toEqual([{ line: 2, reason: 'lastUpdateTime is not a valid date' }]);
  });
});
