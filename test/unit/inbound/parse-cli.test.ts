/**
 * `mailbridge parse`: the offline parser prints what a sender wrote without letting it drive
 * the terminal, and runs the same budgets as the function.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from '../../../bin/commands/parse.ts';
import { printable } from '../../../bin/commands/context.ts';
import { mailWith, pdfEmbeddedFileBomb } from '../../fixtures/inbound/hostile.ts';

async function runParse(mail: string, json = false): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'mailbridge-parse-cli-')), 'mail.eml');
  writeFileSync(file, mail);
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  const code = await parse.run({ args: [file], flags: { json }, target: async () => Promise.reject(new Error('parse needs no stack')) });
  vi.restoreAllMocks();
  expect(code).toBe(0);
  return chunks.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('mailbridge parse', () => {
  it('strips control and escape characters from subjects and file names in its text output', async () => {
    // Prepare: an ANSI "clear screen + red" in the subject, a bidi override and BEL in a file name.
    const mail = await mailWith([{ contentType: 'text/plain', filename: 'rechnung\u202etxt.exe\u0007.pdf', body: 'x' }], { subject: 'Rechnung \u001b[2J\u001b[31mbezahlt' });

    const out = await runParse(mail);

    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(out).toContain('Rechnung \ufffd[2J\ufffd[31mbezahlt');
    expect(out).toContain('attachment rechnung\ufffdtxt.exe\ufffd.pdf (text/plain');
  });

  it('keeps the exact values in --json (JSON escapes them)', async () => {
    const mail = await mailWith([], { subject: 'Rechnung \u001b[31m', genuine: false });

    const report = JSON.parse(await runParse(mail, true));

    expect(report.subject).toBe('Rechnung \u001b[31m');
  });

  it('runs the function\'s recognition budget: a PDF bomb is a problem, the genuine invoice is found', async () => {
    const out = await runParse(await mailWith([{ contentType: 'application/pdf', filename: 'bomb.pdf', body: pdfEmbeddedFileBomb(256 * 1024 * 1024) }]));

    expect(out).toContain('invoice GENUINE-0001');
    expect(out).toMatch(/problem recognition-budget-exceeded: attachment "bomb.pdf"/);
  });

  it('printable() leaves ordinary text alone', () => {
    expect(printable('Rechnung Nr. 4711 – Müller & Söhne GmbH · 1.190,00 €')).toBe('Rechnung Nr. 4711 – Müller & Söhne GmbH · 1.190,00 €');
  });
});
