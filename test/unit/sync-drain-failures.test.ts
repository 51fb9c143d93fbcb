/**
 * The sync drain's failure paths, run with in-memory fakes of the ports (store, sync table,
 * DLQ, blobs, SES API) and a fake clock that jumps instead of sleeping: out of attempts,
 * 401/403 stopping the run, a FAILED SES import job falling back to single calls. (The stream
 * side, a batch bisected to the DLQ, is in suppression-changes-stream.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { runSesSync, type SesSyncDeps } from '../../functions/ses-sync/handler.ts';
import type { RunSettings } from '../../shared/adapters/sync-deps.ts';
import { normaliseEmail } from '../../shared/domain/email-address.ts';
import { parseRate } from '../../shared/domain/rate-limit.ts';
import { applyManualSuppression, applyRemoval, type AddressState, type Decision } from '../../shared/domain/suppression-policy.ts';
import type { Provider } from '../../shared/domain/suppression-sync.ts';
import { ProviderCallError, type ImportJobState, type SesListReason, type SesSuppressionApi } from '../../shared/ports/provider-suppressions.ts';
import type { SuppressionStore } from '../../shared/ports/suppression-store.ts';
import type { SyncItem, SyncStateStore } from '../../shared/ports/sync-state.ts';

const START = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

class FakeClock {
  constructor(public t = START) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

class MemoryStore implements SuppressionStore {
  readonly states = new Map<string, AddressState>();
  async get(email: string) {
    return this.states.get(normaliseEmail(email));
  }
  async update(email: string, decide: (current: AddressState | undefined) => Decision) {
    const d = decide(await this.get(email));
    if (d.next) this.states.set(normaliseEmail(email), d.next);
    return d;
  }
}

/** The sync table's semantics (ports/sync-state.ts), in memory. */
class MemorySync implements SyncStateStore {
  readonly items = new Map<string, SyncItem>();
  readonly control = new Map<string, unknown>();
  private key = (email: string, provider: Provider) => `${normaliseEmail(email)}#${provider}`;
  get(email: string, provider: Provider) {
    return this.items.get(this.key(email, provider));
  }
  async markPending(email: string, provider: Provider, input: { purge: boolean; spellings: string[]; now: string }) {
    const old = this.get(email, provider);
    this.items.set(this.key(email, provider), {
      email: normaliseEmail(email),
      provider,
      status: 'pending',
      generation: (old?.generation ?? 0) + 1,
      attempts: 0,
      dueAt: input.now,
      applied: old?.applied ?? {},
      purge: input.purge,
      spellings: input.spellings,
      updatedAt: input.now,
    });
  }
  async due(provider: Provider, now: string, limit: number) {
    return [...this.items.values()]
      .filter((i) => i.provider === provider && i.dueAt !== undefined && i.dueAt <= now)
      .sort((a, b) => ((a.dueAt ?? '') < (b.dueAt ?? '') ? -1 : 1))
      .slice(0, limit)
      .map((i) => structuredClone(i));
  }
  async forAddress(email: string) {
    return [...this.items.values()].filter((i) => i.email === normaliseEmail(email));
  }
  private put(item: SyncItem, patch: Partial<SyncItem>) {
    this.items.set(this.key(item.email, item.provider), { ...(this.get(item.email, item.provider) as SyncItem), ...patch });
  }
  async complete(item: SyncItem, input: { applied: Record<string, string>; skipped: string[]; now: string }) {
    this.put(item, { status: 'synced', applied: input.applied, skipped: input.skipped, attempts: 0, dueAt: undefined, lastSyncedAt: input.now, updatedAt: input.now });
    return 'synced' as const;
  }
  async retry(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; dueAt: string; now: string }) {
    this.put(item, { status: 'pending', applied: input.applied, attempts: input.attempts, lastError: input.error, dueAt: input.dueAt, updatedAt: input.now });
  }
  async fail(item: SyncItem, input: { applied: Record<string, string>; attempts: number; error: string; now: string }) {
    this.put(item, { status: 'failed', applied: input.applied, attempts: input.attempts, lastError: input.error, dueAt: undefined, updatedAt: input.now });
  }
  async markImporting(item: SyncItem, input: { jobId: string; recheckAt: string; now: string }) {
    this.put(item, { status: 'importing', importJobId: input.jobId, dueAt: input.recheckAt, updatedAt: input.now });
  }
  async completeImport(email: string, input: { jobId: string; target: string; value?: string | undefined; now: string }) {
    const item = this.get(email, 'ses');
    if (item?.importJobId !== input.jobId) return false;
    const { [input.target]: _gone, ...rest } = item.applied;
    const applied = input.value === undefined ? rest : { ...item.applied, [input.target]: input.value };
    this.put(item, { status: 'synced', importJobId: undefined, applied, dueAt: undefined, lastSyncedAt: input.now, ...(input.value === undefined ? { purge: undefined } : {}) });
    return true;
  }
  async releaseImport(email: string, input: { jobId: string; error: string; now: string }) {
    const item = this.get(email, 'ses');
    if (item?.importJobId !== input.jobId) return;
    this.put(item, { status: 'pending', importJobId: undefined, attempts: item.attempts + 1, lastError: input.error, dueAt: input.now, updatedAt: input.now });
  }
  async markAwaitingImport() {
    throw new Error('not used by the SES drain');
  }
  async confirmImported() {
    throw new Error('not used by the SES drain');
  }
  async getControl<T>(name: string) {
    return this.control.get(name) as T | undefined;
  }
  async putControl(name: string, value: unknown) {
    this.control.set(name, value);
  }
  async deleteControl(name: string) {
    this.control.delete(name);
  }
  async listControl<T>(prefix: string) {
    return [...this.control.entries()].filter(([k]) => k.startsWith(prefix)).map(([name, value]) => ({ name, value: value as T }));
  }
}

