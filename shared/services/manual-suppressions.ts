/**
 * A person adds or lifts a suppression by hand: the one service behind both
 * `suppressions-api` (PUT / DELETE /suppressions/{email}) and the CLI
 * (`mailbridge suppressions add|remove`), so the two cannot drift apart on what a valid
 * request is, what key the change gets, or what the answer says.
 *
 * Input is checked here (address by the one address rule, reason, scope: a stream needs a
 * domain and is one of Mailtrap's two); the decision is the policy's
 * (`applyManualSuppression`, `applyRemoval`); the write is the store's version-checked update.
 * The change reaches the providers through the store's stream.
 */
import { randomUUID } from 'node:crypto';
import type { SuppressionScope } from '../domain/feedback-event.ts';
import { checkEmailAddress, domainKey } from '../domain/email-address.ts';
import {
  applyManualSuppression,
  applyRemoval,
  DEFAULT_POLICY,
  viewSuppression,
  type Decision,
  type PolicyConfig,
  type SuppressionReason,
  type SuppressionView,
} from '../domain/suppression-policy.ts';
import { MAILTRAP_STREAMS, type MailtrapStream } from '../domain/suppression-sync.ts';
import type { SuppressionStore } from '../ports/suppression-store.ts';

const MANUAL_REASONS: readonly SuppressionReason[] = ['bounce', 'complaint', 'unsubscribe', 'manual'];

/** A request a person can fix (bad address, reason or scope): the API answers 400, the CLI exits with usage. */
export class ManualSuppressionInputError extends Error {
  override name = 'ManualSuppressionInputError';
}

export interface ManualSuppressionDeps {
  store: SuppressionStore;
  policy?: PolicyConfig | undefined;
  now: () => string;
  /** Key of a hand-made change (each one is its own event). */
  newKey?: (() => string) | undefined;
}

export interface ManualChange {
  /** The store's key for the address. */
  email: string;
  /** true when the change took effect (added, or lifted). */
  changed: boolean;
  why: string;
  decision: Decision;
  view: SuppressionView;
}

/** The address's store key, or a ManualSuppressionInputError naming the problem. */
export function manualAddress(raw: string | undefined): string {
  const check = checkEmailAddress(raw ?? '');
  if (!check.ok) throw new ManualSuppressionInputError(`not an email address (${check.problem})`);
  return check.key;
}

export function manualReason(raw: unknown): SuppressionReason {
  if (typeof raw === 'string' && MANUAL_REASONS.includes(raw as SuppressionReason)) return raw as SuppressionReason;
  throw new ManualSuppressionInputError(`reason must be one of ${MANUAL_REASONS.join(', ')}`);
}

/** `domain` (+ optional `stream`) or none = global / every scope. */
export function manualScope(domain: string | undefined, stream: string | undefined): SuppressionScope | undefined {
  const d = domain?.trim();
  const s = stream?.trim();
  if (!d) {
    if (s) throw new ManualSuppressionInputError('a stream needs a domain');
    return undefined;
  }
  if (s && !MAILTRAP_STREAMS.includes(s as MailtrapStream)) throw new ManualSuppressionInputError(`stream must be one of ${MAILTRAP_STREAMS.join(', ')}`);
  return { domain: domainKey(d), ...(s ? { stream: s } : {}) };
}

async function changed(deps: ManualSuppressionDeps, email: string, decision: Decision, effect: Decision['outcome']): Promise<ManualChange> {
  const state = decision.next ?? (await deps.store.get(email));
  return { email: manualAddress(email), changed: decision.outcome === effect, why: decision.why, decision, view: viewSuppression(state, email) };
}

/** A person suppresses `email` (globally, or for one domain / stream). Idempotent by scope: a second add is `changed: false`. */
export async function addManualSuppression(
  deps: ManualSuppressionDeps,
  input: { email: string; reason: SuppressionReason; scope?: SuppressionScope | undefined },
): Promise<ManualChange> {
  manualAddress(input.email);
  const key = `manual:${(deps.newKey ?? randomUUID)()}`;
  const at = deps.now();
  const decision = await deps.store.update(input.email, (current) =>
    applyManualSuppression(current, { email: input.email, reason: input.reason, scope: input.scope, at, source: 'manual', key }, deps.policy ?? DEFAULT_POLICY),
  );
  return changed(deps, input.email, decision, 'suppressed');
}

/** A person lifts `email` everywhere, or one scope. `changed: false` when it was not suppressed there. */
export async function removeManualSuppression(
  deps: ManualSuppressionDeps,
  input: { email: string; scope?: SuppressionScope | undefined },
): Promise<ManualChange> {
  manualAddress(input.email);
  const at = deps.now();
  const decision = await deps.store.update(input.email, (current) => applyRemoval(current, { at, scope: input.scope }, deps.policy ?? DEFAULT_POLICY));
  return changed(deps, input.email, decision, 'cleared');
}
