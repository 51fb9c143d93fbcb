/**
 * The raw writes of bench/import.ts: what DynamoDB Local takes of the import's own writes with no
 * import around them (no file, no parsing, no decisions, no summary): ROWS items of exactly the
 * shape an import writes (`applyManualSuppression` + `toItem`), written 100 a request with
 * `concurrency` requests in flight, in a process of its own. Two ways:
 *
 * - `transact`: conditional TransactWriteItems (`attribute_not_exists(pk)`), what the import
 *   sends for new addresses: the fastest write that cannot overwrite a concurrent writer;
 * - `batch`: BatchWriteItem, 25 puts a request, unconditional: faster on DynamoDB Local, but a
 *   put there would silently replace an address the feedback pipeline wrote meanwhile (a lost
 *   complaint), so the import does not use it. Shown for what the condition costs.
 *
 * Prints one JSON line.
 *   node --import tsx bench/import-raw-writes-child.ts <transact|batch> <rows> <concurrency> <dynamodb-endpoint> <table> <region>
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { toItem } from '../shared/adapters/dynamo-suppression-store.ts';
import { importKey } from '../shared/domain/suppression-import.ts';
import { applyManualSuppression, type AddressState } from '../shared/domain/suppression-policy.ts';
import { mapLimit } from '../shared/services/sync-drain.ts';

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const [mode, rowsArg, concurrencyArg, endpoint, table, region] = process.argv.slice(2);
if ((mode !== 'transact' && mode !== 'batch') || !rowsArg || !concurrencyArg || !endpoint || !table || !region) {
  throw new BenchUsageError('usage: import-raw-writes-child <transact|batch> <rows> <concurrency> <endpoint> <table> <region>');
}
const rows = Number(rowsArg);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), {
  marshallOptions: { removeUndefinedValues: true },
});
const now = new Date().toISOString();
const per = mode === 'transact' ? 100 : 25;
// The items are made before the clock starts: only the writes are timed.
const chunks: Array<Array<Record<string, unknown>>> = [];
for (let i = 0; i < rows; i += per) {
  chunks.push(
    Array.from({ length: Math.min(per, rows - i) }, (_, j) => {
      const row = { email: `raw-${mode}-${process.pid}-User.${i + j}@Example${(i + j) % 7}.com`, reason: (i + j) % 10 === 0 ? ('complaint' as const) : ('bounce' as const) };
      const next = applyManualSuppression(undefined, { ...row, at: now, source: 'import', key: importKey(row) }).next as AddressState;
      return toItem({ ...next, version: 1 }, now) as unknown as Record<string, unknown>;
    }),
  );
}
const started = performance.now();
await mapLimit(chunks, Number(concurrencyArg), async (items) => {
  if (mode === 'transact') {
    await documents.send(new TransactWriteCommand({ TransactItems: items.map((Item) => ({ Put: { TableName: table, Item, ConditionExpression: 'attribute_not_exists(pk)' } })) }));
    return;
  }
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  while (pending.length > 0) {
    const out = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
  }
});
const elapsedMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ mode, rows, elapsedMs, bytesPerItem: JSON.stringify(chunks[0]?.[0] ?? {}).length })}\n`);
