/**
 * The migration view as CloudWatch metrics (functions/migration-status): a pass over a sync
 * table of this test's own (DynamoDB Local of the test stack, the adapter's real writes) that
 * runs out of budget goes on at the next run and publishes exact counts only once it reaches the
 * end; the metrics are what Powertools serialises as EMF; and through the local stack, the
 * scheduled function publishes the stage's paces, which `migrate status` then estimates at.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { runSettingsFromEnv } from '../../shared/adapters/sync-deps.ts';
import { parseRate } from '../../shared/domain/rate-limit.ts';
import type { Provider } from '../../shared/domain/suppression-sync.ts';
import { PASS_CONTROL, PUBLISHED_CONTROL, migrationMetricName, publishMigrationStatus, type MigrationStatusDeps, type PublishedMigrationStatus } from '../../shared/services/migration-metrics.ts';
import { systemClock } from '../../shared/services/run-clock.ts';
import { cli, clients, localInfo, runScheduled } from './helpers.ts';
import { SYNC_TEST_ENV } from './sync-settings.ts';

const info = localInfo();
const c = clients(info);

async function ownSyncTable(): Promise<{ name: string; sync: DynamoSyncState; drop(): Promise<void> }> {
  const name = `migration-status-${randomUUID().slice(0, 8)}`;
  await c.dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  return { name, sync: new DynamoSyncState(c.documents, name), drop: async () => void (await c.dynamodb.send(new DeleteTableCommand({ TableName: name }))) };
}

/** Seeds `n` addresses at `provider` in `status` through the adapter's own writes. */
async function seed(sync: DynamoSyncState, provider: Provider, status: 'pending' | 'synced' | 'failed' | 'importing' | 'awaiting-import', n: number, tag = 'a'): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const email = `${provider}-${status}-${tag}${i}@example.org`;
    if (status === 'awaiting-import') {
      await sync.markAwaitingImport(email, { targets: { 'domain:a.example': 'bounce' }, spellings: [email], until: new Date(Date.now() + 86_400_000).toISOString(), now });
      continue;
    }
    await sync.markPending(email, provider, { purge: false, spellings: [email], now });
    if (status === 'pending') continue;
    const item = (await sync.forAddress(email)).find((x) => x.provider === provider);
    if (!item) throw new Error(`seeded ${email} not found`);
    if (status === 'synced') await sync.complete(item, { applied: { global: 'bounce' }, skipped: [], now });
    if (status === 'failed') await sync.fail(item, { applied: {}, attempts: 8, error: 'refused', now });
    if (status === 'importing') await sync.markImporting(item, { jobId: 'job-1', recheckAt: now, now });
  }
}

const settings = runSettingsFromEnv({});
const config = { mailtrapDomains: ['a.example', 'b.example'], mailtrapStreams: ['transactional' as const] };

