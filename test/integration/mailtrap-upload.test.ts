/**
 * Mailtrap's dashboard upload as a sync path, round trip on the local stack: the upload files
 * (shared/services/mailtrap-import.ts, as `suppressions export --format mailtrap-import` writes
 * them), the Mailtrap drain holding the awaited addresses (no API call), the person's upload
 * played by the simulator's dashboard seeding (`POST /__sim/suppressions`: one record per
 * domain for an "all domains" file, stream Any), and reconciliation confirming every address.
 *
 * The files are made from this test's own addresses (a scan of the whole shared store would
 * take other test files' addresses too), before the store writes them, so no other file's
 * drain can push them through the API first: the stream then queues them, and the hold keeps
 * them off the API.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { importKey } from '../../shared/domain/suppression-import.ts';
import { applyManualSuppression, type AddressState } from '../../shared/domain/suppression-policy.ts';
import type { MailtrapStream } from '../../shared/domain/suppression-sync.ts';
import { exportMailtrapUpload } from '../../shared/services/mailtrap-import.ts';
import { displayStatus } from '../../shared/services/sync-status.ts';
import { mapLimit } from '../../shared/services/sync-drain.ts';
import { cli, clients, localInfo, runScheduled, sim, waitFor } from './helpers.ts';

const info = localInfo();
const c = clients(info);
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
const sync = new DynamoSyncState(c.documents, info.tables.SuppressionSyncTable?.name ?? 'missing');
const config = { mailtrapDomains: info.sync?.mailtrapDomains ?? [], mailtrapStreams: (info.sync?.mailtrapStreams ?? []) as MailtrapStream[] };
const mailtrapRecords = async (prefix: string) =>
  (await sim<{ entries: Array<{ email: string; domain_name: string | null; sending_stream: string }> }>(info.endpoints.mailtrap ?? '', 'state')).entries.filter((e) => e.email.startsWith(prefix));

describe('Mailtrap dashboard upload (suppressions export --format mailtrap-import)', () => {
  it('writes upload files, spends no API call on their addresses, and reconciliation confirms every one once Mailtrap lists them', async () => {
    // Prepare: 380 bounces (global: every domain) and 20 unsubscribes from one domain.
    const tag = `Upl-${randomUUID().slice(0, 8)}`;
    const at = new Date().toISOString();
    const states: AddressState[] = Array.from({ length: 400 }, (_, i) => {
      const email = `${tag}-${i}@Example.org`;
      const unsub = i % 20 === 0;
      const row = unsub ? { email, reason: 'unsubscribe' as const, scope: { domain: 'news.examplesender.com' } } : { email, reason: 'bounce' as const };
      return applyManualSuppression(undefined, { ...row, at, source: 'import', key: importKey(row) }).next as AddressState;
    });
    const dir = mkdtempSync(join(tmpdir(), 'mailbridge-upload-'));

    // Act 1: the upload files, at most 150 addresses each.
    const plan = await exportMailtrapUpload(
      { sync, config, clock: { now: () => Date.now() }, graceMs: 7 * 86_400_000, maxRows: 150, writeFile: async (name, text) => writeFileSync(join(dir, name), text) },
      [states],
    );
    // Assess 1: a global set (all domains, Any) split at 150, one file for the domain's unsubscribes.
    expect(plan.addresses).toBe(400);
    expect(plan.files.map((f) => [f.file, f.domain, f.stream, f.addresses])).toEqual([
      ['all-domains--any--001.csv', 'All domains', 'Any', 150],
      ['all-domains--any--002.csv', 'All domains', 'Any', 150],
      ['all-domains--any--003.csv', 'All domains', 'Any', 80],
      ['news.examplesender.com--any--001.csv', 'news.examplesender.com', 'Any', 20],
    ]);
    expect(readdirSync(dir).sort()).toEqual(plan.files.map((f) => f.file));
    const firstFile = readFileSync(join(dir, 'all-domains--any--001.csv'), 'utf8').trim().split('\n');
    expect(firstFile[0]).toBe('email');
    expect(firstFile[1]).toBe(`${tag}-1@Example.org`);

    // Act 2: the store gets the rows (the stream queues them for Mailtrap), the Mailtrap drain runs.
    await mapLimit(states, 16, async (s) => {
      await store.update(s.spellings[0] ?? s.email, (current) => applyManualSuppression(current, { email: s.spellings[0] ?? s.email, reason: s.suppressions[0]?.reason ?? 'bounce', scope: s.suppressions[0]?.domain ? { domain: s.suppressions[0].domain } : undefined, at, source: 'import', key: s.suppressions[0]?.eventKey ?? '' }));
    });
    await waitFor(async () => {
      const items = await Promise.all(states.map(async (s) => (await sync.forAddress(s.email)).find((i) => i.provider === 'mailtrap')));
      return items.every((i) => (i?.generation ?? 0) >= 1);
    }, 'stream queued every address for Mailtrap', 60_000);
    await runScheduled('mailtrap-sync');
    // Assess 2: no Mailtrap record for any of them; each awaits the upload.
    expect(await mailtrapRecords(tag)).toEqual([]);
    const now = new Date().toISOString();
    const awaiting = await Promise.all(states.slice(0, 40).map(async (s) => (await sync.forAddress(s.email)).find((i) => i.provider === 'mailtrap')));
    expect(awaiting.map((i) => (i ? displayStatus(i, now) : 'missing'))).toEqual(Array(40).fill('awaiting-import'));
    // The migration view shows them (counts are the whole stack's: other files' addresses too) and the files to upload.
    const view = cli(['migrate', 'status', '--json']);
    expect(view.code).toBe(0);
    const status = JSON.parse(view.stdout);
    expect(status.providers.mailtrap.counts['awaiting-import']).toBeGreaterThanOrEqual(400);
    expect(status.upload.files.map((f: { file: string }) => f.file)).toEqual(plan.files.map((f) => f.file));
    expect(status.nextSteps[0]).toMatch(/^Upload the Mailtrap files/);

    // Act 3: the person uploads the files (the simulator's dashboard seeding), reconciliation runs.
    const seed = plan.files.flatMap((f) => {
      const emails = readFileSync(join(dir, f.file), 'utf8').trim().split('\n').slice(1);
      const domains = f.domain === 'All domains' ? config.mailtrapDomains : [f.domain];
      return emails.flatMap((email) => domains.map((domain_name) => ({ email, domain_name, sending_stream: 'any', type: 'manual import' })));
    });
    await sim(info.endpoints.mailtrap ?? '', 'suppressions', seed);
    const reports: Array<{ provider: string; pages: number; confirmedUploads?: number }> = [];
    await waitFor(async () => {
      const run = (await runScheduled('suppression-reconcile')).result as typeof reports;
      reports.push(...run.filter((r) => r.provider === 'mailtrap'));
      const items = await Promise.all(states.map(async (s) => (await sync.forAddress(s.email)).find((i) => i.provider === 'mailtrap')));
      return items.every((i) => i?.status === 'synced');
    }, 'every uploaded address confirmed', 120_000);

    // Assess 3: every address synced with the targets Mailtrap lists; the drain still makes no call for them.
    const bounce = (await sync.forAddress(states[1]?.email ?? '')).find((i) => i.provider === 'mailtrap');
    expect(bounce?.applied).toEqual(Object.fromEntries(config.mailtrapDomains.map((d) => [`${d}/transactional`, 'hard bounce'])));
    const unsub = (await sync.forAddress(states[0]?.email ?? '')).find((i) => i.provider === 'mailtrap');
    expect(unsub?.applied).toEqual({ 'news.examplesender.com/transactional': 'unsubscription' });
    await runScheduled('mailtrap-sync');
    expect((await mailtrapRecords(tag)).length).toBe(seed.length);
    // The Mailtrap API calls it took: one list page per call, no POST for these addresses.
    const calls = reports.reduce((n, r) => n + r.pages, 0);
    console.info(`mailtrap upload round trip: ${states.length} addresses, ${seed.length} records, ${calls} Mailtrap list calls by reconciliation, 0 POSTs`);
    expect(reports.reduce((n, r) => n + (r.confirmedUploads ?? 0), 0)).toBe(400);
  }, 240_000);

  it('refuses an export without an output directory, before reading anything', () => {
    const out = cli(['suppressions', 'export', '--format', 'mailtrap-import']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/needs --output <dir>/);
  }, 60_000);
});
