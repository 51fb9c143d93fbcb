/**
 * Pull side of the sync: what an entry found in a provider's own list means for the store.
 * Pure.
 *
 * Entries come in with source `reconcile` and an event key naming the provider
 * (`reconcile:ses:...`, `reconcile:mailtrap:...`), so the echo rule (suppression-sync.ts)
 * never pushes them back where they came from, while the other provider still gets them.
 *
 * An entry the store lacks is imported unless a person removed the address (or that scope)
 * after the provider recorded it: the provider still lists it only because our delete has not
 * reached it yet, and importing it would undo the person's decision.
 */
import type { SuppressionScope } from './feedback-event.ts';
import { domainKey } from './email-address.ts';
import {
  applyManualSuppression,
  GLOBAL_SCOPE,
  manualScopeKey,
  scopeClearedAt,
  type AddressState,
  type Decision,
  type PolicyConfig,
  type SuppressionReason,
} from './suppression-policy.ts';

export interface ProviderEntry {
  provider: 'ses' | 'mailtrap';
  /** As the provider spells it. */
  email: string;
  reason: SuppressionReason;
  scope?: SuppressionScope | undefined;
  /** When the provider recorded it (ISO 8601). */
  at: string;
  key: string;
}

export function fromSesEntry(e: { EmailAddress: string; Reason: string; LastUpdateTime?: Date | string | undefined }): ProviderEntry | undefined {
  if (e.Reason !== 'BOUNCE' && e.Reason !== 'COMPLAINT') return undefined;
  const t = e.LastUpdateTime ? new Date(e.LastUpdateTime).getTime() : Number.NaN;
  const at = new Date(Number.isNaN(t) ? 0 : t).toISOString();
  return {
    provider: 'ses',
    email: e.EmailAddress,
    reason: e.Reason === 'COMPLAINT' ? 'complaint' : 'bounce',
    at,
    // The entry's time is part of the key: SES re-adding it after a removal is a new event.
    key: `reconcile:ses:${e.EmailAddress}:${e.Reason}:${at}`,
  };
}

export interface MailtrapRecordLike {
  id: string;
  email: string;
  type: string;
  sending_stream?: string | null | undefined;
  domain_name?: string | null | undefined;
  created_at?: string | null | undefined;
}

export function fromMailtrapRecord(r: MailtrapRecordLike): ProviderEntry | undefined {
  const reason: SuppressionReason | undefined =
    r.type === 'hard bounce' ? 'bounce' : r.type === 'spam complaint' ? 'complaint' : r.type === 'unsubscription' ? 'unsubscribe' : r.type === 'manual import' ? 'manual' : undefined;
  if (!reason) return undefined;
  const domain = r.domain_name ? domainKey(r.domain_name) : undefined;
  const stream = r.sending_stream === 'transactional' || r.sending_stream === 'bulk' ? r.sending_stream : undefined;
  // Same mapping as the webhook: bounces and complaints are about the address, global.
  const scoped = (reason === 'unsubscribe' || reason === 'manual') && domain;
  const t = r.created_at ? Date.parse(r.created_at) : Number.NaN;
  return {
    provider: 'mailtrap',
    email: r.email,
    reason,
    scope: scoped ? { domain, ...(stream ? { stream } : {}) } : undefined,
    at: Number.isNaN(t) ? new Date(0).toISOString() : new Date(t).toISOString(),
    key: `reconcile:mailtrap:${r.id}`,
  };
}

export function decideReconcile(current: AddressState | undefined, entry: ProviderEntry, policy?: PolicyConfig): Decision {
  const scope = manualScopeKey(entry.reason, entry.scope);
  const held = current?.suppressions ?? [];
  if (held.some((s) => s.scope === scope || s.scope === GLOBAL_SCOPE)) {
    return { outcome: 'no-change', added: [], why: `already suppressed (${scope})` };
  }
  // The same rule as a late provider event: a person's removal of this scope (or of every
  // scope) after the provider recorded the entry wins; our delete has not reached it yet.
  const cleared = scopeClearedAt(current, scope);
  if (cleared !== null && ms(cleared) >= ms(entry.at)) {
    return { outcome: 'no-change', added: [], why: `${scope === GLOBAL_SCOPE || cleared === current?.clearedAt ? 'removed' : `scope ${scope} removed`} by a person after the provider recorded it` };
  }
  return applyManualSuppression(
    current,
    { email: entry.email, reason: entry.reason, scope: entry.scope, at: entry.at, source: 'reconcile', key: entry.key },
    policy,
  );
}

function ms(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * A contact of the SES contact list that unsubscribed from everything: an unsubscribe, global.
 * Its key names the contact list and the contact's last update, so opting out again after a
 * removal is a new event.
 */
export function fromSesContact(contactList: string, c: { EmailAddress: string; LastUpdatedTimestamp?: Date | string | undefined }): ProviderEntry {
  const at = c.LastUpdatedTimestamp ? new Date(c.LastUpdatedTimestamp).toISOString() : new Date(0).toISOString();
  return { provider: 'ses', email: c.EmailAddress, reason: 'unsubscribe', at, key: `reconcile:ses:contact:${contactList}:${c.EmailAddress}:${at}` };
}

/**
 * The contact-list variant of decideReconcile. Our own pushes land in the contact list too: any
 * unsubscribe the store holds (a Mailtrap domain unsubscribe, a link's) is pushed as
 * `UnsubscribeAll`, so an opted-out contact is only news when the store holds no unsubscribe at
 * all; and any removal by a person after the contact's last update wins (the UpdateContact that
 * clears it has not reached SES yet).
 */
export function decideContactReconcile(current: AddressState | undefined, entry: ProviderEntry, policy?: PolicyConfig): Decision {
  if (current?.suppressions.some((s) => s.reason === 'unsubscribe')) return { outcome: 'no-change', added: [], why: 'already unsubscribed (our push, or SES said so)' };
  const at = ms(entry.at);
  const removals = [current?.clearedAt, ...(current?.scopeClears ?? []).map((c) => c.at)].filter((t): t is string => typeof t === 'string');
  if (removals.some((t) => ms(t) >= at)) return { outcome: 'no-change', added: [], why: 'removed by a person after the contact last changed' };
  return decideReconcile(current, entry, policy);
}
