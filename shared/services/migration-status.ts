/**
 * Where a migration stands (`mailbridge migrate status`): per provider, how many addresses are
 * synced, pending, awaiting a dashboard upload, in an SES import job, or failed; when the rest
 * is done at the configured paces (the drains' own pacer schedule, `scheduleRuns`, a run a
 * minute as serverless.yml schedules them); and what a person must do next.
 */
import { scheduleRuns } from '../domain/rate-limit.ts';
import type { Provider, SyncConfig } from '../domain/suppression-sync.ts';
import type { SyncScanCursor, SyncStatus, SyncStatusReader, SyncStatusRow } from '../ports/sync-state.ts';
import type { RunSettings } from '../adapters/sync-deps.ts';
import type { UploadControl } from '../domain/mailtrap-import.ts';
import { displayStatus } from './sync-status.ts';

export type StatusCounts = Record<SyncStatus, number>;

interface ProviderEstimate {
  /** Provider calls still to make at the push pace (upper bound for Mailtrap: one per domain/stream pair). */
  calls: number;
  /** From now until the last of them, at the configured pace (ms); null when nothing is pending. */
  doneInMs: number | null;
  note: string;
}

export interface MigrationStatus {
  at: string;
  providers: Record<Provider, { counts: StatusCounts; total: number; estimate: ProviderEstimate }>;
  upload: UploadControl | null;
  nextSteps: string[];
}

const RUN_EVERY_MS = 60_000;

export function emptyCounts(): StatusCounts {
  return { synced: 0, pending: 0, 'awaiting-import': 0, importing: 0, failed: 0 };
}

/** Fold items (a scan of the sync table, any order) into counts per provider. */
export function countItems(counts: Record<Provider, StatusCounts>, items: Iterable<SyncStatusRow>, nowIso: string): void {
  for (const item of items) {
    const c = counts[item.provider];
    if (!c) continue;
    c[displayStatus(item, nowIso)]++;
  }
}

/** A pass over the sync table in pages: what it has counted so far and where it goes on. */
export interface CountPass {
  startedAt: string;
  counts: Record<Provider, StatusCounts>;
  pages: number;
  cursor?: SyncScanCursor | undefined;
}

export function newCountPass(nowIso: string): CountPass {
  return { startedAt: nowIso, counts: { ses: emptyCounts(), mailtrap: emptyCounts() }, pages: 0 };
}

/**
 * Counts every address's sync status, page after page, from where `pass` stopped. With
 * `deadline`, stops after the page that reaches it and returns `done: false` with the cursor to
 * go on from (a scheduled function resumes it next run); without, reads to the end (the CLI).
 */
export async function countSyncTable(
  reader: SyncStatusReader,
  pass: CountPass,
  options: { now: () => number; deadline?: number; pageLimit?: number },
): Promise<{ pass: CountPass; done: boolean }> {
  let cursor = pass.cursor;
  const counts = { ses: { ...pass.counts.ses }, mailtrap: { ...pass.counts.mailtrap } };
  let pages = pass.pages;
  do {
    const page = await reader.statusPage(cursor, options.pageLimit);
    countItems(counts, page.rows, new Date(options.now()).toISOString());
    pages++;
    cursor = page.next;
    if (cursor && options.deadline !== undefined && options.now() >= options.deadline) return { pass: { ...pass, counts, pages, cursor }, done: false };
  } while (cursor);
  return { pass: { startedAt: pass.startedAt, counts, pages }, done: true };
}

