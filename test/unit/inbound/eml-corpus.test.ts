/**
 * Every message of the public MIME corpus (../shared/corpus/eml: mailparser's and
 * postal-mime's own test fixtures, incl. stress cases) goes through the parse core: each must
 * end in a result or a clear problem, never an exception. Read at run time, never copied.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiscardingAttachmentSink } from '../../../shared/adapters/discarding-attachment-sink.ts';
import { parseInboundMessage } from '../../../shared/services/parse-inbound-message.ts';
import { parseReport } from '../../../bin/commands/parse.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..', '..');
const CORPUS = resolve(projectRoot, '..', 'shared', 'corpus', 'eml');
const present = existsSync(CORPUS);

function emlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? emlFiles(join(dir, e.name)) : e.name.toLowerCase().endsWith('.eml') ? [join(dir, e.name)] : [],
  );
}

const files = present ? emlFiles(CORPUS).sort() : [];

describe('MIME corpus', () => {
  it('is present, or says how many checks it skipped', () => {
    if (!present) {
      console.warn(`MIME corpus missing at ${CORPUS}: 1 corpus check (every .eml parses without a crash) skipped`);
      return;
    }
    console.info(`MIME corpus: ${files.length} .eml files under ${CORPUS}`);
    expect(files.length).toBeGreaterThan(0);
  });

  describe.runIf(present)('every message', () => {
    it.each(files.map((f) => [relative(CORPUS, f), f]))('%s parses to a result or a clear problem', async (_name, file) => {
      // Act
      const parsed = await parseInboundMessage(createReadStream(file), new DiscardingAttachmentSink());

      // Assess
      expect(parsed.bytes).toBeGreaterThan(0);
      for (const a of parsed.attachments) {
        expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(a.size).toBeGreaterThanOrEqual(0);
        expect(a.filename.length).toBeGreaterThan(0);
      }
      for (const p of parsed.problems) {
        expect(p.code).toMatch(/^[a-z-]+$/);
        expect(p.message.length).toBeGreaterThan(10);
      }
      // What `mailbridge parse --json` would print for it is plain JSON of the documented shape.
      const report = JSON.parse(JSON.stringify(parseReport(parsed)));
      expect(Object.keys(report)).toEqual(['messageId', 'subject', 'from', 'attachments', 'invoices', 'problems']);
      expect(report.attachments).toHaveLength(parsed.attachments.length);
    });
  });
});
