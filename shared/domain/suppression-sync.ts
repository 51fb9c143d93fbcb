/**
 * What each provider should hold for one address, and what to call to get it there. Pure.
 *
 * The store is the source of truth. A provider's view of an address is a small set of
 * *targets*, each with a value:
 * - SES: `list` (the account-level suppression list: `BOUNCE` | `COMPLAINT`) and `contact`
 *   (the configured contact list: `unsubscribe-all`). The suppression list knows only bounces
 *   and complaints; unsubscribes go to the contact list
 *   (https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html).
 * - Mailtrap: one target per `<domain>/<stream>` pair, value = Mailtrap's suppression type.
 *   Mailtrap suppressions are per sending domain and stream, so "suppressed everywhere" is one
 *   record per configured pair.
 *
 * Echo rule: a target whose entry was learned from the same provider (directly, by
 * reconciliation from it, or from its export file) is marked `origin`: the provider already holds it, so nothing is
 * pushed, and the drain only records it as applied (so a later removal deletes it there).
 * For Mailtrap this is deliberately coarse: a Mailtrap bounce arrives from one domain/stream,
 * but the store keeps it global without that pair, and re-POSTing it to every other pair would
 * spend the scarcest budget we have (10 requests / 60 s per account) on addresses Mailtrap
 * already refuses. Bounces and complaints learned from SES do go to every Mailtrap pair.
 */
import { GLOBAL_SCOPE, type AddressState, type ScopeEntry, type SuppressionReason } from './suppression-policy.ts';
import { isTopicScope } from './subscription-policy.ts';
import { domainKey } from './email-address.ts';

export type Provider = 'ses' | 'mailtrap';
export const PROVIDERS: readonly Provider[] = ['ses', 'mailtrap'];

export type MailtrapStream = 'transactional' | 'bulk';
export const MAILTRAP_STREAMS: readonly MailtrapStream[] = ['transactional', 'bulk'];

type MailtrapType = 'hard bounce' | 'unsubscription' | 'spam complaint' | 'manual import';

export interface SyncConfig {
  /** Mailtrap sending domains suppressions are pushed to (lower case). */
  mailtrapDomains: string[];
  mailtrapStreams: MailtrapStream[];
  /** SES contact list that receives unsubscribes; absent = unsubscribes are not pushed to SES. */
  sesContactList?: string | undefined;
}

export interface Target {
  key: string;
  value: string;
  /** The provider already holds it (learned from there): never pushed back. */
  origin: boolean;
}

export interface DesiredState {
  targets: Target[];
  /** Entries this provider cannot hold, with why (kept on the sync item, never personal data). */
  skipped: string[];
}

export const SES_LIST = 'list';
export const SES_CONTACT = 'contact';
const UNSUBSCRIBE_ALL = 'unsubscribe-all';

const MAILTRAP_TYPE: Record<SuppressionReason, MailtrapType> = {
  bounce: 'hard bounce',
  complaint: 'spam complaint',
  unsubscribe: 'unsubscription',
  manual: 'manual import',
};

/** When two entries map to one target, the stronger reason names it. */
const STRENGTH: Record<SuppressionReason, number> = { complaint: 4, bounce: 3, manual: 2, unsubscribe: 1 };

/**
 * Which provider an entry came from: directly, through reconciliation (`reconcile:<provider>:...`
 * keys), or from a file exported by that provider (`import:<provider>:...` keys,
 * suppression-import.ts `importKey`).
 */
export function originOf(entry: Pick<ScopeEntry, 'source' | 'eventKey'>): Provider | null {
  if (entry.source === 'ses' || entry.source === 'mailtrap') return entry.source;
  if (entry.source === 'reconcile' || entry.source === 'import') {
    const m = /^(?:reconcile|import):(ses|mailtrap):/.exec(entry.eventKey);
    return m ? (m[1] as Provider) : null;
  }
  return null;
}

export function mailtrapTargetKey(domain: string, stream: string): string {
  return `${domainKey(domain)}/${stream}`;
}

export function parseMailtrapTargetKey(key: string): { domain: string; stream: MailtrapStream } | undefined {
  const slash = key.lastIndexOf('/');
  const stream = key.slice(slash + 1);
  if (slash <= 0 || !MAILTRAP_STREAMS.includes(stream as MailtrapStream)) return undefined;
  return { domain: key.slice(0, slash), stream: stream as MailtrapStream };
}