/** SES as the drain sees it: every call recorded; `fail` decides per call what goes wrong. */
class FakeSes implements SesSuppressionApi {
  readonly calls: string[] = [];
  readonly held = new Map<string, SesListReason>();
  fail: (op: string, email?: string) => ProviderCallError | undefined = () => undefined;
  job: ImportJobState = { status: 'running' };
  private check(op: string, email?: string) {
    this.calls.push(email ? `${op} ${email}` : op);
    const error = this.fail(op, email);
    if (error) throw error;
  }
  async put(email: string, reason: SesListReason) {
    this.check('put', email);
    this.held.set(email, reason);
  }
  async delete(email: string) {
    this.check('delete', email);
    this.held.delete(email);
  }
  async updateContact() {
    this.check('updateContact');
    return true;
  }
  async createUnsubscribedContact() {
    this.check('createUnsubscribedContact');
  }
  async listUnsubscribedContacts() {
    return { contacts: [] };
  }
  async list() {
    return { entries: [] };
  }
  readonly jobActions: string[] = [];
  async createImportJob(_url: string, action: 'PUT' | 'DELETE' = 'PUT') {
    this.check('createImportJob');
    this.jobActions.push(action);
    return `job-${this.jobActions.length}`;
  }
  async importJob() {
    this.check('importJob');
    return this.job;
  }
}

const SETTINGS = (over: Partial<RunSettings['limits']> = {}, threshold = 1000): RunSettings => ({
  runMs: 50_000,
  reconcileRunMs: 280_000,
  limits: { maxAttempts: 4, backoffBaseMs: 30_000, backoffMaxMs: 3_600_000, concurrency: 1, pageSize: 100, ...over },
  rates: { sesPush: parseRate('4/5s'), sesReconcile: parseRate('1/5s'), mailtrapPush: parseRate('9/60s'), mailtrapReconcile: parseRate('1/60s') },
  sesImport: { threshold, maxPerJob: 100_000, maxDeletePerJob: 10_000, recheckMs: 1_800_000 },
});

function setup(emails: string[], settings = SETTINGS()) {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const sync = new MemorySync();
  const ses = new FakeSes();
  const dead: Array<{ body: string; reason: string }> = [];
  const blobs = new Map<string, string>();
  for (const email of emails) {
    store.states.set(normaliseEmail(email), applyManualSuppression(undefined, { email, reason: 'bounce', at: iso(START), key: `k:${email}` }).next as AddressState);
    void sync.markPending(email, 'ses', { purge: false, spellings: [email], now: iso(START) });
  }
  const deps: SesSyncDeps = {
    api: ses,
    store,
    sync,
    blobs: {
      put: async (key, body) => {
        blobs.set(key, body);
        return `s3://sync/${key}`;
      },
      get: async (key) => blobs.get(key) ?? '',
    },
    deadLetters: { send: async (m) => void dead.push(m) },
    config: { mailtrapDomains: [], mailtrapStreams: ['transactional'], sesContactList: undefined },
    settings,
    clock,
  };
  /** One scheduled run, then the clock moves on to the next minute. */
  const run = async () => {
    const report = await runSesSync(deps, 900_000);
    clock.t = Math.max(clock.t, START) + 60_000;
    return report;
  };
  return { clock, store, sync, ses, dead, deps, run };
}

