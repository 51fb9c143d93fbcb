/**
 * The baseline of bench/import.ts: `suppressions import` as it was before streaming (the
 * whole file read and parsed in memory, then one `store.update` per accepted row, 16 at a
 * time: a consistent GetItem then a conditional PutItem each), in a process of its own so its
 * peak RSS is its own. Prints one JSON line.
 *
 *   node --import tsx bench/import-baseline-child.ts <file.csv> <dynamodb-endpoint> <table> <region>
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSuppressionStore } from '../shared/adapters/dynamo-suppression-store.ts';
import { importKey, parseImport } from '../shared/domain/suppression-import.ts';
import { applyManualSuppression } from '../shared/domain/suppression-policy.ts';
import { mapLimit } from '../shared/services/sync-drain.ts';

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const [file, endpoint, table, region] = process.argv.slice(2);
if (!file || !endpoint || !table || !region) throw new BenchUsageError('usage: import-baseline-child <file> <endpoint> <table> <region>');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), {
  marshallOptions: { removeUndefinedValues: true },
});
const store = new DynamoSuppressionStore(documents, table);
const started = performance.now();
const parsed = parseImport(readFileSync(file, 'utf8'));
const now = new Date().toISOString();
let accepted = 0;
await mapLimit(parsed.accepted, 16, async (row) => {
  const decision = await store.update(row.email, (current) =>
    applyManualSuppression(current, { email: row.email, reason: row.reason, scope: row.scope, at: row.at ?? now, source: 'import', key: importKey(row) }),
  );
  if (decision.outcome === 'suppressed') accepted++;
});
const elapsedMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ rows: parsed.accepted.length + parsed.duplicates.length + parsed.invalid.length, accepted, elapsedMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
