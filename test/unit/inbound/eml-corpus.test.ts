/**
 * Every message of the public MIME corpus (../shared/corpus/eml: mailparser's and
 * postal-mime's own test fixtures, incl. stress cases) goes through the parse core: each must
 * end in a result or a clear problem, never an exception, and every attachment it lists must
 * be exactly the bytes the sink received. Read at run time, never copied. Without the corpus
 * the same checks run on the suite's own generated mails (ordinary, broken and hostile), and
 * the output says the corpus was missing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AttachmentMeta, AttachmentSink } from '../../../shared/ports/attachment-sink.ts';
import { parseInboundMessage } from '../../../shared/services/parse-inbound-message.ts';
import { parseReport } from '../../../bin/commands/parse.ts';
import { facturXMail, forwardedInvoiceMail, plainPdfMail, readFixture, truncatedPdfMail, ublMail } from '../../fixtures/inbound/mails.ts';
import { foldedSubject, genuineInvoicePart, longFilenamePart, mailWith, namedParts, rawMultipartMail, rawPart } from '../../fixtures/inbound/hostile.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..', '..');
const CORPUS = process.env.EML_CORPUS_DIR ?? resolve(projectRoot, '..', 'shared', 'corpus', 'eml');
const present = existsSync(CORPUS);

function emlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? emlFiles(join(dir, e.name)) : e.name.toLowerCase().endsWith('.eml') ? [join(dir, e.name)] : [],
  );
}

interface Case {
  name: string;
  open: () => Promise<Readable>;
}

const fromString = (make: () => Promise<string> | string) => async () => Readable.from([Buffer.from(await make())]);

if (!present) console.warn(`MIME corpus missing at ${CORPUS}: its messages are not checked; the suite's generated mails are`);

const cases: Case[] = present
  ? emlFiles(CORPUS)
      .sort()
      .map((f) => ({ name: relative(CORPUS, f), open: async () => createReadStream(f) }))
  : [
      { name: 'generated: Factur-X mail', open: fromString(() => facturXMail()) },
      { name: 'generated: UBL mail', open: fromString(() => ublMail()) },
      { name: 'generated: forwarded (base64) UBL mail', open: fromString(() => forwardedInvoiceMail('base64')) },
      { name: 'generated: plain PDF mail', open: fromString(plainPdfMail) },
      { name: 'generated: truncated PDF mail', open: fromString(truncatedPdfMail) },
      { name: 'fixture: broken-mime.eml', open: async () => Readable.from([readFileSync(join(projectRoot, 'test', 'fixtures', 'inbound', 'broken-mime.eml'))]) },
      { name: 'generated: 120 named parts', open: fromString(() => mailWith(namedParts(120))) },
      { name: 'generated: 100 KB folded subject', open: fromString(async () => rawMultipartMail([rawPart(await genuineInvoicePart())], foldedSubject(100_000))) },
      { name: 'generated: 50 KB RFC 2231 file name', open: fromString(async () => rawMultipartMail([rawPart(await genuineInvoicePart()), longFilenamePart(50_000).raw])) },
    ];

/** Keeps what it is given, to compare with what the parser says it stored. */
class RecordingSink implements AttachmentSink {
  readonly stored = new Map<number, Buffer>();
  async store(meta: AttachmentMeta, content: Readable): Promise<{ key: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(chunk as Buffer);
    this.stored.set(meta.index, Buffer.concat(chunks));
    return { key: `k/${meta.index}` };
  }
}

describe(present ? 'MIME corpus' : 'MIME messages (generated; the corpus is missing)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s parses to a result or a clear problem', async (_name, c) => {
    // Act
    const sink = new RecordingSink();
    const parsed = await parseInboundMessage(await c.open(), sink);

    // Assess
    expect(parsed.bytes).toBeGreaterThan(0);
    for (const a of parsed.attachments) {
      // What the record says is what was stored: same size, same sha256.
      const stored = sink.stored.get(a.index);
      expect(stored, `attachment ${a.index} was stored`).toBeDefined();
      expect(a.size).toBe(stored?.length);
      expect(a.sha256).toBe(createHash('sha256').update(stored ?? Buffer.alloc(0)).digest('hex'));
      expect(a.key).toBe(`k/${a.index}`);
      expect(a.filename.length).toBeGreaterThan(0);
      expect(a.filename.length).toBeLessThanOrEqual(255);
    }
    expect(sink.stored.size).toBe(parsed.attachments.length);
    for (const p of parsed.problems) {
      expect(p.code).toMatch(/^[a-z-]+$/);
      expect(p.message.length).toBeGreaterThan(10);
    }
    expect(parsed.subject?.length ?? 0).toBeLessThanOrEqual(1_000);
    // What `mailbridge parse --json` would print for it is plain JSON of the documented shape.
    const report = JSON.parse(JSON.stringify(parseReport(parsed)));
    expect(Object.keys(report)).toEqual(['messageId', 'subject', 'from', 'attachments', 'invoices', 'problems']);
    expect(report.attachments).toHaveLength(parsed.attachments.length);
  });
});
