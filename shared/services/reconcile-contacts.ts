/**
 * Pull side of the sync, SES contact list: contacts that unsubscribed from everything in SES
 * (its own one-click link, its preferences page, a dashboard edit, a Subscription event we
 * never received) and that the store lacks are imported as global unsubscribes, unless a person
 * removed the address after the contact last changed.
 *
 * ListContacts with the `OPT_OUT` filter, NextToken paging, through the SES reconcile pace (the
 * same share of the 1 request/s as the suppression-list pass, which runs first). ListContacts
 * has no date filter, so each pass reads every opted-out contact; the NextToken is saved after
 * every page, so a pass longer than one run resumes in the next. A rejected NextToken restarts
 * the pass. Imported entries carry `reconcile:ses:contact:...` keys: never pushed back to SES,
 * pushed to Mailtrap.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SesSuppressionApi } from '../ports/provider-suppressions.ts';
import { decideContactReconcile, fromSesContact } from '../domain/reconcile.ts';
import { logger, metrics } from '../observability.ts';
import { iso, type PacedCalls } from './sync-drain.ts';
import { importEntries, newReport, sesTokenPass, type ReconcileDeps, type ReconcileReport } from './reconcile.ts';

interface ContactCheckpoint {
  contactList?: string | undefined;
  nextToken?: string | undefined;
  passStartedAt?: string | undefined;
  completedAt?: string | undefined;
}

const CONTACTS_CHECKPOINT = 'reconcile#ses-contacts';
const CONTACTS_PAGE_SIZE = 1000;

export async function reconcileSesContacts(
  api: SesSuppressionApi,
  contactList: string | undefined,
  deps: ReconcileDeps,
  calls: PacedCalls,
  pageSize = CONTACTS_PAGE_SIZE,
): Promise<ReconcileReport> {
  const report = newReport('ses');
  if (!contactList) {
    logger.info('no SES contact list configured: contact-list unsubscribes not reconciled');
    return report;
  }
  const now = () => iso(deps.clock.now());
  let cp = (await deps.sync.getControl<ContactCheckpoint>(CONTACTS_CHECKPOINT)) ?? {};
  // A pass belongs to one list: a renamed list starts over.
  if (cp.contactList !== contactList || !cp.nextToken) cp = { contactList, passStartedAt: now() };
  try {
    await sesTokenPass({
      checkpointKey: CONTACTS_CHECKPOINT,
      checkpoint: cp,
      deps,
      calls,
      report,
      rejectedToken: 'SES rejected the saved contact-list NextToken: restarting the pass',
      restart: () => ({ contactList, passStartedAt: now() }),
      page: async (at) => {
        const page = await api.listUnsubscribedContacts({ contactList, nextToken: at.nextToken, pageSize });
        return { items: page.contacts, nextToken: page.nextToken };
      },
      importPage: (contacts) => importEntries(contacts.map((contact) => fromSesContact(contactList, contact)), deps, report, decideContactReconcile),
      completed: () => ({ contactList, completedAt: now() }),
    });
  } finally {
    metrics.addMetric('SesContactsReconcileImported', MetricUnit.Count, report.imported);
  }
  return report;
}
