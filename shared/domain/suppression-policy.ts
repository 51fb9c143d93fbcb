/**
 * The one place that states what suppresses an address. Pure: state in, state out.
 *
 * The store keeps one `AddressState` per normalised address. Every provider event is folded
 * into it by `applyFeedback`; the adapter writes the new state back with an optimistic
 * version check, so the duplicate check (recentEventKeys) and the effect land in the same
 * conditional write.
 */
import type { FeedbackEvent, FeedbackKind, FeedbackSource, SuppressionScope } from './feedback-event.ts';
import { createHash } from 'node:crypto';
import { domainKey, normaliseEmail, spellingOf } from './email-address.ts';

/**
 * Event keys are remembered as 96-bit digests: a full SES key is ~90 bytes and the item is
 * rewritten on every effect, so the dedupe window would otherwise dominate write units.
 */
export function fingerprint(eventKey: string): string {
  return createHash('sha256').update(eventKey).digest('base64url').slice(0, 16);
}

export type SuppressionReason = 'bounce' | 'complaint' | 'unsubscribe' | 'manual';

export interface PolicyConfig {
  /** Soft bounces within the window that suppress an address (SES transient + Mailtrap soft bounce). */
  softBounceThreshold: number;
  softBounceWindowDays: number;
  /** History entries kept per address (newest kept). */
  historyLimit: number;
  /** Event keys remembered per address to drop redeliveries. */
  dedupeLimit: number;
  /** Spellings of one address kept (SES matches exact case). */
  spellingLimit: number;
  /** Scopes whose removal by a person is remembered (newest kept; a full removal covers all). */
  scopeClearLimit: number;
}

/**
 * The one statement of the policy's defaults. `SOFT_BOUNCE_THRESHOLD` and
 * `SOFT_BOUNCE_WINDOW_DAYS` (shared/config.ts `policyFromEnv`) override the first two and
 * default to these values.
 */
export const DEFAULT_POLICY: PolicyConfig = {
  softBounceThreshold: 3,
  softBounceWindowDays: 7,
  historyLimit: 20,
  dedupeLimit: 50,
  spellingLimit: 5,
  scopeClearLimit: 32,
};

export interface ScopeEntry {
  /** `global`, `domain:<domain>` or `domain:<domain>/<stream>`. */
  scope: string;
  reason: SuppressionReason;
  since: string;
  source: FeedbackSource;
  eventKey: string;
  domain?: string | undefined;
  stream?: string | undefined;
}

interface HistoryEntry {
  at: string;
  source: FeedbackSource;
  kind: FeedbackKind | 'removed' | 'manual';
  type: string;
  detail?: string | undefined;
}

interface SoftBounceMark {
  at: string;
  key: string;
}

/** A person lifted one scope at `at`: suppressing events and provider entries older than it do not bring it back. */
interface ScopeClear {
  scope: string;
  at: string;
}

export interface AddressState {
  email: string;
  spellings: string[];
  suppressions: ScopeEntry[];
  softBounces: SoftBounceMark[];
  lastDeliveryAt: string | null;
  /** When a person last lifted every scope. */
  clearedAt: string | null;
  /**
   * When a person last lifted each single scope (one entry per scope, newest
   * `scopeClearLimit` kept, entries older than `clearedAt` dropped). Absent on items written
   * before scoped removals were kept here.
   */
  scopeClears?: ScopeClear[] | undefined;
  counts: Partial<Record<FeedbackKind, number>>;
  sources: FeedbackSource[];
  firstEventAt: string;
  lastEventAt: string;
  history: HistoryEntry[];
  recentEventKeys: string[];
  version: number;
}

type Outcome = 'duplicate' | 'no-change' | 'recorded' | 'suppressed' | 'cleared';

export interface Decision {
  outcome: Outcome;
  /** The state to write; absent when nothing needs writing. */
  next?: AddressState | undefined;
  /** Scopes this event added. */
  added: ScopeEntry[];
  /** Why (for logs and metrics; never personal data). */
  why: string;
}

export const GLOBAL_SCOPE = 'global';

export function scopeKey(scope: SuppressionScope | undefined): string {
  if (!scope) return GLOBAL_SCOPE;
  const domain = domainKey(scope.domain);
  return scope.stream ? `domain:${domain}/${scope.stream}` : `domain:${domain}`;
}

