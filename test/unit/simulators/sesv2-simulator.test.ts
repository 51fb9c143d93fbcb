import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateContactCommand,
  CreateContactListCommand,
  CreateImportJobCommand,
  DeleteContactCommand,
  DeleteSuppressedDestinationCommand,
  GetContactCommand,
  GetContactListCommand,
  GetImportJobCommand,
  GetSuppressedDestinationCommand,
  ListContactsCommand,
  ListSuppressedDestinationsCommand,
  PutSuppressedDestinationCommand,
  SESv2Client,
  UpdateContactCommand,
  type GetImportJobCommandOutput,
  type SuppressionListReason,
} from '@aws-sdk/client-sesv2';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSesv2Simulator, type Sesv2Simulator } from '../../../local/simulators/sesv2-simulator.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const BUCKET = 'suppression-imports';

let fauxqs: FauxqsServer;
let sim: Sesv2Simulator;
let ses: SESv2Client;
let s3: S3Client;

/** Rejection of `promise`, or a failed assertion if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

async function upload(key: string, body: string): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return `s3://${BUCKET}/${key}`;
}

/** Polls GetImportJob (as a client would) until the job ends; bounded so a stuck job fails the test. */
async function waitForJob(jobId: string): Promise<GetImportJobCommandOutput> {
  for (let i = 0; i < 200; i++) {
    const job = await ses.send(new GetImportJobCommand({ JobId: jobId }));
    if (job.JobStatus === 'COMPLETED' || job.JobStatus === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`import job ${jobId} did not finish`);
}

/** The simulator's rate-limit clock: it moves only when a test moves it (no real 1 s window to land in). */
let now = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false });
  // Limiting off by default here; the rate-limit test switches it on.
  sim = await startSesv2Simulator({ port: 0, s3: { endpoint: fauxqs.address }, rateLimit: null, clock: () => now });
  ses = new SESv2Client({ endpoint: sim.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  s3 = new S3Client({ endpoint: fauxqs.address, region: 'us-east-1', credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  ses?.destroy();
  s3?.destroy();
  await sim?.stop();
  await fauxqs?.stop();
});

beforeEach(() => sim.reset());

describe('suppression list', () => {
  it('puts, gets and deletes an entry in the documented shape', async () => {
    const before = Date.now();
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'bounced@example.com', Reason: 'BOUNCE' }));
    const got = await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'bounced@example.com' }));
    expect(got.SuppressedDestination).toMatchObject({ EmailAddress: 'bounced@example.com', Reason: 'BOUNCE', Attributes: {} });
    expect(got.SuppressedDestination?.LastUpdateTime).toBeInstanceOf(Date);
    expect(got.SuppressedDestination?.LastUpdateTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);

    // PUT on an existing address overwrites the reason.
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'bounced@example.com', Reason: 'COMPLAINT' }));
    expect(sim.entries()).toMatchObject([{ EmailAddress: 'bounced@example.com', Reason: 'COMPLAINT' }]);

    await ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'bounced@example.com' }));
    expect(sim.entries()).toEqual([]);
    expect(sim.calls).toMatchObject({ PutSuppressedDestination: 2, GetSuppressedDestination: 1, DeleteSuppressedDestination: 1 });
  });

  it('returns seeded MessageId / FeedbackId attributes', async () => {
    sim.seedSuppressions([{ EmailAddress: 'c@example.com', Reason: 'COMPLAINT', MessageId: 'm-1', FeedbackId: 'f-1' }]);
    const got = await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'c@example.com' }));
    expect(got.SuppressedDestination?.Attributes).toEqual({ MessageId: 'm-1', FeedbackId: 'f-1' });
  });

  it('matches addresses exact-case', async () => {
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case@Example.com', Reason: 'BOUNCE' }));
    const miss = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'mixed.case@example.com' })));
    expect(miss.name).toBe('NotFoundException');
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'mixed.case@example.com', Reason: 'COMPLAINT' }));
    expect(sim.entries().map((e) => e.EmailAddress)).toEqual(['Mixed.Case@Example.com', 'mixed.case@example.com']);
  });

  it('answers NotFoundException (404) for absent addresses on get and delete', async () => {
    const get = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'nobody@example.com' })));
    expect(get.name).toBe('NotFoundException');
    expect(get.$metadata.httpStatusCode).toBe(404);
    const del = await failure(ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'nobody@example.com' })));
    expect(del.name).toBe('NotFoundException');
  });

  it('rejects an invalid reason with BadRequestException (400)', async () => {
    const error = await failure(
      ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'x@example.com', Reason: 'UNSUBSCRIBE' as SuppressionListReason })),
    );
    expect(error.name).toBe('BadRequestException');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('pages a large list with NextToken in a stable order, 1000 per page by default', async () => {
    const seeded = Array.from({ length: 2345 }, (_, i) => ({
      EmailAddress: `user${String(i).padStart(5, '0')}@example.com`,
      Reason: (i % 3 === 0 ? 'COMPLAINT' : 'BOUNCE') as SuppressionListReason,
    }));
    sim.seedSuppressions(seeded);
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const out = await ses.send(new ListSuppressedDestinationsCommand({ NextToken: token }));
      sizes.push(out.SuppressedDestinationSummaries?.length ?? 0);
      seen.push(...(out.SuppressedDestinationSummaries ?? []).map((s) => s.EmailAddress as string));
      token = out.NextToken;
    } while (token);
    expect(sizes).toEqual([1000, 1000, 345]);
    expect(seen).toEqual(seeded.map((s) => s.EmailAddress));
  });

  it('filters by Reasons, StartDate and EndDate, and honours PageSize', async () => {
    sim.seedSuppressions([
      { EmailAddress: 'old@example.com', Reason: 'BOUNCE', LastUpdateTime: '2024-01-01T00:00:00Z' },
      { EmailAddress: 'mid@example.com', Reason: 'COMPLAINT', LastUpdateTime: '2024-06-01T00:00:00Z' },
      { EmailAddress: 'new@example.com', Reason: 'BOUNCE', LastUpdateTime: '2025-01-01T00:00:00Z' },
    ]);
    const complaints = await ses.send(new ListSuppressedDestinationsCommand({ Reasons: ['COMPLAINT'] }));
    expect(complaints.SuppressedDestinationSummaries?.map((s) => s.EmailAddress)).toEqual(['mid@example.com']);

    const window = await ses.send(
      new ListSuppressedDestinationsCommand({ StartDate: new Date('2024-03-01T00:00:00Z'), EndDate: new Date('2024-12-31T00:00:00Z') }),
    );
    expect(window.SuppressedDestinationSummaries?.map((s) => s.EmailAddress)).toEqual(['mid@example.com']);
    expect(window.SuppressedDestinationSummaries?.[0]?.LastUpdateTime?.toISOString()).toBe('2024-06-01T00:00:00.000Z');

    const first = await ses.send(new ListSuppressedDestinationsCommand({ PageSize: 2 }));
    expect(first.SuppressedDestinationSummaries?.map((s) => s.EmailAddress)).toEqual(['mid@example.com', 'new@example.com']);
    const second = await ses.send(new ListSuppressedDestinationsCommand({ PageSize: 2, NextToken: first.NextToken }));
    expect(second.SuppressedDestinationSummaries?.map((s) => s.EmailAddress)).toEqual(['old@example.com']);
    expect(second.NextToken).toBeUndefined();

    const tooBig = await failure(ses.send(new ListSuppressedDestinationsCommand({ PageSize: 1001 })));
    expect(tooBig.name).toBe('BadRequestException');
    const badToken = await failure(ses.send(new ListSuppressedDestinationsCommand({ NextToken: 'garbage' })));
    expect(badToken.name).toBe('BadRequestException');
  });
});