describe('migration-status (the migration view as CloudWatch metrics)', () => {
  it('goes on with a pass that ran out of budget and publishes exact counts and their metrics only at its end', async () => {
    const own = await ownSyncTable();
    try {
      // Prepare: 37 addresses in every status; 5 items a Scan page.
      await seed(own.sync, 'ses', 'synced', 10);
      await seed(own.sync, 'ses', 'pending', 7);
      await seed(own.sync, 'ses', 'importing', 4);
      await seed(own.sync, 'ses', 'failed', 2);
      await seed(own.sync, 'mailtrap', 'awaiting-import', 6);
      await seed(own.sync, 'mailtrap', 'pending', 3);
      await seed(own.sync, 'mailtrap', 'synced', 5);
      await own.sync.putControl('pace#mailtrap-push', 0); // a control item: not an address
      const metrics = new Metrics({ namespace: 'mailbridge-test', serviceName: 'migration-status' });
      const deps: MigrationStatusDeps = { sync: own.sync, settings, config, clock: systemClock, metrics, pageLimit: 5 };

      // Act 1: runs whose budget is spent by their first page.
      const partial = await publishMigrationStatus(deps, Date.now());
      // Assess 1: one page read, the pass saved, nothing published, no metric.
      expect(partial).toEqual({ done: false, pages: 1 });
      expect((await own.sync.getControl<{ pages: number }>(PASS_CONTROL))?.pages).toBe(1);
      expect(await own.sync.getControl(PUBLISHED_CONTROL)).toBeUndefined();
      expect(metrics.hasStoredMetrics()).toBe(false);
      let runs = 1;
      let last = partial;
      while (!last.done && runs < 20) {
        last = await publishMigrationStatus(deps, Date.now());
        runs++;
      }

      // Assess 2: 38 items (37 addresses + 1 control) at 5 a page take 8 runs, and the counts are exact.
      expect(runs).toBe(8);
      expect(last.status?.providers.ses.counts).toEqual({ synced: 10, pending: 7, 'awaiting-import': 0, importing: 4, failed: 2 });
      expect(last.status?.providers.mailtrap.counts).toEqual({ synced: 5, pending: 3, 'awaiting-import': 6, importing: 0, failed: 0 });
      const published = await own.sync.getControl<PublishedMigrationStatus>(PUBLISHED_CONTROL);
      expect(published?.pages).toBe(8);
      expect(published?.settings).toEqual(settings);
      expect(published?.config).toEqual(config);
      expect(await own.sync.getControl(PASS_CONTROL)).toBeUndefined();
      // The EMF blob Powertools would print: every count under its name, and the time left.
      const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }> } };
      expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('mailbridge-test');
      expect(emf[migrationMetricName('ses', 'pending')]).toBe(7);
      expect(emf[migrationMetricName('ses', 'importing')]).toBe(4);
      expect(emf[migrationMetricName('mailtrap', 'awaiting-import')]).toBe(6);
      expect(emf[migrationMetricName('mailtrap', 'failed')]).toBe(0);
      expect(emf.MigrationMailtrapAwaitingImport).toBe(6);
      // 3 pending x 2 domains = 6 calls at 9/60 s, spaced by the pacer.
      expect(emf[migrationMetricName('mailtrap', 'DoneInSeconds')]).toBe(Math.ceil((last.status?.providers.mailtrap.estimate.doneInMs ?? -1) / 1000));
      expect(emf[migrationMetricName('mailtrap', 'DoneInSeconds')]).toBeGreaterThan(0);
      const units = Object.fromEntries(emf._aws.CloudWatchMetrics[0]?.Metrics.map((m) => [m.Name, m.Unit]) ?? []);
      expect(units.MigrationSesSynced).toBe('Count');
      expect(units.MigrationSesDoneInSeconds).toBe('Seconds');
      expect(Object.keys(units)).toHaveLength(12);

      // Act 3: a run with time to spare after the pass ended: a new pass, whole in one run.
      await seed(own.sync, 'ses', 'failed', 3, 'b');
      const whole = await publishMigrationStatus({ ...deps, pageLimit: undefined }, Date.now() + 60_000);
      expect(whole.done).toBe(true);
      expect(whole.pages).toBe(1);
      expect(whole.status?.providers.ses.counts.failed).toBe(5);
    } finally {
      await own.drop();
    }
  });

  it('runs on its schedule in the local stack and publishes the stage paces that `migrate status` then estimates at', async () => {
    const run = (await runScheduled('migration-status')).result as { done: boolean };
    expect(run.done).toBe(true);
    const view = cli(['migrate', 'status', '--json']);
    expect(view.code, view.stderr).toBe(0);
    const status = JSON.parse(view.stdout);
    expect(status.pacesFrom).toMatch(/^the stage's, as its migration-status function published them at /);
    expect(Date.parse(status.published.at)).toBeGreaterThan(Date.now() - 60_000);
    // The stack runs at the test paces (sync-settings.ts), the CLI's own shell at the defaults:
    // what was published, and so what the estimate uses, is the stack's.
    expect(parseRate(SYNC_TEST_ENV.MAILTRAP_PUSH_RATE ?? '')).not.toEqual(runSettingsFromEnv({}).rates.mailtrapPush);
    const sync = new DynamoSyncState(c.documents, info.tables.SuppressionSyncTable?.name ?? 'missing');
    const published = await sync.getControl<PublishedMigrationStatus>(PUBLISHED_CONTROL);
    expect(published?.settings.rates.mailtrapPush).toEqual(parseRate(SYNC_TEST_ENV.MAILTRAP_PUSH_RATE ?? ''));
  });
});