/** What a feedback kind means, the policy table in code. */
function reasonFor(kind: FeedbackKind): SuppressionReason | null {
  switch (kind) {
    case 'hard-bounce':
      return 'bounce';
    case 'complaint':
      return 'complaint';
    case 'unsubscribe':
      return 'unsubscribe';
    default:
      return null;
  }
}

function ms(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

function maxIso(a: string, b: string): string {
  return ms(a) >= ms(b) ? a : b;
}

function minIso(a: string, b: string): string {
  return ms(a) <= ms(b) ? a : b;
}

function pushBounded<T>(list: readonly T[], item: T, limit: number): T[] {
  const out = [...list, item];
  return out.length > limit ? out.slice(out.length - limit) : out;
}

export function emptyState(email: string, at: string): AddressState {
  return {
    email: normaliseEmail(email),
    spellings: [],
    suppressions: [],
    softBounces: [],
    lastDeliveryAt: null,
    clearedAt: null,
    scopeClears: [],
    counts: {},
    sources: [],
    firstEventAt: at,
    lastEventAt: at,
    history: [],
    recentEventKeys: [],
    version: 0,
  };
}

/** Bookkeeping every recorded event does: dedupe key, counts, first/last, sources, history. */
export function record(state: AddressState, event: FeedbackEvent, policy: PolicyConfig): AddressState {
  const spelling = spellingOf(event.email);
  const spellings = state.spellings.includes(spelling) ? state.spellings : pushBounded(state.spellings, spelling, policy.spellingLimit);
  return {
    ...state,
    spellings,
    counts: { ...state.counts, [event.kind]: (state.counts[event.kind] ?? 0) + 1 },
    sources: state.sources.includes(event.source) ? state.sources : [...state.sources, event.source],
    firstEventAt: state.version === 0 ? event.occurredAt : minIso(state.firstEventAt, event.occurredAt),
    lastEventAt: state.version === 0 ? event.occurredAt : maxIso(state.lastEventAt, event.occurredAt),
    history: pushBounded(
      state.history,
      { at: event.occurredAt, source: event.source, kind: event.kind, type: event.providerType, detail: event.detail },
      policy.historyLimit,
    ),
    recentEventKeys: pushBounded(state.recentEventKeys, fingerprint(event.eventKey), policy.dedupeLimit),
  };
}

function addScope(state: AddressState, entry: ScopeEntry): { state: AddressState; added: boolean } {
  if (state.suppressions.some((s) => s.scope === entry.scope)) return { state, added: false };
  return { state: { ...state, suppressions: [...state.suppressions, entry] }, added: true };
}

function entryFor(event: FeedbackEvent, reason: SuppressionReason, scope: string): ScopeEntry {
  return {
    scope,
    reason,
    since: event.occurredAt,
    source: event.source,
    eventKey: event.eventKey,
    domain: event.scope ? domainKey(event.scope.domain) : undefined,
    stream: event.scope?.stream,
  };
}

/**
 * When a person last lifted `scope` (or everything), or null. A suppressing event or a
 * provider entry for `scope` that happened at or before this time must not suppress again:
 * it is a redelivery, a slow provider, or a provider list our removal has not reached yet.
 * Items written before `scopeClears` existed kept scoped removals only in their history;
 * those entries still count.
 */
export function scopeClearedAt(state: AddressState | undefined, scope: string): string | null {
  if (!state) return null;
  let latest = state.clearedAt;
  const consider = (at: string) => {
    if (latest === null || ms(at) > ms(latest)) latest = at;
  };
  if (scope !== GLOBAL_SCOPE) {
    for (const c of state.scopeClears ?? []) if (c.scope === scope) consider(c.at);
    for (const h of state.history) if (h.kind === 'removed' && h.type === `removed:${scope}`) consider(h.at);
  }
  return latest;
}

function clearedSince(state: AddressState, scope: string, at: string): boolean {
  const cleared = scopeClearedAt(state, scope);
  return cleared !== null && ms(at) <= ms(cleared);
}

/**
 * Fold one recipient-level event into an address's state.
 *
 * Order independence: events carry their own time. A suppressing event older than a
 * person's removal of its scope (`clearedAt` for all scopes, `scopeClears` for one) is
 * recorded but does not suppress again; a soft bounce older
 * than the last delivery does not count toward the threshold; a delivery clears only the soft
 * bounces that happened before it.
 */
export function applyFeedback(
  current: AddressState | undefined,
  event: FeedbackEvent,
  policy: PolicyConfig = DEFAULT_POLICY,
): Decision {
  if (current?.recentEventKeys.includes(fingerprint(event.eventKey))) {
    return { outcome: 'duplicate', added: [], why: 'event already applied' };
  }

  // Events that never change suppression state are not written at all: at millions of
  // sends a month, a write per Send/Open/Click would be most of the table's cost.
  if (event.kind === 'informational' || event.kind === 'not-spam') {
    return { outcome: 'no-change', added: [], why: `${event.kind} events do not affect suppression` };
  }

  if (event.kind === 'delivery') {
    // An address we hold nothing about gets no write: most deliveries are to healthy addresses.
    // For one we do hold, the delivery time is kept so that older soft bounces arriving late
    // do not count.
    const before = current?.softBounces ?? [];
    const remaining = before.filter((b) => ms(b.at) > ms(event.occurredAt));
    const newer = current?.lastDeliveryAt == null || ms(event.occurredAt) > ms(current.lastDeliveryAt);
    if (!current || (remaining.length === before.length && !newer)) {
      return { outcome: 'no-change', added: [], why: current ? 'nothing older to clear' : 'address unknown' };
    }
    const next = record(current, event, policy);
    return {
      outcome: 'cleared',
      next: {
        ...next,
        softBounces: remaining,
        lastDeliveryAt: current.lastDeliveryAt ? maxIso(current.lastDeliveryAt, event.occurredAt) : event.occurredAt,
      },
      added: [],
      why: remaining.length === before.length ? 'delivery time recorded' : 'delivery cleared soft bounces',
    };
  }

  let next = record(current ?? emptyState(event.email, event.occurredAt), event, policy);
  const clearedAfter = clearedSince(next, GLOBAL_SCOPE, event.occurredAt);

  if (event.kind === 'soft-bounce') {
    const countable = next.lastDeliveryAt === null || ms(event.occurredAt) > ms(next.lastDeliveryAt);
    if (countable && !clearedAfter) {
      const windowMs = policy.softBounceWindowDays * 86_400_000;
      const marks = [...next.softBounces, { at: event.occurredAt, key: event.eventKey }].sort((a, b) => ms(a.at) - ms(b.at));
      const newest = ms(marks[marks.length - 1]?.at ?? event.occurredAt);
      const inWindow = marks.filter((m) => newest - ms(m.at) < windowMs);
      // Keep only what can still matter: the marks inside the window, at most threshold of them.
      next = { ...next, softBounces: inWindow.slice(-policy.softBounceThreshold) };
      if (inWindow.length >= policy.softBounceThreshold) {
        const entry = { ...entryFor(event, 'bounce', GLOBAL_SCOPE), domain: undefined, stream: undefined };
        const result = addScope(next, entry);
        if (result.added) {
          return {
            outcome: 'suppressed',
            next: result.state,
            added: [entry],
            why: `${inWindow.length} soft bounces within ${policy.softBounceWindowDays} days`,
          };
        }
      }
    }
    return { outcome: 'recorded', next, added: [], why: countable ? 'soft bounce counted' : 'soft bounce older than last delivery' };
  }

  const reason = reasonFor(event.kind);
  if (!reason) {
    return { outcome: 'no-change', added: [], why: `kind ${event.kind} has no policy` };
  }
  const scope = reason === 'unsubscribe' ? scopeKey(event.scope) : GLOBAL_SCOPE;
  if (clearedSince(next, scope, event.occurredAt)) {
    return { outcome: 'recorded', next, added: [], why: 'event predates a manual removal' };
  }
  const entry = scope === GLOBAL_SCOPE ? { ...entryFor(event, reason, scope), domain: undefined, stream: undefined } : entryFor(event, reason, scope);
  const result = addScope(next, entry);
  if (!result.added) {
    return { outcome: 'recorded', next, added: [], why: `already suppressed (${scope})` };
  }
  return { outcome: 'suppressed', next: result.state, added: [entry], why: `${reason} (${scope})` };
}

/** The scope a hand-made (or imported, or reconciled) entry lands in: unsubscribes and anything naming a domain are scoped. */
export function manualScopeKey(reason: SuppressionReason, scope: SuppressionScope | undefined): string {
  return reason === 'unsubscribe' || scope ? scopeKey(scope) : GLOBAL_SCOPE;
}

/** A person adds a suppression by hand (API, CLI or import). */
export function applyManualSuppression(
  current: AddressState | undefined,
  input: { email: string; reason: SuppressionReason; scope?: SuppressionScope | undefined; at: string; source?: FeedbackSource; key: string },
  policy: PolicyConfig = DEFAULT_POLICY,
): Decision {
  const event: FeedbackEvent = {
    source: input.source ?? 'manual',
    eventKey: input.key,
    kind: 'informational',
    providerType: `manual:${input.reason}`,
    email: input.email,
    occurredAt: input.at,
    scope: input.scope,
  };
  if (current?.recentEventKeys.includes(fingerprint(input.key))) {
    return { outcome: 'duplicate', added: [], why: 'event already applied' };
  }
  const base = record(current ?? emptyState(input.email, input.at), event, policy);
  const scope = manualScopeKey(input.reason, input.scope);
  const entry: ScopeEntry = {
    scope,
    reason: input.reason,
    since: input.at,
    source: event.source,
    eventKey: input.key,
    domain: scope === GLOBAL_SCOPE || !input.scope ? undefined : domainKey(input.scope.domain),
    stream: scope === GLOBAL_SCOPE ? undefined : input.scope?.stream,
  };
  const result = addScope(base, entry);
  return result.added
    ? { outcome: 'suppressed', next: result.state, added: [entry], why: `added by hand: ${input.reason} (${scope})` }
    : { outcome: 'recorded', next: base, added: [], why: `already suppressed (${scope})` };
}

/**
 * A person decides the address may be mailed again (all scopes, or one). Older suppressing
 * events that arrive later (redeliveries, slow providers) will not re-suppress it.
 */
export function applyRemoval(
  current: AddressState | undefined,
  input: { at: string; scope?: SuppressionScope | undefined },
  policy: PolicyConfig = DEFAULT_POLICY,
): Decision {
  if (!current || current.suppressions.length === 0) {
    return { outcome: 'no-change', added: [], why: 'not suppressed' };
  }
  const only = input.scope ? scopeKey(input.scope) : null;
  const kept = only ? current.suppressions.filter((s) => s.scope !== only) : [];
  if (kept.length === current.suppressions.length) {
    return { outcome: 'no-change', added: [], why: 'scope not suppressed' };
  }
  const clearedAt = only ? current.clearedAt : input.at;
  // One entry per scope, the latest removal; a full removal covers every older scoped one.
  const others = (current.scopeClears ?? []).filter((c) => c.scope !== only && (clearedAt === null || ms(c.at) > ms(clearedAt)));
  const scopeClears = only ? pushBounded(others, { scope: only, at: maxIso(input.at, scopeClearedAt(current, only) ?? input.at) }, policy.scopeClearLimit) : others;
  return {
    outcome: 'cleared',
    next: {
      ...current,
      suppressions: kept,
      softBounces: only ? current.softBounces : [],
      clearedAt,
      scopeClears,
      history: pushBounded(
        current.history,
        { at: input.at, source: 'manual', kind: 'removed', type: only ? `removed:${only}` : 'removed:all' },
        policy.historyLimit,
      ),
    },
    added: [],
    why: only ? `removed ${only}` : 'removed all scopes',
  };
}

export interface SuppressionView {
  email: string;
  suppressed: boolean;
  reason: SuppressionReason | null;
  scopes: ScopeEntry[];
}

/** Is the address suppressed (anywhere, or for one sending domain)? */
export function viewSuppression(state: AddressState | undefined, email: string, domain?: string): SuppressionView {
  const all = state?.suppressions ?? [];
  const key = domain === undefined ? undefined : domainKey(domain);
  const applicable = key !== undefined ? all.filter((s) => s.scope === GLOBAL_SCOPE || (s.domain !== undefined && domainKey(s.domain) === key)) : all;
  const primary = applicable.find((s) => s.scope === GLOBAL_SCOPE) ?? applicable[0];
  return {
    email: state?.email ?? normaliseEmail(email),
    suppressed: applicable.length > 0,
    reason: primary?.reason ?? null,
    scopes: applicable,
  };
}
