/**
 * The streaming import (shared/services/import-suppressions.ts): the line reader over chunks
 * as a file stream delivers them, and the summary the import gives, against an in-memory
 * store that keeps the real store's contract (version-checked writes; updateMany = update
 * one after another). The DynamoDB path is in test/integration/suppression-import.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { normaliseEmail } from '../../shared/domain/email-address.ts';
import { applyManualSuppression, type AddressState, type Decision } from '../../shared/domain/suppression-policy.ts';
import { defaultImportOrigin, importKey } from '../../shared/domain/suppression-import.ts';
import type { BulkSuppressionStore, StoreChange } from '../../shared/ports/suppression-store.ts';
import { importSuppressions, readImportLines, type ReadLine, type RejectedRecord } from '../../shared/services/import-suppressions.ts';

class MemoryStore implements BulkSuppressionStore {
  readonly items = new Map<string, AddressState>();
  writes = 0;
  requests = 0;
  async get(email: string) {
    return this.items.get(normaliseEmail(email));
  }
  async update(email: string, decide: (current: AddressState | undefined) => Decision) {
    this.requests++;
    const current = this.items.get(normaliseEmail(email));
    const decision = decide(current);
    if (!decision.next) return decision;
    const next = { ...decision.next, version: (current?.version ?? 0) + 1 };
    this.items.set(normaliseEmail(email), next);
    this.writes++;
    return { ...decision, next };
  }
  readonly assumedNew: boolean[] = [];
  async updateMany(changes: readonly StoreChange[], options: { assumeNew?: boolean } = {}) {
    this.assumedNew.push(options.assumeNew === true);
    const existing = new Set(changes.map((c) => normaliseEmail(c.email)).filter((e) => this.items.has(e))).size;
    const out: Decision[] = [];
    for (const c of changes) out.push(await this.update(c.email, c.decide));
    return { decisions: out, path: options.assumeNew && existing === 0 ? ('assumed-new' as const) : ('read' as const), existing };
  }
}

/** A text cut into chunks of `size` bytes, as a file stream would deliver it (multibyte characters split too). */
function chunks(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function read(text: string, size = 7, options: Parameters<typeof readImportLines>[1] = {}): Promise<ReadLine[]> {
  const out: ReadLine[] = [];
  for await (const line of readImportLines(chunks(text, size), options)) out.push(line);
  return out;
}

const deps = (store: MemoryStore) => ({ store, now: () => '2026-12-01T00:00:00.000Z' });

describe('readImportLines', () => {
  it('numbers the lines of an SES CSV as the file has them, across chunk boundaries, BOM, CRLF and blank lines', async () => {
    // Prepare: a BOM, a header naming the columns, CRLF endings, a blank line, an accented address cut mid-character by the chunks.
    const text = '\uFEFFemail,reason\r\njosé@bücher.de,BOUNCE\r\n\r\nb@x.org, COMPLAINT\r\nnot-an-address,BOUNCE\r\nc@x.org,BOUNCE';
    // Act
    const lines = await read(text, 5);
    // Assess
    expect(lines.map((l) => [l.line, 'row' in l.result ? l.result.row.email : l.result.invalid])).toEqual([
      [2, 'josé@bücher.de'],
      [4, 'b@x.org'],
      [5, 'not an email address'],
      [6, 'c@x.org'],
    ]);
    expect(lines[2]?.raw).toBe('not-an-address,BOUNCE');
  });

  it('detects NDJSON and Mailtrap CSV from the first line and applies their rules', async () => {
    const ndjson = await read('{"emailAddress":"a@b.org","reason":"BOUNCE"}\n{"emailAddress":"a@b.org"\n');
    expect(ndjson.map((l) => l.result)).toEqual([{ row: { email: 'a@b.org', reason: 'bounce', at: undefined } }, { invalid: 'not valid JSON' }]);
    let format: string | undefined;
    const mailtrap = await read('Email,Type,Sending Stream,Domain Name\nu@x.org,unsubscription,bulk,Sender.example\n', 4, { onFormat: (f) => (format = f) });
    expect(format).toBe('mailtrap-csv');
    expect(mailtrap).toEqual([{ line: 2, raw: 'u@x.org,unsubscription,bulk,Sender.example', result: { row: { email: 'u@x.org', reason: 'unsubscribe', scope: { domain: 'sender.example', stream: 'bulk' }, at: undefined } } }]);
  });

  it('rejects a line past the length limit by number without holding it, and goes on with the next', async () => {
    const text = `a@x.org,BOUNCE\n${'x'.repeat(5000)}@x.org,BOUNCE\nb@x.org,BOUNCE\n`;
    const lines = await read(text, 64, { maxLineLength: 1000 });
    expect(lines.map((l) => [l.line, 'row' in l.result ? 'row' : l.result.invalid])).toEqual([
      [1, 'row'],
      [2, 'line longer than 1000 characters'],
      [3, 'row'],
    ]);
    expect(lines[1]?.raw.length).toBeLessThanOrEqual(200);
  });

  it('keeps one badly quoted CSV line to itself: the rows after it are read', async () => {
    const text = ['Email,Type,Domain Name', '"u1@x.org,hard bounce,a.example', 'u2@x.org,"hard bounce",a.example', 'u3@x.org,hard bounce,"a,b.example"'].join('\n');
    const lines = await read(text, 9);
    expect(lines.map((l) => [l.line, 'row' in l.result ? l.result.row.email : l.result.invalid])).toEqual([
      [2, 'malformed CSV quoting (CSV_QUOTE_NOT_CLOSED)'],
      [3, 'u2@x.org'],
      [4, 'u3@x.org'],
    ]);
  });
});

describe('importSuppressions', () => {
  it('summarises accepted, duplicate and invalid rows with their first lines, and hands every rejected row over', async () => {
    // Prepare
    const store = new MemoryStore();
    const text = ['A@x.org,BOUNCE', 'b@x.org,COMPLAINT', 'bad,BOUNCE', 'a@X.org,BOUNCE', 'c@x.org,MAYBE', 'a@x.org,COMPLAINT', 'd@x.org,BOUNCE'].join('\n');
    const rejected: RejectedRecord[] = [];
    // Act: chunks of 2 rows, so first occurrences and their duplicates sit in different chunks.
    const summary = await importSuppressions(deps(store), chunks(text, 11), { chunkSize: 2, concurrency: 3, onRejected: (r) => void rejected.push(r) });
    // Assess
    expect(summary).toMatchObject({ format: 'ses-csv', origin: null, rows: 7, accepted: 3, unchanged: 0, duplicate: 2, invalid: 2 });
    expect(summary.firstDuplicates).toEqual([
      { line: 4, firstLine: 1 },
      { line: 6, firstLine: 1 },
    ]);
    expect(summary.firstInvalid).toEqual([
      { line: 3, reason: 'not an email address' },
      { line: 5, reason: 'reason must be BOUNCE or COMPLAINT' },
    ]);
    expect(rejected.map((r) => [r.line, r.kind, r.raw])).toEqual([
      [3, 'invalid', 'bad,BOUNCE'],
      [5, 'invalid', 'c@x.org,MAYBE'],
      [4, 'duplicate', 'a@X.org,BOUNCE'],
      [6, 'duplicate', 'a@x.org,COMPLAINT'],
    ]);
    // The record is what a single manual import makes of the first row: same key, spelling kept.
    const a = store.items.get('a@x.org');
    expect(a?.suppressions.map((s) => [s.scope, s.reason, s.source, s.eventKey])).toEqual([['global', 'bounce', 'import', importKey({ email: 'A@x.org', reason: 'bounce' })]]);
    expect(a?.spellings).toEqual(['A@x.org']);
    expect(a?.version).toBe(1);
  });

  it('counts every row of a second run as unchanged and writes nothing (an interrupted import run again)', async () => {
    const store = new MemoryStore();
    const text = Array.from({ length: 250 }, (_, i) => `user${i}@x.org,${i % 3 === 0 ? 'COMPLAINT' : 'BOUNCE'}`).join('\n');
    const first = await importSuppressions(deps(store), chunks(text, 100));
    const writes = store.writes;
    // One chunk at a time, so the switch from assuming new addresses to reading is deterministic.
    const again = await importSuppressions(deps(store), chunks(text, 100), { concurrency: 1 });
    expect(first).toMatchObject({ rows: 250, accepted: 250, unchanged: 0 });
    expect(again).toMatchObject({ rows: 250, accepted: 0, unchanged: 250, unchangedDetail: { alreadyImported: 250, alreadySuppressed: 0 }, duplicate: 0, invalid: 0 });
    expect(store.writes).toBe(writes);
    // The second run stops assuming new addresses after its first chunk found them all there.
    expect(store.assumedNew.slice(-3)).toEqual([true, false, false]);
  });

  it('counts an address already suppressed by other means as unchanged, not accepted', async () => {
    const store = new MemoryStore();
    await store.update('a@x.org', (s) => applyManualSuppression(s, { email: 'a@x.org', reason: 'bounce', at: '2026-01-01T00:00:00.000Z', source: 'manual', key: 'manual:1' }));
    const summary = await importSuppressions(deps(store), ['a@x.org,COMPLAINT\nb@x.org,BOUNCE\n']);
    expect(summary).toMatchObject({ accepted: 1, unchanged: 1, unchangedDetail: { alreadyImported: 0, alreadySuppressed: 1 } });
  });

  it('keeps the Mailtrap origin of its own export in the key, so the sync does not push it back', async () => {
    const store = new MemoryStore();
    const summary = await importSuppressions(deps(store), ['email,type,sending_stream,domain_name\nu@x.org,hard bounce,transactional,a.example\n'], { defaultOrigin: defaultImportOrigin });
    expect(summary.origin).toBe('mailtrap');
    expect(store.items.get('u@x.org')?.suppressions[0]?.eventKey).toBe('import:mailtrap:u@x.org:bounce:global');
  });

  it('stops on a store error with the summary so far, and reads no further', async () => {
    // Prepare: the store fails on its third request.
    const store = new MemoryStore();
    const failing: BulkSuppressionStore = {
      get: (e) => store.get(e),
      update: (e, d) => store.update(e, d),
      updateMany: async (changes) => {
        if (store.requests >= 2) throw new Error('store unreachable');
        return store.updateMany(changes);
      },
    };
    const text = Array.from({ length: 1000 }, (_, i) => `user${i}@x.org,BOUNCE`).join('\n');
    // Act
    const error = await importSuppressions({ store: failing, now: () => '2026-12-01T00:00:00.000Z' }, chunks(text, 64), { chunkSize: 1, concurrency: 1 }).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'ImportInterruptedError', summary: { accepted: 2 } });
    expect((error as { summary: { rows: number } }).summary.rows).toBeLessThan(1000);
  });
});
