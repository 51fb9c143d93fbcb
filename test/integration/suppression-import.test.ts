/**
 * `suppressions import` at a few thousand rows, as a person runs it (the CLI in its own
 * process) against the local stack's DynamoDB Local: the streamed, chunked, transactional
 * write path, a second run of the same file (every row unchanged, nothing rewritten), and the
 * record each row leaves, which must be the one a single manual import makes.
 *
 * The file is a Mailtrap export of hard bounces and spam complaints: its origin is Mailtrap,
 * so the sync pushes nothing back there, and SES gets the rows as one import job, so the
 * rows do not crowd the drains other test files run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { importKey } from '../../shared/domain/suppression-import.ts';
import { applyManualSuppression } from '../../shared/domain/suppression-policy.ts';
import { cli, clients, localInfo } from './helpers.ts';

const info = localInfo();
const store = new DynamoSuppressionStore(clients(info).documents, info.tables.SuppressionsTable?.name ?? 'missing');
const ROWS = 3000;

describe('suppressions import (streamed, a few thousand rows)', () => {
  it('imports every row once, and a second run counts them all unchanged', async () => {
    // Prepare: ROWS rows, one in 500 broken, one in 500 a repeat of an earlier row.
    const tag = randomUUID().slice(0, 8);
    const dir = mkdtempSync(join(tmpdir(), 'mailbridge-import-it-'));
    const file = join(dir, 'mailtrap.csv');
    const email = (i: number) => `Imp-${tag}-${i}@Example.org`;
    const lines = ['email,type,sending_stream,domain_name,created_at'];
    let invalid = 0;
    let duplicate = 0;
    for (let i = 0; i < ROWS; i++) {
      if (i % 500 === 499) {
        lines.push(`not-an-address-${i},hard bounce,transactional,examplesender.com,`);
        invalid++;
      } else if (i % 500 === 250) {
        lines.push(`${email(i - 100).toLowerCase()},hard bounce,transactional,examplesender.com,`);
        duplicate++;
      } else lines.push(`${email(i)},${i % 10 === 0 ? 'spam complaint' : 'hard bounce'},transactional,examplesender.com,2026-11-30T12:00:00Z`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const accepted = ROWS - invalid - duplicate;

    // Act
    const first = cli(['suppressions', 'import', file]);
    const again = cli(['suppressions', 'import', file]);

    // Assess: counts, first line numbers, the rejects file.
    const one = JSON.parse(first.stdout);
    expect(one).toMatchObject({ format: 'mailtrap-csv', origin: 'mailtrap', rows: ROWS, accepted, unchanged: 0, duplicate, invalid, rejectsFile: `${file}.rejected.csv` });
    expect(one.firstInvalid[0]).toEqual({ line: 501, reason: 'not an email address' });
    expect(one.firstDuplicates[0]).toEqual({ line: 252, firstLine: 152 });
    const two = JSON.parse(again.stdout);
    expect(two).toMatchObject({ rows: ROWS, accepted: 0, unchanged: accepted, unchangedDetail: { alreadyImported: accepted, alreadySuppressed: 0 }, duplicate, invalid });
    // The record of a row is the one a single manual import of it makes, written once (version 1 after both runs).
    for (const i of [0, 1, 10, 1234, ROWS - 2]) {
      const reason = i % 10 === 0 ? 'complaint' : 'bounce';
      const expected = applyManualSuppression(undefined, { email: email(i), reason, at: '2026-11-30T12:00:00.000Z', source: 'import', key: importKey({ email: email(i), reason }, 'mailtrap') }).next;
      expect(await store.get(email(i))).toEqual({ ...expected, version: 1 });
    }
  }, 240_000);
});
