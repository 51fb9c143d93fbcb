/**
 * Suppression sync: what it takes to get N new suppressions (default 10,000) from the store
 * into SES and Mailtrap. Three parts, each labelled by how its figures were obtained:
 *
 *  1. MEASURED, wall clock, fast limits. The real path on the local stack: store writes ->
 *     DynamoDB stream -> suppression-changes -> per-provider outbox -> ses-sync and
 *     mailtrap-sync (run back to back, not once a minute) -> the SESv2 and Mailtrap
 *     simulators, whose rate limits are raised (and the drains' pace with them) so it ends in
 *     minutes. Provider calls are counted by the simulators, per operation.
 *  2. VIRTUAL TIME, documented limits. N more suppressions through the same handlers'
 *     `runSesSync` / `runMailtrapSync`, with the deployed defaults (SES 4 requests / 5 s push
 *     share, Mailtrap 9 / 60 s push share, a run every 60 s that works 50 s), real DynamoDB
 *     Local and simulators, but a clock that jumps instead of sleeping; the simulators' own
 *     limiters are off (they count wall-clock time), so the drains' pace alone spaces the
 *     calls, and the bench checks the busiest window of the recorded call times against the
 *     documented limits. Concurrency 1, so each call happens at its slot. What it cannot know:
 *     how long SES itself takes to process an import job (the simulator finishes at once).
 *  3. COMPUTED. `scheduleRuns` (shared/domain/rate-limit.ts, the Pacer the drains use) for
 *     10,000 and 100,000 addresses and 1, 2 or 4 Mailtrap (domain, stream) pairs.
 *
 *   npm run bench:sync          (SUPPRESSIONS=2000 to change N; MAILTRAP_SENDING_STREAMS=transactional,bulk for 4 pairs)
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalStack } from '../local/stack.ts';
import { DynamoSuppressionStore } from '../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../shared/adapters/dynamo-sync-state.ts';
import { applyManualSuppression, type SuppressionReason } from '../shared/domain/suppression-policy.ts';
import { importKey } from '../shared/domain/suppression-import.ts';
import { intervalMs, parseRate, scheduleRuns, type RateSpec } from '../shared/domain/rate-limit.ts';
import type { Provider } from '../shared/domain/suppression-sync.ts';
import type { Clock } from '../shared/services/run-clock.ts';
import { machine } from './machine.ts';

const N = Number(process.env.SUPPRESSIONS ?? 10_000);
const STREAMS = process.env.MAILTRAP_SENDING_STREAMS ?? 'transactional';
/** Share of each reason among the new suppressions (a migration is mostly bounces). */
const MIX: Array<[SuppressionReason, number]> = [
  ['bounce', 0.85],
  ['complaint', 0.1],
  ['unsubscribe', 0.05],
];

// Part 1's limits: the simulators allow this much, the drains pace themselves just below it.
const FAST = {
  env: {
    MAILTRAP_SENDING_STREAMS: STREAMS,
    SYNC_RUN_SECONDS: '20',
    SYNC_CONCURRENCY: '16',
    SYNC_BACKOFF_BASE_MS: '200',
    SYNC_BACKOFF_MAX_MS: '2000',
    SES_PUSH_RATE: '180/1s',
    MAILTRAP_PUSH_RATE: '900/1s',
  },
  simulators: { sesRateLimit: { perSecond: 200, burst: 20 }, mailtrapRateLimits: { suppressions: { limit: 1000, windowMs: 1000 } } },
};

const stack = await startLocalStack({
  httpPort: 0,
  stateFile: null,
  logLevel: 'ERROR',
  scheduleIntervalMs: 'off',
  env: FAST.env,
  simulators: FAST.simulators,
  onFunctionError: (name, error) => console.error(`[${name}]`, error),
});
// Imported after the stack set the environment (log level, metrics off): the functions share these modules.
const { mapLimit } = await import('../shared/services/sync-drain.ts');
const info = stack.info;
const { sesv2, mailtrap } = stack.simulators;
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: info.region, endpoint: info.endpoints.dynamodb, credentials: { ...info.credentials } }));
const store = new DynamoSuppressionStore(documents, info.tables.SuppressionsTable?.name ?? '');
const sync = new DynamoSyncState(documents, info.tables.SuppressionSyncTable?.name ?? '');
const FAR = '9999-12-31T00:00:00.000Z';
const pairs = (info.sync?.mailtrapDomains.length ?? 0) * (info.sync?.mailtrapStreams.length ?? 0);
const contactList = info.sync?.sesContactList ?? '';

