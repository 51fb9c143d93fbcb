/**
 * Mailtrap's dashboard upload as a first-class sync path (see shared/domain/mailtrap-import.ts
 * for what Mailtrap documents and how addresses are grouped):
 * - `exportMailtrapUpload`: the files a person uploads, and every address in them marked
 *   `awaiting-import` for Mailtrap (the targets it awaits, until the grace ends);
 * - `holdAwaitedUpload`: the Mailtrap drain's hold: an address whose every pending call is an
 *   awaited target makes no API call until the grace ends (then whatever Mailtrap still lacks
 *   goes the API way, as any pending address);
 * - `confirmAwaitedUploads`: reconciliation reads Mailtrap's list anyway; an awaited target it
 *   lists is recorded as held, and an address with all its targets listed is `synced`.
 */
import { randomUUID } from 'node:crypto';
import { checkEmailAddress } from '../domain/email-address.ts';
import { groupId, neededTargets, targetsOfRecord, uploadGroupsFor, MAILTRAP_PASTE_MAX, UPLOAD_CONTROL, type UploadControl, type UploadFile, type UploadGroup } from '../domain/mailtrap-import.ts';
import type { AddressState } from '../domain/suppression-policy.ts';
import { desiredFor, originalSpelling, type SyncConfig, type SyncPlan } from '../domain/suppression-sync.ts';
import type { SyncItem, SyncStateStore } from '../ports/sync-state.ts';
import { iso, mapLimit } from './sync-drain.ts';
import type { Clock } from './run-clock.ts';


const streamLabel = (s: UploadGroup['stream']): UploadFile['stream'] => (s === 'any' ? 'Any' : s === 'bulk' ? 'Bulk' : 'Transactional');

export interface UploadExportDeps {
  sync: SyncStateStore;
  config: SyncConfig;
  clock: Pick<Clock, 'now'>;
  graceMs: number;
  /** Writes one finished file (name relative to the output directory). */
  writeFile: (name: string, text: string) => Promise<void>;
  maxRows?: number;
}

/**
 * Addresses page by page (a scan of the store's suppressed items) into upload files of at most
 * `maxRows` addresses; an address is marked awaiting once the file holding it is written.
 */
export async function exportMailtrapUpload(deps: UploadExportDeps, pages: AsyncIterable<AddressState[]> | Iterable<AddressState[]>): Promise<UploadControl> {
  const maxRows = deps.maxRows ?? MAILTRAP_PASTE_MAX;
  const now = deps.clock.now();
  const until = iso(now + deps.graceMs);
  const parts = new Map<string, { group: UploadGroup; part: number; rows: Array<{ email: string; spelling: string; needed: Record<string, string> }> }>();
  const files: UploadFile[] = [];
  const marked = new Set<string>();

  const flush = async (id: string) => {
    const p = parts.get(id);
    if (!p || p.rows.length === 0) return;
    const file = `${id}--${String(p.part).padStart(3, '0')}.csv`;
    // One column, header `email` (Mailtrap's template columns are not documented: see the domain module).
    await deps.writeFile(file, `email\n${p.rows.map((r) => r.spelling).join('\n')}\n`);
    files.push({ file, domain: p.group.domain ?? 'All domains', stream: streamLabel(p.group.stream), addresses: p.rows.length });
    await mapLimit(p.rows, 16, async (r) => {
      marked.add(r.email);
      await deps.sync.markAwaitingImport(r.email, { targets: r.needed, spellings: [r.spelling], until, now: iso(deps.clock.now()) });
    });
    parts.set(id, { group: p.group, part: p.part + 1, rows: [] });
  };

  for await (const page of pages) {
    const items = new Map<string, SyncItem | undefined>();
    await mapLimit(page, 16, async (state) => {
      items.set(state.email, (await deps.sync.forAddress(state.email)).find((i) => i.provider === 'mailtrap'));
    });
    for (const state of page) {
      const item = items.get(state.email);
      const needed = neededTargets(desiredFor('mailtrap', state, deps.config).targets, item?.applied ?? {});
      const spelling = originalSpelling(state, item?.spellings ?? [], state.email);
      for (const group of uploadGroupsFor(needed, deps.config)) {
        const id = groupId(group);
        const p = parts.get(id) ?? { group, part: 1, rows: [] };
        parts.set(id, p);
        p.rows.push({ email: state.email, spelling, needed });
        if (p.rows.length >= maxRows) await flush(id);
      }
    }
  }
  for (const id of [...parts.keys()]) await flush(id);
  files.sort((a, b) => (a.file < b.file ? -1 : 1));
  const control: UploadControl = { exportId: randomUUID(), exportedAt: iso(now), until, addresses: marked.size, files };
  if (marked.size > 0) await deps.sync.putControl(UPLOAD_CONTROL, control);
  return control;
}

/** The Mailtrap drain's hold (DrainDeps.hold). */
export function holdAwaitedUpload(deps: { sync: SyncStateStore; clock: Pick<Clock, 'now'> }) {
  return async (item: SyncItem, plan: SyncPlan): Promise<boolean> => {
    const awaited = item.awaitTargets;
    if (!awaited || !item.awaitImportUntil) return false;
    const now = deps.clock.now();
    if (Date.parse(item.awaitImportUntil) <= now) return false;
    if (plan.ops.length === 0 || !plan.ops.every((op) => op.kind === 'put' && awaited[op.target] === op.value)) return false;
    await deps.sync.markAwaitingImport(item.email, { targets: awaited, spellings: item.spellings, until: item.awaitImportUntil, now: iso(now) });
    return true;
  };
}

/**
 * Records listed by Mailtrap (one reconciliation page) that hold awaited targets: those
 * targets are held; an address with none left is synced. Only while an upload is awaited.
 * Returns how many addresses became synced.
 */
export async function confirmAwaitedUploads(
  records: ReadonlyArray<{ email: string; domain_name?: string | null | undefined; sending_stream?: string | null | undefined }>,
  deps: { sync: SyncStateStore; config: SyncConfig; clock: Pick<Clock, 'now'> },
): Promise<number> {
  const control = await deps.sync.getControl<UploadControl>(UPLOAD_CONTROL);
  if (!control) return 0;
  if (Date.parse(control.until) <= deps.clock.now()) {
    // The grace is over: what is still awaited has gone back to the API path.
    await deps.sync.deleteControl(UPLOAD_CONTROL);
    return 0;
  }
  const byEmail = new Map<string, Set<string>>();
  for (const r of records) {
    const check = checkEmailAddress(r.email);
    if (!check.ok) continue;
    const keys = targetsOfRecord(r, deps.config);
    if (keys.length === 0) continue;
    const set = byEmail.get(check.key) ?? new Set<string>();
    for (const k of keys) set.add(k);
    byEmail.set(check.key, set);
  }
  let synced = 0;
  await mapLimit([...byEmail], 8, async ([email, keys]) => {
    const item = (await deps.sync.forAddress(email)).find((i) => i.provider === 'mailtrap');
    if (!item?.awaitTargets) return;
    const applied = { ...item.applied };
    const remaining = { ...item.awaitTargets };
    let found = false;
    for (const k of keys) {
      if (!(k in remaining)) continue;
      applied[k] = remaining[k] as string;
      delete remaining[k];
      found = true;
    }
    if (!found) return;
    await deps.sync.confirmImported(item, { applied, remaining, now: iso(deps.clock.now()) });
    if (Object.keys(remaining).length === 0) synced++;
  });
  return synced;
}
