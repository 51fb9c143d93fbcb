/**
 * Mailtrap's dashboard import as a sync path. Pure.
 *
 * Mailtrap has no bulk suppression API (10 requests / 60 s per account; one POST per address
 * and domain/stream pair): 100,000 addresses over two domains would take ~17 days. Its
 * dashboard takes files instead. What its documentation says (mailtrap/mailtrap-docs,
 * documentation/email-api-smtp/suppressions-list.md, read December 2026):
 * - "Add New/Import" > "Upload CSV": choose the stream (Bulk, Transactional or Any) and the
 *   domain (all of them, or one), then the file; a CSV template can be downloaded there;
 * - "Insert manually": one address per line, "up to 1000 emails per selected domain";
 * - an address suppressed for several domains is listed once per domain.
 * The template's columns and any size limit of an uploaded file are *not* documented
 * (unconfirmed): the files written here have one column, a header `email` and one address a
 * line, and at most 1,000 addresses each (the documented paste limit, so a file can also be
 * pasted), unless the person asks for bigger files.
 *
 * Which file an address goes to: the Mailtrap targets it needs (not learned from Mailtrap,
 * not yet known to be held). All configured pairs -> the global set (all domains, stream
 * Any); else per domain: every configured stream -> (domain, Any), some -> (domain, stream).
 */
import { domainKey } from './email-address.ts';
import { mailtrapTargetKey, parseMailtrapTargetKey, type MailtrapStream, type SyncConfig, type Target } from './suppression-sync.ts';

/** Mailtrap's documented per-domain limit for pasted addresses; used as the file size by default. */
export const MAILTRAP_PASTE_MAX = 1000;

export interface UploadGroup {
  /** null = "all domains" in the dashboard. */
  domain: string | null;
  stream: MailtrapStream | 'any';
}

export function groupId(g: UploadGroup): string {
  return `${g.domain ?? 'all-domains'}--${g.stream}`;
}

/** What an address still needs from Mailtrap: its non-origin targets the sync item does not show as held. */
export function neededTargets(targets: readonly Target[], applied: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of targets) if (!t.origin && applied[t.key] !== t.value) out[t.key] = t.value;
  return out;
}

/** The dashboard uploads that give an address `needed` (target keys `domain/stream`). */
export function uploadGroupsFor(needed: Record<string, string>, config: SyncConfig): UploadGroup[] {
  const keys = new Set(Object.keys(needed));
  if (keys.size === 0) return [];
  const all = config.mailtrapDomains.flatMap((d) => config.mailtrapStreams.map((s) => mailtrapTargetKey(d, s)));
  if (all.length > 0 && all.every((k) => keys.has(k))) return [{ domain: null, stream: 'any' }];
  const byDomain = new Map<string, MailtrapStream[]>();
  for (const key of keys) {
    const t = parseMailtrapTargetKey(key);
    if (!t) continue;
    byDomain.set(t.domain, [...(byDomain.get(t.domain) ?? []), t.stream]);
  }
  return [...byDomain].flatMap(([domain, streams]): UploadGroup[] =>
    config.mailtrapStreams.every((s) => streams.includes(s)) ? [{ domain, stream: 'any' }] : streams.map((stream) => ({ domain, stream })),
  );
}

/**
 * The target keys a Mailtrap record stands for: its domain and stream, or every configured
 * stream of its domain when the upload chose Any (listed as `any`, or without a stream).
 */
export function targetsOfRecord(record: { domain_name?: string | null | undefined; sending_stream?: string | null | undefined }, config: SyncConfig): string[] {
  const domain = record.domain_name ? domainKey(record.domain_name) : undefined;
  if (!domain) return [];
  const stream = record.sending_stream;
  if (stream === 'transactional' || stream === 'bulk') return [mailtrapTargetKey(domain, stream)];
  return config.mailtrapStreams.map((s) => mailtrapTargetKey(domain, s));
}

/** `<n>(s|m|h|d)`: the grace after which awaited addresses go back to the API path. */
export function parseGrace(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new RangeError(`not a duration: ${value} (e.g. 7d, 12h)`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/** Control record: an upload is awaited (reconciliation then looks for awaited targets). */
export const UPLOAD_CONTROL = 'mailtrap-upload#awaiting';

export interface UploadControl {
  exportId: string;
  exportedAt: string;
  until: string;
  addresses: number;
  files: UploadFile[];
}

export interface UploadFile {
  file: string;
  /** What to choose in Mailtrap's "Upload CSV" dialog. */
  domain: string;
  stream: 'Any' | 'Transactional' | 'Bulk';
  addresses: number;
}
