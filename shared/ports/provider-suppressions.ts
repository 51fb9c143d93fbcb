/**
 * The provider calls the sync makes, one small interface per provider. Every failure is a
 * `ProviderCallError` that says whether trying again can help and how long the provider asked
 * us to wait; the drain decides what to do with that.
 */
export class ProviderCallError extends Error {
  override name = 'ProviderCallError';
  constructor(
    message: string,
    readonly opts: {
      /** 429 / TooManyRequests: the whole account is over its limit, not just this address. */
      throttled?: boolean;
      /** Trying again later can succeed (throttling, 5xx, timeouts, network). */
      retryable: boolean;
      /** The credentials or account are wrong: stop the run, keep every item (not this item's fault). */
      stopRun?: boolean;
      retryAfterMs?: number | undefined;
      status?: number | undefined;
    },
  ) {
    super(message);
  }
}

export type SesListReason = 'BOUNCE' | 'COMPLAINT';

export interface SesSuppressedEntry {
  EmailAddress: string;
  Reason: string;
  LastUpdateTime?: Date | undefined;
}

export type ImportAction = 'PUT' | 'DELETE';

export type ImportJobState =
  | { status: 'running' }
  | { status: 'completed'; processed: number; failed: number }
  | { status: 'failed'; error: string };

/** A contact of an SES contact list that unsubscribed from everything (`UnsubscribeAll`). */
export interface SesUnsubscribedContact {
  EmailAddress: string;
  LastUpdatedTimestamp?: Date | undefined;
}

export interface SesSuppressionApi {
  put(email: string, reason: SesListReason): Promise<void>;
  /** Resolves when gone, also if it was not there. */
  delete(email: string): Promise<void>;
  /** Set UnsubscribeAll on the contact; false when the contact does not exist. */
  updateContact(contactList: string, email: string, unsubscribeAll: boolean): Promise<boolean>;
  /** Create the contact opted out of everything (resolves also if it already exists). */
  createUnsubscribedContact(contactList: string, email: string): Promise<void>;
  list(input: { nextToken?: string | undefined; since?: Date | undefined; pageSize: number }): Promise<{ entries: SesSuppressedEntry[]; nextToken?: string | undefined }>;
  /** One page of the contact list's contacts unsubscribed from everything (ListContacts, OPT_OUT filter). */
  listUnsubscribedContacts(input: { contactList: string; nextToken?: string | undefined; pageSize: number }): Promise<{ contacts: SesUnsubscribedContact[]; nextToken?: string | undefined }>;
  /** A suppression-list import job over a CSV in S3: PUT (add, 100,000 rows a file) or DELETE (remove, 10,000). Default PUT. */
  createImportJob(s3Url: string, action?: ImportAction): Promise<string>;
  importJob(jobId: string): Promise<ImportJobState>;
}

export interface MailtrapRecord {
  id: string;
  email: string;
  type: string;
  sending_stream: string | null;
  domain_name: string | null;
  created_at: string | null;
}

export interface MailtrapSuppressionApi {
  /** Sending domain name (lower case) -> id. */
  domains(): Promise<Map<string, number>>;
  create(input: { email: string; domainId: number; stream: string; type: string }): Promise<void>;
  /** Every record for the address (any domain, any stream). */
  findByEmail(email: string): Promise<MailtrapRecord[]>;
  /** Resolves when gone, also if it was not there. */
  delete(id: string): Promise<void>;
  /** One page after the `lastId` cursor (up to 1000). */
  page(lastId: string | undefined): Promise<MailtrapRecord[]>;
}