const reasonOf = (i: number): SuppressionReason => {
  let acc = 0;
  for (const [reason, share] of MIX) if ((acc += share * N) > i) return reason;
  return 'bounce';
};
const countOf = (r: SuppressionReason) => Array.from({ length: N }, (_, i) => reasonOf(i)).filter((x) => x === r).length;
const unsubscribes = countOf('unsubscribe');

/** Writes N suppressions as `suppressions import` does (source import, no provider origin). */
async function writeSuppressions(tag: string): Promise<{ emails: string[]; ms: number }> {
  const emails = Array.from({ length: N }, (_, i) => `Bench-${tag}-${i}@Example.org`);
  const started = performance.now();
  await mapLimit(emails.map((email, i) => ({ email, reason: reasonOf(i) })), 16, async ({ email, reason }) => {
    await store.update(email, (s) => applyManualSuppression(s, { email, reason, at: new Date().toISOString(), source: 'import', key: importKey({ email, reason }) }));
  });
  return { emails, ms: performance.now() - started };
}

const outbox = async (provider: Provider) => (await sync.due(provider, FAR, N * 3)).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitQueued(): Promise<void> {
  for (;;) {
    const [s, m] = await Promise.all([outbox('ses'), outbox('mailtrap')]);
    if (s >= N && m >= N) return;
    await sleep(250);
  }
}

function holds(tag: string) {
  const prefix = `Bench-${tag}-`;
  return {
    sesList: sesv2.entries().filter((e) => e.EmailAddress.startsWith(prefix)).length,
    sesContacts: sesv2.contacts(contactList).filter((c) => c.EmailAddress.startsWith(prefix) && c.UnsubscribeAll).length,
    mailtrap: mailtrap.entries().filter((e) => e.email.startsWith(prefix)).length,
  };
}
const want = { sesList: N - unsubscribes, sesContacts: unsubscribes, mailtrap: N * pairs };

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const heldText = (h: Record<string, number>) =>
  Object.entries(h)
    .map(([what, ms]) => `${what} ${fmt(ms)}`)
    .join(', ') || 'never';