function put(map: Map<string, { target: Target; strength: number }>, key: string, reason: SuppressionReason, value: string, origin: boolean): void {
  const seen = map.get(key);
  const strength = STRENGTH[reason];
  if (!seen) {
    map.set(key, { target: { key, value, origin }, strength });
    return;
  }
  // Held at the provider if any contributing entry came from it; named by the strongest reason.
  const nextOrigin = seen.target.origin || origin;
  if (strength > seen.strength) map.set(key, { target: { key, value, origin: nextOrigin }, strength });
  else seen.target.origin = nextOrigin;
}

function sesDesired(entries: ScopeEntry[], config: SyncConfig): DesiredState {
  const map = new Map<string, { target: Target; strength: number }>();
  const skipped: string[] = [];
  for (const entry of entries) {
    const origin = originOf(entry) === 'ses';
    if (isTopicScope(entry.scope)) {
      // SES holds topic preferences itself (it published them); UnsubscribeAll would say more than the person did.
      skipped.push(`unsubscribe (${entry.scope}): a topic preference SES already holds`);
      continue;
    }
    if (entry.reason === 'unsubscribe') {
      if (config.sesContactList) put(map, SES_CONTACT, entry.reason, UNSUBSCRIBE_ALL, origin);
      else skipped.push(`unsubscribe (${entry.scope}): no SES contact list configured`);
      continue;
    }
    if (entry.scope !== GLOBAL_SCOPE) {
      // The SES suppression list is account-wide: a suppression for one sending domain cannot be expressed.
      skipped.push(`${entry.reason} (${entry.scope}): SES suppression list is account-wide`);
      continue;
    }
    put(map, SES_LIST, entry.reason, entry.reason === 'complaint' ? 'COMPLAINT' : 'BOUNCE', origin);
  }
  return { targets: [...map.values()].map((v) => v.target), skipped };
}

function mailtrapDesired(entries: ScopeEntry[], config: SyncConfig): DesiredState {
  const map = new Map<string, { target: Target; strength: number }>();
  const skipped: string[] = [];
  const configured = new Set(config.mailtrapDomains.map(domainKey));
  for (const entry of entries) {
    const origin = originOf(entry) === 'mailtrap';
    if (isTopicScope(entry.scope)) {
      skipped.push(`unsubscribe (${entry.scope}): Mailtrap has no topics; a topic opt-out is not an opt-out of everything`);
      continue;
    }
    const type = MAILTRAP_TYPE[entry.reason];
    let pairs: Array<[string, string]>;
    if (entry.scope === GLOBAL_SCOPE) {
      pairs = [...configured].flatMap((d) => config.mailtrapStreams.map((s): [string, string] => [d, s]));
    } else {
      const domain = domainKey(entry.domain ?? '');
      if (!configured.has(domain)) {
        skipped.push(`${entry.reason} (${entry.scope}): not a configured Mailtrap sending domain`);
        continue;
      }
      const streams = entry.stream ? config.mailtrapStreams.filter((s) => s === entry.stream) : config.mailtrapStreams;
      if (streams.length === 0) {
        skipped.push(`${entry.reason} (${entry.scope}): stream not configured`);
        continue;
      }
      pairs = streams.map((s): [string, string] => [domain, s]);
    }
    for (const [d, s] of pairs) put(map, mailtrapTargetKey(d, s), entry.reason, type, origin);
  }
  return { targets: [...map.values()].map((v) => v.target), skipped };
}

export function desiredFor(provider: Provider, state: AddressState | undefined, config: SyncConfig): DesiredState {
  const entries = state?.suppressions ?? [];
  return provider === 'ses' ? sesDesired(entries, config) : mailtrapDesired(entries, config);
}

function canonical(d: DesiredState): string {
  return JSON.stringify([...d.targets].sort((a, b) => (a.key < b.key ? -1 : 1)).map((t) => [t.key, t.value, t.origin]));
}