const duration = (ms: number) => (ms < 90_000 ? `${Math.ceil(ms / 1000)} s` : ms < 5_400_000 ? `${Math.ceil(ms / 60_000)} min` : ms < 172_800_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} days`);

export function migrationStatus(input: {
  counts: Record<Provider, StatusCounts>;
  settings: RunSettings;
  config: SyncConfig;
  upload: UploadControl | null;
  now: number;
}): MigrationStatus {
  const { counts, settings, config, upload } = input;
  const pairs = Math.max(1, config.mailtrapDomains.length * config.mailtrapStreams.length);
  const run = { everyMs: RUN_EVERY_MS, budgetMs: settings.runMs };

  const mtCalls = counts.mailtrap.pending * pairs;
  const mt = scheduleRuns(mtCalls, settings.rates.mailtrapPush, run);
  const sesPending = counts.ses.pending;
  const bulk = sesPending >= settings.sesImport.threshold;
  const sesCalls = bulk ? Math.ceil(sesPending / settings.sesImport.maxPerJob) : sesPending;
  const ses = scheduleRuns(sesCalls, settings.rates.sesPush, run);
  const total = (c: StatusCounts) => Object.values(c).reduce((a, b) => a + b, 0);

  const nextSteps: string[] = [];
  if (upload && counts.mailtrap['awaiting-import'] > 0) {
    nextSteps.push(
      `Upload the Mailtrap files of export ${upload.exportedAt} in the dashboard (Suppressions > Add New/Import > Upload CSV): ${upload.files.map((f) => `${f.file} (${f.domain}, ${f.stream})`).join('; ')}.`,
      `${counts.mailtrap['awaiting-import']} addresses await that upload until ${upload.until}; reconciliation confirms them as Mailtrap lists them, the rest then go through the API.`,
    );
  } else if (mtCalls > 0 && mt.lastCallMs > 86_400_000) {
    nextSteps.push(`Mailtrap's API would take ${duration(mt.lastCallMs)} for ${counts.mailtrap.pending} addresses: run \`mailbridge suppressions export --format mailtrap-import --output <dir>\` and upload the files in Mailtrap's dashboard.`);
  }
  if (counts.ses.importing > 0) nextSteps.push(`${counts.ses.importing} addresses are in SES import jobs; SES takes an undocumented while (hours is possible): ses-sync asks every run.`);
  for (const p of ['ses', 'mailtrap'] as const) {
    if (counts[p].failed > 0) nextSteps.push(`${counts[p].failed} ${p} addresses failed for good: see \`mailbridge suppressions sync-status <email>\` and the sync DLQ.`);
  }
  if (nextSteps.length === 0) nextSteps.push(total(counts.ses) + total(counts.mailtrap) === 0 ? 'Nothing queued: import a list first (`mailbridge suppressions import <file>`).' : 'Nothing to do: the drains finish the rest.');

  return {
    at: new Date(input.now).toISOString(),
    providers: {
      ses: {
        counts: counts.ses,
        total: total(counts.ses),
        estimate: {
          calls: sesCalls,
          doneInMs: sesCalls > 0 ? ses.lastCallMs : null,
          note: bulk ? `${sesCalls} import job(s) of up to ${settings.sesImport.maxPerJob} addresses, plus SES's own processing time` : 'one call per address at the SES push pace',
        },
      },
      mailtrap: {
        counts: counts.mailtrap,
        total: total(counts.mailtrap),
        estimate: {
          calls: mtCalls,
          doneInMs: mtCalls > 0 ? mt.lastCallMs : null,
          note: `up to ${pairs} call(s) per pending address (domain x stream) at the Mailtrap push pace; awaited uploads excluded`,
        },
      },
    },
    upload,
    nextSteps,
  };
}

export function formatMigrationStatus(s: MigrationStatus): string {
  const cols = ['synced', 'pending', 'awaiting-import', 'importing', 'failed'] as const;
  const lines = [`migration status at ${s.at}`, `${'provider'.padEnd(10)}${cols.map((c) => c.padStart(16)).join('')}   done in (at the configured pace)`];
  for (const p of ['ses', 'mailtrap'] as const) {
    const v = s.providers[p];
    lines.push(`${p.padEnd(10)}${cols.map((c) => String(v.counts[c]).padStart(16)).join('')}   ${v.estimate.doneInMs === null ? '-' : duration(v.estimate.doneInMs)} (${v.estimate.note})`);
  }
  lines.push('', 'next steps:', ...s.nextSteps.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
