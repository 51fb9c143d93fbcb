/**
 * The SES API v2 calls of the sync: account suppression list, contact-list unsubscribes and
 * bulk import jobs (https://docs.aws.amazon.com/ses/latest/APIReference-V2/Welcome.html).
 * Errors become `ProviderCallError`s: TooManyRequestsException (429) is throttling, 5xx and
 * network errors are retryable, other 4xx are not (a malformed address never succeeds).
 */
import {
  CreateContactCommand,
  CreateImportJobCommand,
  DeleteSuppressedDestinationCommand,
  GetImportJobCommand,
  ListContactsCommand,
  ListSuppressedDestinationsCommand,
  PutSuppressedDestinationCommand,
  UpdateContactCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import {
  ProviderCallError,
  type ImportAction,
  type ImportJobState,
  type SesListReason,
  type SesSuppressionApi,
  type SesSuppressedEntry,
  type SesUnsubscribedContact,
} from '../ports/provider-suppressions.ts';

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function classifySesError(error: unknown): ProviderCallError {
  if (error instanceof ProviderCallError) return error;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode;
  const name = errorName(error);
  const message = `SES ${name}${status ? ` (${status})` : ''}: ${error instanceof Error ? error.message : String(error)}`;
  if (status === 429 || name === 'TooManyRequestsException' || name === 'ThrottlingException') {
    return new ProviderCallError(message, { throttled: true, retryable: true, status: 429 });
  }
  if (status === 403 || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return new ProviderCallError(message, { retryable: true, stopRun: true, status });
  }
  if (status === undefined || status >= 500) return new ProviderCallError(message, { retryable: true, status });
  return new ProviderCallError(message, { retryable: false, status });
}

const isNotFound = (error: unknown) => errorName(error) === 'NotFoundException';

export class Sesv2Suppressions implements SesSuppressionApi {
  constructor(
    private readonly client: SESv2Client,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(AbortSignal.timeout(this.timeoutMs));
    } catch (error) {
      throw classifySesError(error);
    }
  }

  async put(email: string, reason: SesListReason): Promise<void> {
    await this.call((abortSignal) => this.client.send(new PutSuppressedDestinationCommand({ EmailAddress: email, Reason: reason }), { abortSignal }));
  }

  async delete(email: string): Promise<void> {
    await this.call(async (abortSignal) => {
      try {
        await this.client.send(new DeleteSuppressedDestinationCommand({ EmailAddress: email }), { abortSignal });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  async updateContact(contactList: string, email: string, unsubscribeAll: boolean): Promise<boolean> {
    return this.call(async (abortSignal) => {
      try {
        await this.client.send(new UpdateContactCommand({ ContactListName: contactList, EmailAddress: email, UnsubscribeAll: unsubscribeAll }), { abortSignal });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    });
  }

  async createUnsubscribedContact(contactList: string, email: string): Promise<void> {
    await this.call(async (abortSignal) => {
      try {
        await this.client.send(new CreateContactCommand({ ContactListName: contactList, EmailAddress: email, UnsubscribeAll: true }), { abortSignal });
      } catch (error) {
        // Created meanwhile (a retried run): the next drain's UpdateContact sets the flag.
        if (errorName(error) !== 'AlreadyExistsException') throw error;
      }
    });
  }

  async list(input: { nextToken?: string | undefined; since?: Date | undefined; pageSize: number }): Promise<{ entries: SesSuppressedEntry[]; nextToken?: string | undefined }> {
    const out = await this.call((abortSignal) =>
      this.client.send(
        new ListSuppressedDestinationsCommand({
          PageSize: input.pageSize,
          ...(input.nextToken ? { NextToken: input.nextToken } : {}),
          ...(input.since ? { StartDate: input.since } : {}),
        }),
        { abortSignal },
      ),
    );
    return {
      entries: (out.SuppressedDestinationSummaries ?? []).map((s) => ({ EmailAddress: String(s.EmailAddress), Reason: String(s.Reason), LastUpdateTime: s.LastUpdateTime })),
      nextToken: out.NextToken,
    };
  }

  async listUnsubscribedContacts(input: { contactList: string; nextToken?: string | undefined; pageSize: number }): Promise<{ contacts: SesUnsubscribedContact[]; nextToken?: string | undefined }> {
    const out = await this.call((abortSignal) =>
      this.client.send(
        new ListContactsCommand({
          ContactListName: input.contactList,
          Filter: { FilteredStatus: 'OPT_OUT' },
          PageSize: input.pageSize,
          ...(input.nextToken ? { NextToken: input.nextToken } : {}),
        }),
        { abortSignal },
      ),
    );
    return {
      // What OPT_OUT without a topic filter selects is not documented: keep only contacts that
      // unsubscribed from everything, so a topic opt-out is never imported as a global one.
      contacts: (out.Contacts ?? [])
        .filter((c) => c.UnsubscribeAll === true && typeof c.EmailAddress === 'string')
        .map((c) => ({ EmailAddress: String(c.EmailAddress), LastUpdatedTimestamp: c.LastUpdatedTimestamp })),
      nextToken: out.NextToken,
    };
  }

  async createImportJob(s3Url: string, action: ImportAction = 'PUT'): Promise<string> {
    const out = await this.call((abortSignal) =>
      this.client.send(
        new CreateImportJobCommand({
          ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: action } },
          ImportDataSource: { S3Url: s3Url, DataFormat: 'CSV' },
        }),
        { abortSignal },
      ),
    );
    return String(out.JobId);
  }

  async importJob(jobId: string): Promise<ImportJobState> {
    const out = await this.call((abortSignal) => this.client.send(new GetImportJobCommand({ JobId: jobId }), { abortSignal }));
    if (out.JobStatus === 'COMPLETED') return { status: 'completed', processed: out.ProcessedRecordsCount ?? 0, failed: out.FailedRecordsCount ?? 0 };
    if (out.JobStatus === 'FAILED' || out.JobStatus === 'CANCELLED') return { status: 'failed', error: out.FailureInfo?.ErrorMessage ?? String(out.JobStatus) };
    return { status: 'running' };
  }
}