describe('limits and faults', () => {
  it('throttles with TooManyRequestsException (429) past the configured rate', async () => {
    sim.setRateLimit({ perSecond: 1 });
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'a@example.com', Reason: 'BOUNCE' }));
    const error = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' })));
    expect(error.name).toBe('TooManyRequestsException');
    expect(error.$metadata.httpStatusCode).toBe(429);
    expect(sim.throttled).toEqual({ GetSuppressedDestination: 1 });

    // The bucket refills with the clock: a second later there is a token again.
    now += 1000;
    await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' }));
    sim.setRateLimit({ perSecond: 50, burst: 1 });
    await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' }));
    expect((await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' })))).name).toBe('TooManyRequestsException');
    now += 20;
    await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' }));
    expect(sim.throttled).toEqual({ GetSuppressedDestination: 2 });
  });

  it('defaults to the documented 1 request per second', async () => {
    const strict = await startSesv2Simulator({ port: 0, clock: () => now });
    const client = new SESv2Client({ endpoint: strict.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await client.send(new PutSuppressedDestinationCommand({ EmailAddress: 'a@example.com', Reason: 'BOUNCE' }));
      const error = await failure(client.send(new PutSuppressedDestinationCommand({ EmailAddress: 'b@example.com', Reason: 'BOUNCE' })));
      expect(error.name).toBe('TooManyRequestsException');
      expect(strict.entries()).toHaveLength(1);
    } finally {
      client.destroy();
      await strict.stop();
    }
  });

  it('serves injected 500s, then recovers', async () => {
    sim.injectFaults([{ status: 500, count: 2 }]);
    for (let i = 0; i < 2; i++) {
      const error = await failure(ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'f@example.com', Reason: 'BOUNCE' })));
      expect(error.$metadata.httpStatusCode).toBe(500);
    }
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'f@example.com', Reason: 'BOUNCE' }));
    expect(sim.entries()).toHaveLength(1);
    expect(sim.calls.PutSuppressedDestination).toBe(3);
  });

  it('injects 429 and 503 and targets one operation', async () => {
    sim.injectFaults([{ status: 503, operation: 'GetSuppressedDestination' }, { status: 429 }]);
    // The 503 waits for a Get; the Put takes the 429.
    const put = await failure(ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'g@example.com', Reason: 'BOUNCE' })));
    expect(put.name).toBe('TooManyRequestsException');
    const get = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'g@example.com' })));
    expect(get.$metadata.httpStatusCode).toBe(503);
  });

  it('slows responses down without failing them', async () => {
    sim.injectFaults([{ delayMs: 150 }]);
    const started = Date.now();
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'slow@example.com', Reason: 'BOUNCE' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('requires an Authorization header but not a valid signature', async () => {
    const res = await fetch(`${sim.url}/v2/email/suppression/addresses`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const signedGarbage = await fetch(`${sim.url}/v2/email/suppression/addresses`, { headers: { authorization: 'AWS4-HMAC-SHA256 nonsense' } });
    expect(signedGarbage.status).toBe(200);
  });
});

describe('import jobs', () => {
  it('imports a CSV file from S3 and counts failed records', async () => {
    const url = await upload('put.csv', 'a@example.com,BOUNCE\nb@example.com, COMPLAINT\r\n\nnot-an-address,BOUNCE\nc@example.com,UNSUBSCRIBE\n');
    const { JobId } = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
        ImportDataSource: { S3Url: url, DataFormat: 'CSV' },
      }),
    );
    const job = await waitForJob(JobId as string);
    expect(job).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 4, FailedRecordsCount: 2 });
    expect(job.CompletedTimestamp).toBeInstanceOf(Date);
    expect(sim.entries().map((e) => [e.EmailAddress, e.Reason])).toEqual([
      ['a@example.com', 'BOUNCE'],
      ['b@example.com', 'COMPLAINT'],
    ]);
  });

  it('reads quoted CSV fields, and counts a line with malformed quoting as a failed record', async () => {
    const url = await upload('quoted.csv', '"d@example.com","BOUNCE"\r\n "e@example.com" , COMPLAINT\n"f@example.com,BOUNCE\ng@example.com,BOUNCE\n');
    const { JobId } = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
        ImportDataSource: { S3Url: url, DataFormat: 'CSV' },
      }),
    );
    expect(await waitForJob(JobId as string)).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 4, FailedRecordsCount: 1 });
    expect(sim.entries().map((e) => [e.EmailAddress, e.Reason])).toEqual([
      ['d@example.com', 'BOUNCE'],
      ['e@example.com', 'COMPLAINT'],
      ['g@example.com', 'BOUNCE'],
    ]);
  });

  it('imports NDJSON for PUT and DELETE', async () => {
    const putUrl = await upload(
      'put.ndjson',
      ['{"emailAddress":"x@example.com","reason":"BOUNCE"}', '{"emailAddress":"y@example.com","reason":"COMPLAINT"}', '{"emailAddress":"z@example.com","reason":"BOUNCE"}'].join('\n'),
    );
    const put = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
        ImportDataSource: { S3Url: putUrl, DataFormat: 'JSON' },
      }),
    );
    expect(await waitForJob(put.JobId as string)).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 3, FailedRecordsCount: 0 });

    const delUrl = await upload('delete.ndjson', '{"emailAddress":"x@example.com"}\n{"emailAddress":"z@example.com"}\nnot json\n');
    const del = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'DELETE' } },
        ImportDataSource: { S3Url: delUrl, DataFormat: 'JSON' },
      }),
    );
    expect(await waitForJob(del.JobId as string)).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 3, FailedRecordsCount: 1 });
    expect(sim.entries().map((e) => e.EmailAddress)).toEqual(['y@example.com']);
  });

  it('fails a DELETE job over 10,000 rows and a PUT job over 100,000 rows without applying them', async () => {
    sim.seedSuppressions([{ EmailAddress: 'user0@example.com', Reason: 'BOUNCE' }]);
    const delUrl = await upload('too-many-deletes.csv', Array.from({ length: 10_001 }, (_, i) => `user${i}@example.com`).join('\n'));
    const del = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'DELETE' } },
        ImportDataSource: { S3Url: delUrl, DataFormat: 'CSV' },
      }),
    );
    const delJob = await waitForJob(del.JobId as string);
    expect(delJob.JobStatus).toBe('FAILED');
    expect(delJob.FailureInfo?.ErrorMessage).toMatch(/10000/);
    expect(sim.entries()).toHaveLength(1);

    const exactlyAtLimit = await upload('deletes-at-limit.csv', Array.from({ length: 10_000 }, (_, i) => `user${i}@example.com`).join('\n'));
    const ok = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'DELETE' } },
        ImportDataSource: { S3Url: exactlyAtLimit, DataFormat: 'CSV' },
      }),
    );
    expect((await waitForJob(ok.JobId as string)).JobStatus).toBe('COMPLETED');
    expect(sim.entries()).toHaveLength(0);

    const putUrl = await upload('too-many-puts.csv', Array.from({ length: 100_001 }, (_, i) => `p${i}@example.com,BOUNCE`).join('\n'));
    const put = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
        ImportDataSource: { S3Url: putUrl, DataFormat: 'CSV' },
      }),
    );
    expect(await waitForJob(put.JobId as string)).toMatchObject({ JobStatus: 'FAILED', ProcessedRecordsCount: 0 });
    expect(sim.entries()).toHaveLength(0);
  });

  it('fails a job whose S3 object is missing, and rejects malformed requests up front', async () => {
    const { JobId } = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
        ImportDataSource: { S3Url: `s3://${BUCKET}/does-not-exist.csv`, DataFormat: 'CSV' },
      }),
    );
    expect((await waitForJob(JobId as string)).JobStatus).toBe('FAILED');

    const bad = await failure(
      ses.send(
        new CreateImportJobCommand({
          ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
          ImportDataSource: { S3Url: 'https://example.com/file.csv', DataFormat: 'CSV' },
        }),
      ),
    );
    expect(bad.name).toBe('BadRequestException');
    const missing = await failure(ses.send(new GetImportJobCommand({ JobId: 'nope' })));
    expect(missing.name).toBe('NotFoundException');
  });

  it('keeps a job PROCESSING for its configured processing time (hours, on the simulator clock), then applies it', async () => {
    // Prepare: jobs take three hours.
    sim.setImportProcessingMs(3 * 3_600_000);
    sim.seedSuppressions([{ EmailAddress: 'gone@example.com', Reason: 'BOUNCE' }]);
    const url = await upload('slow-delete.csv', 'gone@example.com,BOUNCE\n');
    const { JobId } = await ses.send(
      new CreateImportJobCommand({
        ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'DELETE' } },
        ImportDataSource: { S3Url: url, DataFormat: 'CSV' },
      }),
    );
    await sim.importJobsSettled();
    // Act + Assess: still running after 2 h 59 min, entry still listed; done at 3 h.
    now += 3 * 3_600_000 - 60_000;
    expect((await ses.send(new GetImportJobCommand({ JobId }))).JobStatus).toBe('PROCESSING');
    expect(sim.entries().map((e) => e.EmailAddress)).toEqual(['gone@example.com']);
    now += 60_000;
    expect(await ses.send(new GetImportJobCommand({ JobId }))).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 1, FailedRecordsCount: 0 });
    expect(sim.entries()).toEqual([]);
  });
});

