/**
 * Mailtrap's dashboard upload as a sync path: which file an address goes to, what a listed
 * record confirms, the drain's hold (until the grace ends), and the migration view's counts
 * and estimates.
 */
import { describe, expect, it } from 'vitest';
import { neededTargets, parseGrace, targetsOfRecord, uploadGroupsFor } from '../../shared/domain/mailtrap-import.ts';
import { parseRate } from '../../shared/domain/rate-limit.ts';
import type { SyncConfig, SyncPlan } from '../../shared/domain/suppression-sync.ts';
import type { SyncItem } from '../../shared/ports/sync-state.ts';
import { holdAwaitedUpload } from '../../shared/services/mailtrap-import.ts';
import { mailtrapReconcileRate } from '../../functions/suppression-reconcile/handler.ts';
import { countItems, emptyCounts, migrationStatus } from '../../shared/services/migration-status.ts';

const config: SyncConfig = { mailtrapDomains: ['a.example', 'b.example'], mailtrapStreams: ['transactional', 'bulk'] };

describe('upload groups', () => {
  it('puts an address needed on every pair in the global set, a domain-wide one in (domain, Any), a single stream in its own file', () => {
    const all = { 'a.example/transactional': 'hard bounce', 'a.example/bulk': 'hard bounce', 'b.example/transactional': 'hard bounce', 'b.example/bulk': 'hard bounce' };
    expect(uploadGroupsFor(all, config)).toEqual([{ domain: null, stream: 'any' }]);
    expect(uploadGroupsFor({ 'b.example/transactional': 'unsubscription', 'b.example/bulk': 'unsubscription' }, config)).toEqual([{ domain: 'b.example', stream: 'any' }]);
    expect(uploadGroupsFor({ 'a.example/bulk': 'unsubscription' }, config)).toEqual([{ domain: 'a.example', stream: 'bulk' }]);
    expect(uploadGroupsFor({}, config)).toEqual([]);
  });

  it('leaves out what Mailtrap holds already and what came from Mailtrap', () => {
    const targets = [
      { key: 'a.example/transactional', value: 'hard bounce', origin: false },
      { key: 'a.example/bulk', value: 'hard bounce', origin: false },
      { key: 'b.example/bulk', value: 'hard bounce', origin: true },
    ];
    expect(neededTargets(targets, { 'a.example/transactional': 'hard bounce' })).toEqual({ 'a.example/bulk': 'hard bounce' });
  });

  it('reads a listed record with stream Any (or none) as every configured stream of its domain', () => {
    expect(targetsOfRecord({ domain_name: 'A.example', sending_stream: 'any' }, config)).toEqual(['a.example/transactional', 'a.example/bulk']);
    expect(targetsOfRecord({ domain_name: 'a.example', sending_stream: 'bulk' }, config)).toEqual(['a.example/bulk']);
    expect(targetsOfRecord({ domain_name: null, sending_stream: 'bulk' }, config)).toEqual([]);
  });

  it('parses the grace as a duration', () => {
    expect(parseGrace('7d')).toBe(7 * 86_400_000);
    expect(parseGrace('12h')).toBe(12 * 3_600_000);
    expect(() => parseGrace('soon')).toThrow(RangeError);
  });
});

describe('the Mailtrap drain holds awaited addresses', () => {
  const item = (until: string): SyncItem => ({
    email: 'u@x.org',
    provider: 'mailtrap',
    status: 'pending',
    generation: 2,
    attempts: 0,
    applied: {},
    spellings: ['U@x.org'],
    awaitTargets: { 'a.example/transactional': 'hard bounce' },
    awaitImportUntil: until,
    updatedAt: '2026-12-01T00:00:00.000Z',
  });
  const put: SyncPlan = { ops: [{ kind: 'put', target: 'a.example/transactional', value: 'hard bounce' }], adopted: {}, skipped: [] };

  it('holds while the grace runs and every call is an awaited target; lets go after the grace, or for anything else', async () => {
    const marks: string[] = [];
    const sync = { markAwaitingImport: async (email: string) => void marks.push(email) } as never;
    const now = Date.parse('2026-12-02T00:00:00.000Z');
    const hold = holdAwaitedUpload({ sync, clock: { now: () => now } });
    expect(await hold(item('2026-12-08T00:00:00.000Z'), put)).toBe(true);
    expect(marks).toEqual(['u@x.org']);
    // Grace over: the API path.
    expect(await hold(item('2026-12-01T23:59:59.000Z'), put)).toBe(false);
    // A call the upload does not make (a new scope, a removal): the API path.
    expect(await hold(item('2026-12-08T00:00:00.000Z'), { ...put, ops: [...put.ops, { kind: 'put', target: 'b.example/bulk', value: 'unsubscription' }] })).toBe(false);
    expect(await hold(item('2026-12-08T00:00:00.000Z'), { ...put, ops: [{ kind: 'delete', target: 'a.example/transactional' }] })).toBe(false);
  });
});