const unavailable = () => new ProviderCallError('SES 503: Service Unavailable', { retryable: true, status: 503 });

describe('sync drain: out of attempts', () => {
  it('retries with growing backoff, then after maxAttempts fails the address and dead-letters it once', async () => {
    // Prepare: SES answers 503 to every put.
    const t = setup(['Always@Example.org']);
    t.ses.fail = (op) => (op === 'put' ? unavailable() : undefined);
    const dueTimes: number[] = [];
    // Act: runs until the address leaves the outbox (bounded).
    for (let i = 0; i < 40 && t.sync.get('always@example.org', 'ses')?.status !== 'failed'; i++) {
      await t.run();
      const item = t.sync.get('always@example.org', 'ses');
      if (item?.status === 'pending' && item.dueAt) dueTimes.push(Date.parse(item.dueAt));
      // Jump to when it is due again.
      if (item?.dueAt) t.clock.t = Math.max(t.clock.t, Date.parse(item.dueAt));
    }
    // Assess
    const item = t.sync.get('always@example.org', 'ses');
    expect(item).toMatchObject({ status: 'failed', attempts: 4, lastError: 'SES 503: Service Unavailable' });
    expect(t.ses.calls.filter((c) => c.startsWith('put'))).toHaveLength(4);
    const gaps = dueTimes.map((d, i) => d - (i === 0 ? START : (dueTimes[i - 1] as number)));
    expect(gaps).toHaveLength(3);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(15_000);
    expect(t.dead).toHaveLength(1);
    expect(JSON.parse(t.dead[0]?.body ?? '{}')).toMatchObject({ kind: 'suppression-sync', provider: 'ses', email: 'always@example.org', attempts: 4 });
    expect(t.dead[0]?.reason).toBe('gave up after 4 attempts: SES 503: Service Unavailable');
    // It is out of the outbox: more runs make no call.
    const before = t.ses.calls.length;
    await t.run();
    expect(t.ses.calls.length).toBe(before);
  });

  it('never waits less than Retry-After', async () => {
    const t = setup(['slow@example.org']);
    t.ses.fail = (op) => (op === 'put' ? new ProviderCallError('SES 429', { retryable: true, throttled: true, retryAfterMs: 600_000, status: 429 }) : undefined);
    await t.run();
    const item = t.sync.get('slow@example.org', 'ses');
    expect(item?.attempts).toBe(1);
    expect(Date.parse(item?.dueAt ?? '')).toBeGreaterThanOrEqual(START + 600_000);
  });
});

describe('sync drain: 401/403 stops the run', () => {
  it.each([401, 403])('stops at the first %i, makes no further call, and charges no address an attempt', async (status) => {
    // Prepare: three due addresses; the account's credentials are refused.
    const t = setup(['a@example.org', 'b@example.org', 'c@example.org']);
    t.ses.fail = () => new ProviderCallError(`SES ${status}`, { retryable: false, stopRun: true, status });
    // Act
    const report = await t.run();
    // Assess
    expect(report.stopped).toBe(`SES ${status}`);
    expect(t.ses.calls).toHaveLength(1);
    expect(report.failed).toBe(0);
    expect(t.dead).toEqual([]);
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
      expect(t.sync.get(email, 'ses')).toMatchObject({ status: 'pending', attempts: 0 });
    }
    // Once the credentials work again, the next run pushes them all.
    t.ses.fail = () => undefined;
    t.clock.t += 60_000;
    const next = await t.run();
    expect(next.synced).toBe(3);
    expect([...t.ses.held.keys()].sort()).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
  });
});

describe('sync drain: a FAILED SES import job', () => {
  it('sends its addresses back to single calls, with one attempt counted, never to bulk again', async () => {
    // Prepare: a backlog at the bulk threshold.
    const emails = Array.from({ length: 5 }, (_, i) => `Bulk${i}@Example.org`);
    const t = setup(emails, SETTINGS({}, 5));
    // Act 1: the first run makes one import job instead of five puts.
    const first = await t.run();
    expect(first.importJobs.started).toBe('job-1');
    expect(t.ses.calls).toEqual(['createImportJob']);
    expect(emails.map((e) => t.sync.get(e, 'ses')?.status)).toEqual(Array(5).fill('importing'));
    // Act 2: SES reports the job FAILED.
    t.ses.job = { status: 'failed', error: 'the file could not be read' };
    const second = await t.run();
    // Assess: released, then pushed one call each in the same run (attempts > 0: not bulked again).
    expect(second.importJobs).toMatchObject({ released: 5, imported: 0 });
    expect(t.ses.calls.filter((c) => c === 'createImportJob')).toHaveLength(1);
    expect(t.ses.calls.filter((c) => c.startsWith('put ')).sort()).toEqual(emails.map((e) => `put ${e}`).sort());
    expect(emails.map((e) => t.sync.get(e, 'ses')?.status)).toEqual(Array(5).fill('synced'));
    expect([...t.ses.held.keys()].sort()).toEqual([...emails].sort());
    expect(t.dead).toEqual([]);
  });
});