describe('contact lists (unsubscribes)', () => {
  it('records an unsubscribe as a contact with UnsubscribeAll', async () => {
    await ses.send(
      new CreateContactListCommand({
        ContactListName: 'newsletter',
        Topics: [{ TopicName: 'weekly', DisplayName: 'Weekly digest', DefaultSubscriptionStatus: 'OPT_IN' }],
      }),
    );
    const dup = await failure(ses.send(new CreateContactListCommand({ ContactListName: 'newsletter' })));
    expect(dup.name).toBe('AlreadyExistsException');
    expect(dup.$metadata.httpStatusCode).toBe(400);
    const second = await failure(ses.send(new CreateContactListCommand({ ContactListName: 'other' })));
    expect(second.name).toBe('LimitExceededException');

    const list = await ses.send(new GetContactListCommand({ ContactListName: 'newsletter' }));
    expect(list.Topics).toEqual([{ TopicName: 'weekly', DisplayName: 'Weekly digest', DefaultSubscriptionStatus: 'OPT_IN' }]);

    await ses.send(new CreateContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com' }));
    await ses.send(new CreateContactCommand({ ContactListName: 'newsletter', EmailAddress: 'stays@example.com' }));
    const again = await failure(ses.send(new CreateContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com' })));
    expect(again.name).toBe('AlreadyExistsException');

    await ses.send(new UpdateContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com', UnsubscribeAll: true }));
    const contact = await ses.send(new GetContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com' }));
    expect(contact).toMatchObject({
      EmailAddress: 'reader@example.com',
      UnsubscribeAll: true,
      TopicDefaultPreferences: [{ TopicName: 'weekly', SubscriptionStatus: 'OPT_IN' }],
    });

    const optedOut = await ses.send(new ListContactsCommand({ ContactListName: 'newsletter', Filter: { FilteredStatus: 'OPT_OUT' } }));
    expect(optedOut.Contacts?.map((c) => c.EmailAddress)).toEqual(['reader@example.com']);

    await ses.send(
      new UpdateContactCommand({
        ContactListName: 'newsletter',
        EmailAddress: 'stays@example.com',
        TopicPreferences: [{ TopicName: 'weekly', SubscriptionStatus: 'OPT_OUT' }],
      }),
    );
    const weeklyOut = await ses.send(
      new ListContactsCommand({ ContactListName: 'newsletter', Filter: { FilteredStatus: 'OPT_OUT', TopicFilter: { TopicName: 'weekly' } } }),
    );
    expect(weeklyOut.Contacts?.map((c) => c.EmailAddress)).toEqual(['stays@example.com']);
    const unknownTopic = await failure(
      ses.send(
        new UpdateContactCommand({
          ContactListName: 'newsletter',
          EmailAddress: 'stays@example.com',
          TopicPreferences: [{ TopicName: 'nope', SubscriptionStatus: 'OPT_OUT' }],
        }),
      ),
    );
    expect(unknownTopic.name).toBe('BadRequestException');

    await ses.send(new DeleteContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com' }));
    const gone = await failure(ses.send(new GetContactCommand({ ContactListName: 'newsletter', EmailAddress: 'reader@example.com' })));
    expect(gone.name).toBe('NotFoundException');
    const noList = await failure(ses.send(new CreateContactCommand({ ContactListName: 'missing', EmailAddress: 'a@example.com' })));
    expect(noList.name).toBe('NotFoundException');
    expect(sim.contacts('newsletter')).toEqual([
      { EmailAddress: 'stays@example.com', UnsubscribeAll: false, TopicPreferences: [{ TopicName: 'weekly', SubscriptionStatus: 'OPT_OUT' }] },
    ]);
  });
});

describe('HTTP control endpoints', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}/__sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('injects faults, seeds, sets the rate limit, reports state and resets over HTTP', async () => {
    expect((await post('faults', { faults: [{ status: 500 }] })).status).toBe(200);
    const error = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' })));
    expect(error.$metadata.httpStatusCode).toBe(500);

    expect((await post('suppressions', [{ EmailAddress: 'seeded@example.com', Reason: 'BOUNCE', LastUpdateTime: '2024-01-01T00:00:00Z' }])).status).toBe(200);
    const got = await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'seeded@example.com' }));
    expect(got.SuppressedDestination?.LastUpdateTime?.toISOString()).toBe('2024-01-01T00:00:00.000Z');

    expect((await post('rate-limit', { perSecond: 1 })).status).toBe(200);
    await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'seeded@example.com' }));
    const throttled = await failure(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: 'seeded@example.com' })));
    expect(throttled.name).toBe('TooManyRequestsException');

    const state = (await (await fetch(`${sim.url}/__sim/state`)).json()) as { calls: Record<string, number>; throttled: Record<string, number>; entries: unknown[] };
    expect(state.calls).toEqual({ GetSuppressedDestination: 4 });
    expect(state.throttled).toEqual({ GetSuppressedDestination: 1 });
    expect(state.entries).toHaveLength(1);

    expect((await post('rate-limit', { perSecond: 'fast' })).status).toBe(400);
    expect((await post('reset', {})).status).toBe(200);
    expect(sim.entries()).toEqual([]);
    expect(sim.calls).toEqual({});
  });
});
