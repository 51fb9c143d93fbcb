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
import { normaliseEmail } from './email-address.ts';

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
}

export const DEFAULT_POLICY: PolicyConfig = {
  softBounceThreshold: 3,
  softBounceWindowDays: 7,
  historyLimit: 20,
  dedupeLimit: 50,
  spellingLimit: 5,
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

export interface HistoryEntry {
  at: string;
  source: FeedbackSource;
  kind: FeedbackKind | 'removed' | 'manual';
  type: string;
  detail?: string | undefined;
}

export interface SoftBounceMark {
  at: string;
  key: string;
}

export interface AddressState {
  email: string;
  spellings: string[];
  suppressions: ScopeEntry[];
  softBounces: SoftBounceMark[];
  lastDeliveryAt: string | null;
  clearedAt: string | null;
  counts: Partial<Record<FeedbackKind, number>>;
  sources: FeedbackSource[];
  firstEventAt: string;
  lastEventAt: string;
  history: HistoryEntry[];
  recentEventKeys: string[];
  version: number;
}

export type Outcome = 'duplicate' | 'no-change' | 'recorded' | 'suppressed' | 'cleared';

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
  const domain = scope.domain.toLowerCase();
  return scope.stream ? `domain:${domain}/${scope.stream}` : `domain:${domain}`;
}

/** What a feedback kind means, the policy table in code. */
export function reasonFor(kind: FeedbackKind): SuppressionReason | null {
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
  const spellings = state.spellings.includes(event.email)
    ? state.spellings
    : pushBounded(state.spellings, event.email, policy.spellingLimit);
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
    domain: event.scope?.domain.toLowerCase(),
    stream: event.scope?.stream,
  };
}

/**
 * Fold one recipient-level event into an address's state.
 *
 * Order independence: events carry their own time. A suppressing event older than a
 * person's removal (`clearedAt`) is recorded but does not suppress again; a soft bounce older
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
  const clearedAfter = next.clearedAt !== null && ms(event.occurredAt) <= ms(next.clearedAt);

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
  if (clearedAfter) {
    return { outcome: 'recorded', next, added: [], why: 'event predates a manual removal' };
  }
  const scope = reason === 'unsubscribe' ? scopeKey(event.scope) : GLOBAL_SCOPE;
  const entry = scope === GLOBAL_SCOPE ? { ...entryFor(event, reason, scope), domain: undefined, stream: undefined } : entryFor(event, reason, scope);
  const result = addScope(next, entry);
  if (!result.added) {
    return { outcome: 'recorded', next, added: [], why: `already suppressed (${scope})` };
  }
  return { outcome: 'suppressed', next: result.state, added: [entry], why: `${reason} (${scope})` };
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
  const scope = input.reason === 'unsubscribe' || input.scope ? scopeKey(input.scope) : GLOBAL_SCOPE;
  const entry: ScopeEntry = {
    scope,
    reason: input.reason,
    since: input.at,
    source: event.source,
    eventKey: input.key,
    domain: scope === GLOBAL_SCOPE ? undefined : input.scope?.domain.toLowerCase(),
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
  return {
    outcome: 'cleared',
    next: {
      ...current,
      suppressions: kept,
      softBounces: only ? current.softBounces : [],
      clearedAt: only ? current.clearedAt : input.at,
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
  const applicable = domain
    ? all.filter((s) => s.scope === GLOBAL_SCOPE || s.domain === domain.toLowerCase())
    : all;
  const primary = applicable.find((s) => s.scope === GLOBAL_SCOPE) ?? applicable[0];
  return {
    email: state?.email ?? normaliseEmail(email),
    suppressed: applicable.length > 0,
    reason: primary?.reason ?? null,
    scopes: applicable,
  };
}