function fmt(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

console.log(
  `suppression-sync bench: N=${N} new suppressions (${MIX.map(([r, s]) => `${Math.round(s * 100)}% ${r}`).join(', ')}), ` +
    `Mailtrap pairs per address=${pairs} (${info.sync?.mailtrapDomains.join(' + ')} x ${info.sync?.mailtrapStreams.join(' + ')}), ` +
    machine(),
);

// ---------------------------------------------------------------- part 1: measured
{
  const tag = randomUUID().slice(0, 6);
  const sesBefore = { ...sesv2.calls };
  const mtBefore = { ...mailtrap.calls };
  const throttledBefore = total(sesv2.throttled) + total(mailtrap.throttled);
  const t0 = performance.now();
  const written = await writeSuppressions(tag);
  await waitQueued();
  const queuedMs = performance.now() - t0;
  const drainStart = performance.now();

  const drainLoop = async (fn: 'ses-sync' | 'mailtrap-sync', provider: Provider, held: () => Record<string, boolean>) => {
    let runs = 0;
    const heldMs: Record<string, number> = {};
    for (;;) {
      const calls = total(provider === 'ses' ? sesv2.calls : mailtrap.calls);
      await stack.scheduler.run(fn);
      runs++;
      for (const [what, ok] of Object.entries(held())) if (ok) heldMs[what] ??= performance.now() - drainStart;
      if ((await outbox(provider)) === 0) return { runs, heldMs, syncedMs: performance.now() - drainStart };
      // A run that only polled an import job: wait a little, as the real schedule waits a minute.
      if (total(provider === 'ses' ? sesv2.calls : mailtrap.calls) - calls <= 1) await sleep(500);
    }
  };
  const [ses, mt] = await Promise.all([
    drainLoop('ses-sync', 'ses', () => {
      const h = holds(tag);
      return { list: h.sesList === want.sesList, contacts: h.sesContacts === want.sesContacts };
    }),
    drainLoop('mailtrap-sync', 'mailtrap', () => ({ records: holds(tag).mailtrap === want.mailtrap })),
  ]);
  const sesCalls = diff(sesv2.calls, sesBefore);
  const mtCalls = diff(mailtrap.calls, mtBefore);
  const h = holds(tag);
  console.log('\n1. MEASURED on the local stack, wall clock, with fast limits');
  console.log(
    `   simulators: SES ${FAST.simulators.sesRateLimit.perSecond}/s, Mailtrap suppressions ${FAST.simulators.mailtrapRateLimits.suppressions.limit}/1 s; ` +
      `drain pace SES ${FAST.env.SES_PUSH_RATE}, Mailtrap ${FAST.env.MAILTRAP_PUSH_RATE}; runs back to back, concurrency ${FAST.env.SYNC_CONCURRENCY}`,
  );
  console.log(`   store writes: ${N} in ${fmt(written.ms)}; all ${N} queued for both providers (stream -> suppression-changes -> outbox) ${fmt(queuedMs)} after the first write`);
  console.table({
    SES: {
      'provider holds all after': heldText(ses.heldMs),
      'outbox empty after': fmt(ses.syncedMs),
      runs: ses.runs,
      'calls (by operation)': Object.entries(sesCalls).map(([k, v]) => `${k} ${v}`).join(', '),
      'calls / suppression': Number((total(sesCalls) / N).toFixed(4)),
      'holds': `${h.sesList} on list + ${h.sesContacts} unsubscribed contacts`,
    },
    Mailtrap: {
      'provider holds all after': heldText(mt.heldMs),
      'outbox empty after': fmt(mt.syncedMs),
      runs: mt.runs,
      'calls (by operation)': Object.entries(mtCalls).map(([k, v]) => `${k} ${v}`).join(', '),
      'calls / suppression': Number((total(mtCalls) / N).toFixed(4)),
      'holds': `${h.mailtrap} records (${pairs} per address)`,
    },
  });
  console.log(`   429s answered by the simulators during the drain: ${total(sesv2.throttled) + total(mailtrap.throttled) - throttledBefore}; import jobs: ${sesv2.importJobs().map((j) => `${j.JobStatus} ${j.ProcessedRecordsCount} rows`).join(', ')}`);
}

// ---------------------------------------------------------------- part 2: virtual time at the documented pace
{
  // The deployed defaults: drop part 1's overrides, keep the stack's endpoints and names.
  const env: NodeJS.ProcessEnv = { ...process.env, SYNC_CONCURRENCY: '1' };
  for (const key of ['SYNC_RUN_SECONDS', 'SYNC_BACKOFF_BASE_MS', 'SYNC_BACKOFF_MAX_MS', 'SES_PUSH_RATE', 'MAILTRAP_PUSH_RATE']) delete env[key];
  const { runSettingsFromEnv, syncConfigFromEnv, mailtrapApiFromEnv } = await import('../shared/adapters/sync-deps.ts');
  const { sesv2Client } = await import('../shared/adapters/clients/sesv2.ts');
  const { s3Client } = await import('../shared/adapters/clients/s3.ts');
  const { sqsClient } = await import('../shared/adapters/clients/sqs.ts');
  const { Sesv2Suppressions } = await import('../shared/adapters/sesv2-suppressions.ts');
  const { S3BlobStore } = await import('../shared/adapters/s3-blob-store.ts');
  const { SqsDeadLetterSink } = await import('../shared/adapters/sqs-dead-letter-sink.ts');
  const { runSesSync } = await import('../functions/ses-sync/handler.ts');
  const { runMailtrapSync } = await import('../functions/mailtrap-sync/handler.ts');
  const settings = runSettingsFromEnv(env);
  const config = syncConfigFromEnv(env);

  class VirtualClock implements Clock {
    constructor(public t: number) {}
    now() {
      return this.t;
    }
    async sleep(ms: number) {
      this.t += ms;
    }
  }
  /** Wraps a provider adapter to note the virtual time of every call. */
  function recorded<T extends object>(api: T, clock: Clock, log: Array<{ op: string; t: number }>): T {
    return new Proxy(api, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        // domains() answers from the adapter's cache after the first call: the simulator counts the real requests.
        if (typeof value !== 'function' || prop === 'domains') return value;
        return (...args: unknown[]) => {
          log.push({ op: String(prop), t: clock.now() });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
  /** Most calls in any window of `windowMs` (window [t, t + windowMs)). */
  function busiest(times: number[], windowMs: number): number {
    let best = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[j] as number) <= (times[i] as number) - windowMs) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  const tag = randomUUID().slice(0, 6);
  await writeSuppressions(tag);
  await waitQueued();
  sesv2.setRateLimit(null);
  mailtrap.setRateLimits({ suppressions: null, general: null });
  const deadLetters = new SqsDeadLetterSink(sqsClient, info.queues.SuppressionSyncDLQ?.url ?? '');
  const timeoutMs = 120_000; // serverless.yml: ses-sync and mailtrap-sync timeout 120
  const every = 60_000; // rate(1 minute)

  async function virtualDrain(provider: Provider, held: () => Record<string, boolean>) {
    const clock = new VirtualClock(Date.now());
    const start = clock.t;
    const log: Array<{ op: string; t: number }> = [];
    const realStart = performance.now();
    let runs = 0;
    const heldAt: Record<string, number> = {};
    let runStart = start;
    const common = { store, sync, deadLetters, config, settings, clock };
    // Built once, as a warm Lambda keeps them (the Mailtrap adapter caches the domain ids).
    const sesApi = recorded(new Sesv2Suppressions(sesv2Client), clock, log);
    const mtApi = recorded(mailtrapApiFromEnv(env), clock, log);
    const blobs = new S3BlobStore(s3Client, info.buckets.SuppressionSyncBucket?.name ?? '');
    while ((await outbox(provider)) > 0) {
      clock.t = Math.max(clock.t, runStart);
      if (provider === 'ses') await runSesSync({ ...common, api: sesApi, blobs }, timeoutMs);
      else await runMailtrapSync({ ...common, api: mtApi }, timeoutMs);
      runs++;
      for (const [what, ok] of Object.entries(held())) if (ok) heldAt[what] ??= (log.at(-1)?.t ?? clock.t) - start;
      runStart += every;
      // The simulated import job runs in real time: give it the moment a real minute would.
      if (provider === 'ses' && sesv2.importJobs().some((j) => j.JobStatus === 'CREATED' || j.JobStatus === 'PROCESSING')) await sesv2.importJobsSettled();
    }
    return { runs, heldAt, lastCall: (log.at(-1)?.t ?? start) - start, log, realMs: performance.now() - realStart };
  }

  const sesBefore = { ...sesv2.calls };
  const mtBefore = { ...mailtrap.calls };
  const [ses, mt] = await Promise.all([
    virtualDrain('ses', () => {
      const h = holds(tag);
      return { list: h.sesList === want.sesList, contacts: h.sesContacts === want.sesContacts };
    }),
    virtualDrain('mailtrap', () => ({ records: holds(tag).mailtrap === want.mailtrap })),
  ]);
  const mtSuppressionCalls = mt.log.map((c) => c.t);
  const sesCalls = diff(sesv2.calls, sesBefore);
  const mtCalls = diff(mailtrap.calls, mtBefore);
  const h = holds(tag);
  console.log('\n2. VIRTUAL TIME through runSesSync / runMailtrapSync at the deployed pace (computed by the real drains; the clock jumps, nothing waits)');
  console.log(
    `   pace: SES push ${settings.rates.sesPush.limit}/${settings.rates.sesPush.windowMs / 1000} s (SES documents 1 request/s per account, reconcile keeps 1/5 s), ` +
      `Mailtrap push ${settings.rates.mailtrapPush.limit}/${settings.rates.mailtrapPush.windowMs / 1000} s (documented 10/60 s, reconcile keeps 1/60 s); ` +
      `a run every ${every / 1000} s working ${settings.runMs / 1000} s; SES import threshold ${settings.sesImport.threshold}, max ${settings.sesImport.maxPerJob} per job`,
  );
  console.table({
    SES: {
      'provider holds all after (virtual)': heldText(ses.heldAt),
      'last call at (virtual)': fmt(ses.lastCall),
      runs: ses.runs,
      'calls (by operation)': Object.entries(sesCalls).map(([k, v]) => `${k} ${v}`).join(', '),
      'calls / suppression': Number((total(sesCalls) / N).toFixed(4)),
      'busiest window': `${busiest(ses.log.map((c) => c.t), 1000)} calls in 1 s (SES: 1/s)`,
      holds: `${h.sesList} on list + ${h.sesContacts} contacts`,
      'wall time of this part': fmt(ses.realMs),
    },
    Mailtrap: {
      'provider holds all after (virtual)': heldText(mt.heldAt),
      'last call at (virtual)': fmt(mt.lastCall),
      runs: mt.runs,
      'calls (by operation)': Object.entries(mtCalls).map(([k, v]) => `${k} ${v}`).join(', '),
      'calls / suppression': Number((total(mtCalls) / N).toFixed(4)),
      'busiest window': `${busiest(mtSuppressionCalls, 60_000)} calls in 60 s (Mailtrap: 10)`,
      holds: `${h.mailtrap} records`,
      'wall time of this part': fmt(mt.realMs),
    },
  });
  console.log('   SES: the import job is done when the simulator finishes it (at once); real SES takes an undocumented while, add it to "holds all".');

  // ---------------------------------------------------------------- part 3: computed
  const run = { everyMs: every, budgetMs: settings.runMs };
  const sesPush: RateSpec = settings.rates.sesPush;
  const mtPush: RateSpec = settings.rates.mailtrapPush;
  const documentedMailtrap = parseRate('10/60s');
  console.log(`\n3. COMPUTED with scheduleRuns (the drains' Pacer; a run every ${every / 1000} s working ${settings.runMs / 1000} s), same mix (${Math.round((unsubscribes / N) * 100)}% unsubscribes)`);
  const rows: Record<string, Record<string, string | number>> = {};
  for (const n of [10_000, 100_000]) {
    const unsub = Math.round(n * (unsubscribes / N));
    const bulk = n - unsub;
    const jobs = Math.ceil(bulk / settings.sesImport.maxPerJob);
    // One job per run; each polled once at the next run (the simulator's case). Unsubscribes:
    // UpdateContact, then CreateContact for a contact the list lacks (2 calls; 1 if it exists).
    const singles = scheduleRuns(unsub * 2, sesPush, run);
    const sesCalls = jobs * 2 + unsub * 2;
    rows[`SES, ${n.toLocaleString('en')}`] = {
      'calls': sesCalls,
      'calls / suppression': Number((sesCalls / n).toFixed(4)),
      'bounces+complaints in SES': `${jobs} import job(s): ${jobs} run(s) + SES processing`,
      'unsubscribes in contact list': `${fmt(singles.lastCallMs)} (${singles.runs} runs)`,
    };
    for (const p of [1, 2, 4]) {
      const calls = n * p;
      const s = scheduleRuns(calls, mtPush, run);
      rows[`Mailtrap, ${n.toLocaleString('en')}, ${p} pair(s)`] = {
        calls,
        'calls / suppression': p,
        'all records in Mailtrap': `${fmt(s.lastCallMs)} (${s.runs} runs of ${s.callsPerRun} calls)`,
        'floor at 10/60 s non-stop': fmt((calls - 1) * intervalMs(documentedMailtrap)),
      };
    }
  }
  console.table(rows);
  const check = scheduleRuns(N * pairs, mtPush, run);
  console.log(`   check against part 2: scheduleRuns(${N * pairs} Mailtrap calls) ends at ${fmt(check.lastCallMs)}; the virtual drain's last call came at ${fmt(mt.lastCall)}.`);
}

await stack.stop();
process.exit(0);