describe('sync drain: SES import jobs that take hours', () => {
  it('asks about a running job every run and never sends its addresses one call at a time, then settles them when it completes', async () => {
    // Prepare: a backlog at the bulk threshold; SES keeps the job running for four hours.
    const emails = Array.from({ length: 5 }, (_, i) => `Slow${i}@Example.org`);
    const t = setup(emails, SETTINGS({}, 5));
    await t.run();
    // Act: runs every 10 minutes for 4 hours, well past the 30-minute re-check of the addresses.
    for (let i = 0; i < 24; i++) {
      t.clock.t += 9 * 60_000;
      const report = await t.run();
      expect(report.importJobs.open).toBe(1);
    }
    // Assess: only GetImportJob calls, the addresses still importing.
    expect(t.ses.calls.filter((c) => c !== 'importJob')).toEqual(['createImportJob']);
    expect(t.ses.calls.filter((c) => c === 'importJob').length).toBeGreaterThanOrEqual(24);
    expect(emails.map((e) => t.sync.get(e, 'ses')?.status)).toEqual(Array(5).fill('importing'));
    // Then the job completes: every address synced, still without a single put.
    t.ses.job = { status: 'completed', processed: 5, failed: 0 };
    const done = await t.run();
    expect(done.importJobs).toMatchObject({ completed: 5, open: 0 });
    expect(emails.map((e) => t.sync.get(e, 'ses')?.status)).toEqual(Array(5).fill('synced'));
    expect(t.ses.calls.filter((c) => c.startsWith('put '))).toEqual([]);
  });

  it('a lost GetImportJob answer (503) keeps the job open instead of failing it', async () => {
    const emails = Array.from({ length: 5 }, (_, i) => `Flaky${i}@Example.org`);
    const t = setup(emails, SETTINGS({}, 5));
    await t.run();
    t.ses.fail = (op) => (op === 'importJob' ? unavailable() : undefined);
    const report = await t.run();
    expect(report.importJobs).toMatchObject({ open: 1, released: 0 });
    expect(emails.map((e) => t.sync.get(e, 'ses')).map((i) => [i?.status, i?.attempts])).toEqual(Array(5).fill(['importing', 0]));
  });
});

describe('sync drain: mass removal as a DELETE import job', () => {
  it('lifts many addresses with one DELETE job instead of one DeleteSuppressedDestination each', async () => {
    // Prepare: five addresses SES holds (synced through a PUT job), then a person lifts them all.
    const emails = Array.from({ length: 5 }, (_, i) => `Lift${i}@Example.org`);
    const t = setup(emails, SETTINGS({}, 5));
    await t.run();
    t.ses.job = { status: 'completed', processed: 5, failed: 0 };
    await t.run();
    expect(emails.map((e) => t.sync.get(e, 'ses')?.applied)).toEqual(Array(5).fill({ list: 'BOUNCE' }));
    for (const email of emails) {
      const key = normaliseEmail(email);
      t.store.states.set(key, applyRemoval(t.store.states.get(key), { at: iso(t.clock.t) }).next as AddressState);
      await t.sync.markPending(email, 'ses', { purge: true, spellings: [email], now: iso(t.clock.t) });
    }
    t.ses.job = { status: 'running' };
    // Act
    const started = await t.run();
    t.ses.job = { status: 'completed', processed: 5, failed: 0 };
    const settled = await t.run();
    // Assess: one DELETE job, no single delete; every address synced with nothing left applied.
    expect(started.importJobs.deleteJobs).toEqual(['job-2']);
    expect(t.ses.jobActions).toEqual(['PUT', 'DELETE']);
    expect(t.ses.calls.filter((c) => c.startsWith('delete ') || c.startsWith('put '))).toEqual([]);
    expect(settled.importJobs).toMatchObject({ completed: 5 });
    expect(emails.map((e) => t.sync.get(e, 'ses')).map((i) => [i?.status, i?.applied, i?.purge])).toEqual(Array(5).fill(['synced', {}, undefined]));
  });
});