/**
 * What a store change means for one provider (stream handler). Changes that leave the
 * provider's targets alone (soft bounces, deliveries, history, a new spelling, an echo of the
 * provider's own entry) need nothing; a target that disappears needs a purge (delete at the
 * provider even if we never pushed it: it may have come from there).
 */
export function changeFor(
  provider: Provider,
  before: AddressState | undefined,
  after: AddressState | undefined,
  config: SyncConfig,
): { notify: boolean; purge: boolean } {
  const old = desiredFor(provider, before, config);
  const next = desiredFor(provider, after, config);
  const nextKeys = new Map(next.targets.map((t) => [t.key, t.value]));
  const purge = old.targets.some((t) => !nextKeys.has(t.key));
  if (purge) return { notify: true, purge: true };
  if (canonical(old) === canonical(next)) return { notify: false, purge: false };
  // Only origin targets changed (learned from this provider): recorded at the next drain anyway,
  // nothing to call, so nothing to queue.
  const pushable = (d: DesiredState) => canonical({ targets: d.targets.filter((t) => !t.origin), skipped: [] });
  return { notify: pushable(old) !== pushable(next), purge: false };
}

/**
 * Entries a change gives the address that this provider cannot hold (an unsubscribe with no
 * SES contact list, a scope SES cannot express, an unconfigured Mailtrap domain), with why:
 * they queue nothing, so the stream handler logs them and sync-status shows them.
 */
export function newlySkipped(provider: Provider, before: AddressState | undefined, after: AddressState | undefined, config: SyncConfig): string[] {
  const old = new Set(desiredFor(provider, before, config).skipped);
  return desiredFor(provider, after, config).skipped.filter((s) => !old.has(s));
}

type SyncOp =
  | { kind: 'put'; target: string; value: string }
  | { kind: 'delete'; target: string }
  /** Mailtrap: look the address up and delete every record the store no longer wants. */
  | { kind: 'purge'; keep: string[] };

export interface SyncPlan {
  ops: SyncOp[];
  /** Targets the provider already holds by origin: recorded as applied, never called. */
  adopted: Record<string, string>;
  skipped: string[];
}

/**
 * The calls that take a provider from `applied` (what we know it holds) to `desired`.
 * Deletes come first so a scope change never leaves both the old and the new record.
 */
export function planSync(provider: Provider, desired: DesiredState, applied: Record<string, string>, purge: boolean): SyncPlan {
  const want = new Map(desired.targets.map((t) => [t.key, t]));
  const ops: SyncOp[] = [];
  const adopted: Record<string, string> = {};
  if (provider === 'mailtrap' && purge) {
    ops.push({ kind: 'purge', keep: [...want.keys()] });
  } else {
    const candidates = new Set(Object.keys(applied));
    // An SES purge deletes list and contact even if we never pushed them (they may be SES's own).
    if (provider === 'ses' && purge) for (const k of [SES_LIST, SES_CONTACT]) candidates.add(k);
    for (const key of candidates) if (!want.has(key)) ops.push({ kind: 'delete', target: key });
  }
  for (const t of want.values()) {
    if (t.origin) {
      if (applied[t.key] !== t.value) adopted[t.key] = t.value;
      continue;
    }
    if (applied[t.key] !== t.value) ops.push({ kind: 'put', target: t.key, value: t.value });
  }
  return { ops, adopted, skipped: desired.skipped };
}

/** The spelling pushed to SES: the first one a provider reported (SES's management API is exact-case). */
export function originalSpelling(state: AddressState | undefined, spellings: readonly string[], email: string): string {
  return state?.spellings[0] ?? spellings[0] ?? email;
}

/** Every spelling SES may hold for the address (a delete must hit the one SES knows). */
export function spellingsToDelete(state: AddressState | undefined, spellings: readonly string[], email: string): string[] {
  const all = [...(state?.spellings ?? []), ...spellings];
  const out = [...new Set(all)];
  return out.length > 0 ? out : [email];
}

/**
 * Retry delay after `attempt` failures: exponential with equal jitter, capped, never shorter
 * than the provider's Retry-After.
 */
export function backoffMs(attempt: number, opts: { baseMs: number; maxMs: number; retryAfterMs?: number | undefined }, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (exp / 2) * random();
  return Math.max(Math.round(jittered), opts.retryAfterMs ?? 0);
}
