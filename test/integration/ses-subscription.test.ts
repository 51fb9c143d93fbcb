/**
 * SES subscription management on the local stack: `npx mailbridge simulate ses` with a real
 * Subscription event -> SNS -> SQS -> ses-feedback -> store -> stream -> outbox -> mailtrap-sync
 * -> the Mailtrap simulator; topic opt-outs and opt-ins; redelivery.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { topicScope } from '../../shared/domain/subscription-policy.ts';
import { cli, clients, localInfo, queue, queueIdle, ROOT, runScheduled, sim, stateOf, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');
const dir = mkdtempSync(join(tmpdir(), 'mailbridge-subscription-'));

type MailtrapState = { entries: Array<{ email: string; domain_name: string | null; sending_stream: string; type: string }> };
type SesState = { contactLists: Array<{ contacts: Array<{ EmailAddress: string }> }> };

/** The documented Subscription event for one recipient, with the preferences given; written to a file for the CLI. */
function subscriptionFile(email: string, prefs: { all: boolean; topics?: Record<string, 'OptOut' | 'OptIn'> }, at = new Date().toISOString()): string {
  const n = structuredClone(JSON.parse(readFileSync(join(ROOT, 'events', 'ses', 'event_Subscription.json'), 'utf8')));
  n.mail.messageId = `sub-${randomUUID()}`;
  n.mail.destination = [email];
  n.mail.commonHeaders.to = [email];
  n.subscription.timestamp = at;
  n.subscription.newTopicPreferences = {
    unsubscribeAll: prefs.all,
    topicSubscriptionStatus: Object.entries(prefs.topics ?? {}).map(([topicName, subscriptionStatus]) => ({ topicName, subscriptionStatus })),
  };
  const file = join(dir, `${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(n));
  return file;
}

function simulate(file: string): void {
  const out = cli(['simulate', 'ses', file]);
  expect(out.code, out.stderr).toBe(0);
}

const mailtrapFor = async (email: string) => (await sim<MailtrapState>(info.endpoints.mailtrap ?? '', 'state')).entries.filter((e) => e.email === email);

describe('SES Subscription events end to end', () => {
  it('simulate ses with unsubscribeAll: the address is suppressed (unsubscribe, ses, global) and Mailtrap then holds its unsubscription', async () => {
    // Prepare
    const email = uniqueEmail('SesUnsub');
    // Act
    simulate(subscriptionFile(email, { all: true }));
    const state = await stateOf(store, email, (s) => s.suppressions.length > 0);
    const records = await waitFor(async () => {
      await runScheduled('mailtrap-sync');
      const r = await mailtrapFor(email);
      return r.length === 2 ? r : undefined;
    }, 'Mailtrap unsubscriptions');
    // Assess
    expect(state.suppressions).toMatchObject([{ scope: 'global', reason: 'unsubscribe', source: 'ses' }]);
    expect(records.map((r) => [r.domain_name, r.sending_stream, r.type]).sort()).toEqual([
      ['examplesender.com', 'transactional', 'unsubscription'],
      ['news.examplesender.com', 'transactional', 'unsubscription'],
    ]);
    // Not pushed back to SES: SES published it, its contact list already holds it.
    await runScheduled('ses-sync');
    const ses = await sim<SesState>(info.endpoints.sesv2 ?? '', 'state');
    expect(ses.contactLists.flatMap((l) => l.contacts).some((x) => x.EmailAddress === email)).toBe(false);
    const status = JSON.parse(cli(['suppressions', 'sync-status', email]).stdout);
    expect(status.providers.ses).toMatchObject({ status: 'not-needed', fromProvider: ['contact'], note: 'learned from this provider: not pushed back' });
    const got = JSON.parse(cli(['suppressions', 'get', email]).stdout);
    expect(got).toMatchObject({ suppressed: true, reason: 'unsubscribe' });
  }, 180_000);

  it('a topic opt-out is its own scope (shown by suppressions get), not global, not pushed; a later opt-in lifts it', async () => {
    // Prepare
    const email = uniqueEmail('SesTopic');
    const t0 = Date.now();
    // Act: opt out of one topic
    simulate(subscriptionFile(email, { all: false, topics: { ExampleTopicName: 'OptOut' } }, new Date(t0).toISOString()));
    const optedOut = await stateOf(store, email, (s) => s.suppressions.length > 0);
    // Assess
    expect(optedOut.suppressions.map((s) => s.scope)).toEqual([topicScope('ContactListName', 'ExampleTopicName')]);
    const got = JSON.parse(cli(['suppressions', 'get', email]).stdout);
    expect(got.scopes).toMatchObject([{ scope: 'ses-topic:ContactListName/ExampleTopicName', reason: 'unsubscribe', source: 'ses' }]);
    expect(JSON.parse(cli(['suppressions', 'get', email, '--domain', 'examplesender.com']).stdout).suppressed).toBe(false);
    // Neither provider can hold a topic preference as such: nothing to push, and sync-status says why.
    const status = JSON.parse(cli(['suppressions', 'sync-status', email]).stdout);
    expect(status.providers.mailtrap).toMatchObject({ status: 'not-needed', note: 'nothing to push' });
    expect(status.providers.mailtrap.skipped[0]).toMatch(/Mailtrap has no topics/);
    expect(status.providers.ses.skipped[0]).toMatch(/topic preference SES already holds/);
    // Act: opt back in
    simulate(subscriptionFile(email, { all: false, topics: { ExampleTopicName: 'OptIn' } }, new Date(t0 + 1000).toISOString()));
    // Assess
    const lifted = await stateOf(store, email, (s) => s.suppressions.length === 0);
    expect(lifted.counts.subscription).toBe(2);
  }, 240_000);

  it('a redelivered Subscription event (same SNS envelope again) changes nothing', async () => {
    // Prepare
    const email = uniqueEmail('SesRedeliver');
    const file = subscriptionFile(email, { all: true });
    simulate(file);
    const first = await stateOf(store, email, (s) => s.suppressions.length > 0);
    // Act
    simulate(file);
    await queueIdle(queue('SesFeedbackQueue').url);
    // Assess
    expect((await store.get(email))?.version).toBe(first.version);
  });
});