describe('migration status', () => {
  const settings = {
    runMs: 50_000,
    reconcileRunMs: 280_000,
    limits: { maxAttempts: 8, backoffBaseMs: 30_000, backoffMaxMs: 3_600_000, concurrency: 4, pageSize: 100 },
    rates: { sesPush: parseRate('4/5s'), sesReconcile: parseRate('1/5s'), mailtrapPush: parseRate('9/60s'), mailtrapReconcile: parseRate('1/60s') },
    sesImport: { threshold: 1000, maxPerJob: 100_000, maxDeletePerJob: 10_000, recheckMs: 21_600_000 },
  };

  it('counts items by the status a person reads and estimates the rest at the configured pace', () => {
    const counts = { ses: emptyCounts(), mailtrap: emptyCounts() };
    const now = '2026-12-02T00:00:00.000Z';
    countItems(
      counts,
      [
        { provider: 'ses', status: 'pending' },
        { provider: 'ses', status: 'synced' },
        { provider: 'mailtrap', status: 'pending' },
        { provider: 'mailtrap', status: 'pending', awaitImportUntil: '2026-12-09T00:00:00.000Z', awaitTargets: { 'a.example/bulk': 'hard bounce' } },
        { provider: 'mailtrap', status: 'failed' },
      ],
      now,
    );
    expect(counts.mailtrap).toEqual({ synced: 0, pending: 1, 'awaiting-import': 1, importing: 0, failed: 1 });
    const status = migrationStatus({ counts, settings, config, upload: null, now: Date.parse(now) });
    // One pending address, four pairs: four calls at 9 / 60 s, all in the first run.
    expect(status.providers.mailtrap.estimate).toMatchObject({ calls: 4 });
    expect(status.providers.ses.estimate.calls).toBe(1);
    expect(status.nextSteps.some((s) => s.includes('failed for good'))).toBe(true);
  });

  it('tells a person with a large Mailtrap backlog to use the dashboard upload', () => {
    const counts = { ses: emptyCounts(), mailtrap: { ...emptyCounts(), pending: 100_000 } };
    const status = migrationStatus({ counts, settings, config, upload: null, now: 0 });
    expect(status.providers.mailtrap.estimate.doneInMs).toBeGreaterThan(30 * 86_400_000);
    expect(status.nextSteps[0]).toMatch(/export --format mailtrap-import/);
  });
});

describe('reconciliation during a migration', () => {
  const settings = { rates: { sesPush: parseRate('4/5s'), sesReconcile: parseRate('1/5s'), mailtrapPush: parseRate('9/60s'), mailtrapReconcile: parseRate('1/60s') } } as never;
  const clock = { now: () => 0, sleep: async () => undefined };
  it('takes the whole Mailtrap budget while an upload is awaited and nothing is due for a push, else only its share', async () => {
    const sync = (control: unknown, due: unknown[]) => ({ getControl: async () => control, due: async () => due }) as never;
    expect(await mailtrapReconcileRate({ sync: sync({ until: 'x' }, []), settings, clock })).toEqual({ limit: 10, windowMs: 60_000 });
    expect(await mailtrapReconcileRate({ sync: sync({ until: 'x' }, [{}]), settings, clock })).toEqual({ limit: 1, windowMs: 60_000 });
    expect(await mailtrapReconcileRate({ sync: sync(undefined, []), settings, clock })).toEqual({ limit: 1, windowMs: 60_000 });
  });
});
