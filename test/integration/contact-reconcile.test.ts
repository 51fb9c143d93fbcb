/**
 * suppression-reconcile reads the SES contact list too (ListContacts, OPT_OUT filter, paged):
 * contacts unsubscribed from everything in SES are imported as global unsubscribes, pushed to
 * Mailtrap and not back to SES; our own pushes are not escalated; a person's removal wins.
 */
import { describe, expect, it } from 'vitest';
import { CreateContactCommand, SESv2Client, UpdateContactCommand } from '@aws-sdk/client-sesv2';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { DynamoSyncState } from '../../shared/adapters/dynamo-sync-state.ts';
import { mintUnsubscribeToken, unsubscribeUrl } from '../../shared/domain/unsubscribe-token.ts';
import { UNSUBSCRIBE_SECRET } from './global-setup.ts';
import { cli, clients, localInfo, runScheduled, sim, stateOf, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
const list = info.sync?.sesContactList ?? 'missing';
const sync = new DynamoSyncState(c.documents, info.tables.SuppressionSyncTable?.name ?? 'missing');

/**
 * Reconciliation is resumable (a run that spends its budget saves its place, and other files
 * leave the shared lists long): run it until the contact-list pass has completed once after
 * `since`, so every contact in the list at `since` was read.
 */
async function reconcileContactsPass(since: string): Promise<void> {
  await waitFor(async () => {
    await runScheduled('suppression-reconcile');
    const cp = await sync.getControl<{ completedAt?: string }>('reconcile#ses-contacts');
    return cp?.completedAt !== undefined && cp.completedAt > since;
  }, 'a completed SES contact-list pass', 90_000);
}
const ses = new SESv2Client({ region: info.region, endpoint: info.endpoints.sesv2, credentials: { ...info.credentials }, maxAttempts: 5 });

type MailtrapState = { entries: Array<{ email: string; type: string }> };

/** A contact who unsubscribed from everything in SES (its own link or preferences page). */
async function optedOutInSes(email: string): Promise<void> {
  await ses.send(new CreateContactCommand({ ContactListName: list, EmailAddress: email }));
  await ses.send(new UpdateContactCommand({ ContactListName: list, EmailAddress: email, UnsubscribeAll: true }));
}

describe('reconcile: SES contact-list unsubscribes', () => {
  it('imports an opted-out contact the store lacks, pushes it to Mailtrap, not back to SES', async () => {
    // Prepare
    const email = uniqueEmail('Contact');
    await optedOutInSes(email);
    const since = new Date().toISOString();
    // Act
    await reconcileContactsPass(since);
    // Assess
    const state = await stateOf(store, email, (s) => s.suppressions.length > 0);
    expect(state.suppressions).toMatchObject([{ scope: 'global', reason: 'unsubscribe', source: 'reconcile' }]);
    expect(state.suppressions[0]?.eventKey).toMatch(/^reconcile:ses:contact:/);
    expect(state.spellings).toEqual([email]);
    const records = await waitFor(async () => {
      await runScheduled('mailtrap-sync');
      const r = (await sim<MailtrapState>(info.endpoints.mailtrap ?? '', 'state')).entries.filter((e) => e.email === email);
      return r.length === 2 ? r : undefined;
    }, 'Mailtrap unsubscriptions', 60_000);
    expect(records.map((r) => r.type)).toEqual(['unsubscription', 'unsubscription']);
    // Not pushed back to SES (learned there): nothing queued for SES, sync-status says why.
    const status = JSON.parse(cli(['suppressions', 'sync-status', email]).stdout);
    expect(status.providers.ses).toMatchObject({ status: 'not-needed', fromProvider: ['contact'], note: 'learned from this provider: not pushed back' });
  }, 120_000);

  it('does not turn our own push of a domain-scoped unsubscribe into a global one', async () => {
    // Prepare: a link unsubscribe for one domain, pushed to the SES contact list as UnsubscribeAll
    const email = uniqueEmail('Scoped');
    const url = unsubscribeUrl(info.httpUrl, mintUnsubscribeToken({ email, domain: 'news.examplesender.com' }, UNSUBSCRIBE_SECRET));
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    type ContactLists = { contactLists: Array<{ contacts: Array<{ EmailAddress: string; UnsubscribeAll: boolean }> }> };
    await waitFor(async () => {
      await runScheduled('ses-sync');
      const s = await sim<ContactLists>(info.endpoints.sesv2 ?? '', 'state');
      return s.contactLists.flatMap((l) => l.contacts).some((x) => x.EmailAddress === email && x.UnsubscribeAll);
    }, 'SES contact opted out');
    // Act
    await reconcileContactsPass(new Date().toISOString());
    // Assess
    expect((await store.get(email))?.suppressions.map((s) => s.scope)).toEqual(['domain:news.examplesender.com']);
  }, 120_000);
});
