/**
 * The SESv2 simulator's ListContacts as the contact-list reconcile uses it: the OPT_OUT filter,
 * paged with PageSize / NextToken, checked with the real @aws-sdk/client-sesv2 client (and its
 * paginator). No S3 needed: no import jobs here.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateContactCommand,
  CreateContactListCommand,
  ListContactsCommand,
  paginateListContacts,
  SESv2Client,
  UpdateContactCommand,
} from '@aws-sdk/client-sesv2';
import { startSesv2Simulator, type Sesv2Simulator } from '../../../local/simulators/sesv2-simulator.ts';
import { Sesv2Suppressions } from '../../../shared/adapters/sesv2-suppressions.ts';

let sim: Sesv2Simulator;
let ses: SESv2Client;
const LIST = 'newsletter';

beforeAll(async () => {
  sim = await startSesv2Simulator({ port: 0, rateLimit: null });
  ses = new SESv2Client({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});

afterAll(async () => {
  ses?.destroy();
  await sim?.stop();
});

beforeEach(async () => {
  sim.reset();
  await ses.send(new CreateContactListCommand({ ContactListName: LIST, Topics: [{ TopicName: 'weekly', DisplayName: 'Weekly', DefaultSubscriptionStatus: 'OPT_IN' }] }));
  // 25 contacts: every third unsubscribed from everything, every fifth opted out of one topic only.
  for (let i = 0; i < 25; i++) {
    const EmailAddress = `c${String(i).padStart(2, '0')}@example.com`;
    await ses.send(new CreateContactCommand({ ContactListName: LIST, EmailAddress }));
    if (i % 3 === 0) await ses.send(new UpdateContactCommand({ ContactListName: LIST, EmailAddress, UnsubscribeAll: true }));
    else if (i % 5 === 0) await ses.send(new UpdateContactCommand({ ContactListName: LIST, EmailAddress, TopicPreferences: [{ TopicName: 'weekly', SubscriptionStatus: 'OPT_OUT' }] }));
  }
});

const unsubscribedAll = Array.from({ length: 25 }, (_, i) => i)
  .filter((i) => i % 3 === 0)
  .map((i) => `c${String(i).padStart(2, '0')}@example.com`);

describe('ListContacts with the unsubscribe filter, paged', () => {
  it('pages the opted-out contacts with PageSize and NextToken, each exactly once', async () => {
    // Act
    const seen: string[] = [];
    const pages: number[] = [];
    for await (const page of paginateListContacts({ client: ses, pageSize: 3 }, { ContactListName: LIST, Filter: { FilteredStatus: 'OPT_OUT' } })) {
      pages.push(page.Contacts?.length ?? 0);
      seen.push(...(page.Contacts ?? []).map((c) => String(c.EmailAddress)));
      expect(page.Contacts?.every((c) => c.UnsubscribeAll === true)).toBe(true);
    }
    // Assess
    expect(seen).toEqual(unsubscribedAll);
    expect(pages).toEqual([3, 3, 3]);
  });

  it('refuses a NextToken it did not issue and page sizes out of range', async () => {
    const bad = await ses.send(new ListContactsCommand({ ContactListName: LIST, NextToken: 'not-a-token' })).catch((e: Error) => e);
    expect((bad as Error).name).toBe('BadRequestException');
    const zero = await ses.send(new ListContactsCommand({ ContactListName: LIST, PageSize: 0 })).catch((e: Error) => e);
    expect((zero as Error).name).toBe('BadRequestException');
    const missing = await ses.send(new ListContactsCommand({ ContactListName: 'missing' })).catch((e: Error) => e);
    expect((missing as Error).name).toBe('NotFoundException');
  });

  it('the adapter reads every unsubscribe-all contact page by page and never a topic-only opt-out', async () => {
    // Prepare
    const adapter = new Sesv2Suppressions(ses);
    // Act
    const seen: string[] = [];
    let nextToken: string | undefined;
    let calls = 0;
    do {
      const page = await adapter.listUnsubscribedContacts({ contactList: LIST, nextToken, pageSize: 4 });
      seen.push(...page.contacts.map((c) => c.EmailAddress));
      expect(page.contacts.every((c) => c.LastUpdatedTimestamp instanceof Date)).toBe(true);
      nextToken = page.nextToken;
      calls++;
    } while (nextToken && calls < 20);
    // Assess
    expect(seen).toEqual(unsubscribedAll);
    expect(calls).toBe(3);
  });
});
