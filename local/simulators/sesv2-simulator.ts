/**
 * A local stand-in for the slice of the Amazon SES API v2 (REST-JSON) that mailbridge uses:
 * the account-level suppression list, suppression-list import jobs and contact lists
 * (unsubscribes). No emulator covers these (fauxqs and LocalStack's free tier don't), so
 * this follows the documented behaviour, limits included, and is checked with the real
 * `@aws-sdk/client-sesv2` client.
 *
 * Paths, member names and error recognition come from the SDK's own protocol schema
 * (node_modules/@aws-sdk/client-sesv2/dist-cjs/index.js, e.g. `PutSuppressedDestination$`;
 * errors are matched on the `x-amzn-ErrorType` header by @smithy/core's `loadErrorCode`).
 * API reference: https://docs.aws.amazon.com/ses/latest/APIReference-V2/Welcome.html
 *
 * Test controls exist twice: as methods on the returned handle, and over HTTP under
 * `/__sim/` (a prefix SES never uses) for when the simulator runs in another process:
 *   GET    /__sim/state        calls, throttled, pending faults, rate limit, entries, jobs, contact lists
 *   POST   /__sim/faults       body `[{status?, count?, delayMs?, operation?, match?}]` or `{faults: [...]}`
 *   DELETE /__sim/faults       drop pending faults
 *   POST   /__sim/reset        forget everything, restore the start options
 *   POST   /__sim/rate-limit   body `{perSecond, burst?}`, or `null` to switch limiting off
 *   POST   /__sim/suppressions body `[{EmailAddress, Reason, LastUpdateTime?, MessageId?, FeedbackId?}]`
 *                              seeds entries without touching the rate limit
 *   POST   /__sim/import-processing body `{ms}`: how long each new import job stays PROCESSING
 *                              before its records apply (SES documents no processing time;
 *                              a real job can take hours). Measured on the simulator's clock.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import {
  answerControl,
  CONTROL_PREFIX,
  Counter,
  FaultQueue,
  listen,
  parseJson,
  readBody,
  sendJson,
  SimulatorRequestError,
  realClock,
  sleep,
  type SimClock,
  type ControlPlane,
  type Fault,
  requestText,
} from './sim-support.ts';

type SuppressionReason = 'BOUNCE' | 'COMPLAINT';
type ImportJobStatus = 'CREATED' | 'PROCESSING' | 'COMPLETED' | 'FAILED';

/**
 * SES API v2 quota for non-sending actions: 1 request per second. Documented on the 2023
 * quotas page (https://docs.aws.amazon.com/ses/latest/dg/quotas.html, "API v2 actions");
 * unconfirmed for today's accounts, hence configurable.
 */
const DEFAULT_RATE_LIMIT = { perSecond: 1, burst: 1 } as const;

/**
 * Bulk import limits per S3 object: 100,000 addresses to add, 10,000 to remove
 * (https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html,
 * "Adding/Removing email addresses in bulk").
 */
const IMPORT_LIMITS = { PUT: 100_000, DELETE: 10_000 } as const;

/** Largest PageSize accepted; SES API v2 list operations document "no more than 1000". */
const MAX_PAGE_SIZE = 1000;

/**
 * SES list management allows one contact list per account
 * (https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html).
 */
const DEFAULT_MAX_CONTACT_LISTS = 1;

export interface Sesv2Fault extends Fault {
  status?: 429 | 500 | 503;
}

export interface RateLimit {
  perSecond: number;
  /** Bucket size; defaults to max(1, perSecond). */
  burst?: number;
}

export interface Sesv2SimulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Where CreateImportJob reads `s3://bucket/key` from (e.g. fauxqs). */
  s3?: {
    endpoint: string;
    forcePathStyle?: boolean;
    region?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
  /** Token bucket over all SES operations; `null` switches limiting off. Default 1/s. */
  rateLimit?: RateLimit | null;
  maxContactLists?: number;
  /** Delay before an import job leaves CREATED, so callers can observe the state. Default 0. */
  importJobDelayMs?: number;
  /**
   * How long an import job stays PROCESSING (its file read and checked) before its records
   * apply and it reports COMPLETED, on `clock`. Default 0 (at once).
   */
  importJobProcessingMs?: number;
  /** Time for the rate limit's token bucket (default: real time). */
  clock?: SimClock;
}

interface SuppressedEntry {
  EmailAddress: string;
  Reason: SuppressionReason;
  /** ISO 8601. */
  LastUpdateTime: string;
  Attributes: { MessageId?: string; FeedbackId?: string };
}

interface SeedSuppression {
  EmailAddress: string;
  Reason: SuppressionReason;
  LastUpdateTime?: Date | string | number;
  MessageId?: string;
  FeedbackId?: string;
}

interface ImportJobSnapshot {
  JobId: string;
  JobStatus: ImportJobStatus;
  Action: 'PUT' | 'DELETE';
  S3Url: string;
  DataFormat: 'CSV' | 'JSON';
  ProcessedRecordsCount: number;
  FailedRecordsCount: number;
  ErrorMessage?: string;
}

interface ContactSnapshot {
  EmailAddress: string;
  UnsubscribeAll: boolean;
  TopicPreferences: TopicPreference[];
  AttributesData?: string;
}

export interface Sesv2Simulator {
  url: string;
  region: string;
  stop(): Promise<void>;
  injectFaults(faults: Sesv2Fault[]): void;
  clearFaults(): void;
  /** Requests received per operation (throttled and faulted ones included). */
  readonly calls: Record<string, number>;
  /** Requests answered 429 by the rate limiter, per operation. */
  readonly throttled: Record<string, number>;
  reset(): void;
  entries(): SuppressedEntry[];
  seedSuppressions(entries: SeedSuppression[]): void;
  setRateLimit(limit: RateLimit | null): void;
  importJobs(): ImportJobSnapshot[];
  contacts(contactListName: string): ContactSnapshot[];
  /** Resolves once every import job created so far has read its file (COMPLETED, FAILED, or PROCESSING for its processing time). */
  importJobsSettled(): Promise<void>;
  /** Processing time of import jobs created from now on. */
  setImportProcessingMs(ms: number): void;
}

interface TopicPreference {
  TopicName: string;
  SubscriptionStatus: 'OPT_IN' | 'OPT_OUT';
}

interface Topic {
  TopicName: string;
  DisplayName: string;
  DefaultSubscriptionStatus: 'OPT_IN' | 'OPT_OUT';
  Description?: string;
}

interface StoredSuppression {
  EmailAddress: string;
  Reason: SuppressionReason;
  LastUpdateTime: Date;
  MessageId?: string;
  FeedbackId?: string;
}

interface ImportJob {
  JobId: string;
  ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' | 'DELETE' } };
  ImportDataSource: { S3Url: string; DataFormat: 'CSV' | 'JSON' };
  JobStatus: ImportJobStatus;
  CreatedTimestamp: Date;
  CompletedTimestamp?: Date;
  ProcessedRecordsCount: number;
  FailedRecordsCount: number;
  ErrorMessage?: string;
  /** While PROCESSING with a processing time: when its records apply, and what it applies. */
  readyAt?: number;
  apply?: () => void;
}

interface StoredContact {
  EmailAddress: string;
  TopicPreferences: TopicPreference[];
  UnsubscribeAll: boolean;
  AttributesData?: string;
  CreatedTimestamp: Date;
  LastUpdatedTimestamp: Date;
}

interface StoredContactList {
  ContactListName: string;
  Description?: string;
  Topics: Topic[];
  Tags: Array<{ Key: string; Value: string }>;
  CreatedTimestamp: Date;
  LastUpdatedTimestamp: Date;
  contacts: Map<string, StoredContact>;
}

/** An error SES would return; `type` becomes `err.name` in the SDK. */
class Sesv2ServiceError extends Error {
  override name = 'Sesv2ServiceError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new Sesv2ServiceError(400, 'BadRequestException', message);
const notFound = (message: string) => new Sesv2ServiceError(404, 'NotFoundException', message);
const alreadyExists = (message: string) => new Sesv2ServiceError(400, 'AlreadyExistsException', message);

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly clock: SimClock,
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function makeBucket(limit: RateLimit | null | undefined, clock: SimClock): TokenBucket | null {
  if (limit === null) return null;
  const { perSecond, burst } = limit ?? DEFAULT_RATE_LIMIT;
  if (!(perSecond > 0)) throw new SimulatorRequestError('rateLimit.perSecond must be > 0');
  return new TokenBucket(perSecond, burst ?? Math.max(1, perSecond), clock);
}

// Route table straight from the SDK's `{ [_h]: [method, path, 200] }` traits.
const ROUTES: Array<{ method: string; path: string; op: string }> = [
  { method: 'PUT', path: '/v2/email/suppression/addresses', op: 'PutSuppressedDestination' },
  { method: 'GET', path: '/v2/email/suppression/addresses', op: 'ListSuppressedDestinations' },
  { method: 'GET', path: '/v2/email/suppression/addresses/{EmailAddress}', op: 'GetSuppressedDestination' },
  { method: 'DELETE', path: '/v2/email/suppression/addresses/{EmailAddress}', op: 'DeleteSuppressedDestination' },
  { method: 'POST', path: '/v2/email/import-jobs', op: 'CreateImportJob' },
  { method: 'GET', path: '/v2/email/import-jobs/{JobId}', op: 'GetImportJob' },
  { method: 'POST', path: '/v2/email/contact-lists', op: 'CreateContactList' },
  { method: 'GET', path: '/v2/email/contact-lists', op: 'ListContactLists' },
  { method: 'GET', path: '/v2/email/contact-lists/{ContactListName}', op: 'GetContactList' },
  { method: 'DELETE', path: '/v2/email/contact-lists/{ContactListName}', op: 'DeleteContactList' },
  { method: 'POST', path: '/v2/email/contact-lists/{ContactListName}/contacts', op: 'CreateContact' },
  { method: 'POST', path: '/v2/email/contact-lists/{ContactListName}/contacts/list', op: 'ListContacts' },
  { method: 'GET', path: '/v2/email/contact-lists/{ContactListName}/contacts/{EmailAddress}', op: 'GetContact' },
  { method: 'PUT', path: '/v2/email/contact-lists/{ContactListName}/contacts/{EmailAddress}', op: 'UpdateContact' },
  { method: 'DELETE', path: '/v2/email/contact-lists/{ContactListName}/contacts/{EmailAddress}', op: 'DeleteContact' },
];

function matchRoute(method: string, pathname: string): { op: string; params: Record<string, string> } | undefined {
  const segments = pathname.split('/');
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i] as string;
      const s = segments[i] as string;
      if (p.startsWith('{')) {
        if (s === '') ok = false;
        else params[p.slice(1, -1)] = decodeURIComponent(s);
      } else if (p !== s) ok = false;
    }
    if (ok) return { op: route.op, params };
  }
  return undefined;
}

/** restJson1 puts timestamps in bodies as epoch seconds. */
const epoch = (d: Date): number => d.getTime() / 1000;

/** Query timestamps arrive as ISO 8601 (restJson1 default); epoch seconds also accepted. */
function parseQueryDate(value: string | null, name: string): Date | undefined {
  if (value === null) return undefined;
  const d = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest(`Invalid ${name}: ${value}`);
  return d;
}

function toDate(value: Date | string | number | undefined): Date {
  if (value === undefined) return new Date();
  if (value instanceof Date) return value;
  return typeof value === 'number' ? new Date(value * 1000) : new Date(value);
}

const isReason = (v: unknown): v is SuppressionReason => v === 'BOUNCE' || v === 'COMPLAINT';
const isStatus = (v: unknown): v is 'OPT_IN' | 'OPT_OUT' => v === 'OPT_IN' || v === 'OPT_OUT';
// SES rejects malformed addresses with BadRequestException; a loose check is enough here.
const looksLikeEmail = (v: unknown): v is string => typeof v === 'string' && /^[^\s@]+@[^\s@]+$/.test(v);

function encodeToken(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

function decodeToken(token: string | null | undefined): string | undefined {
  if (token === null || token === undefined || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through
  }
  throw badRequest('Invalid NextToken');
}

function parsePageSize(value: unknown): number {
  // SES does not document the default page size; the maximum is used (unconfirmed).
  if (value === undefined || value === null || value === '') return MAX_PAGE_SIZE;
  const n = Number(value);
  // Out-of-range sizes are rejected rather than clamped (unconfirmed which SES does):
  // a client that relies on clamping would break here first, not in production.
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw badRequest(`PageSize must be between 1 and ${MAX_PAGE_SIZE}`);
  return n;
}

/** Sorted by key, paged with an opaque "after key" cursor: stable under concurrent inserts and deletes. */
function page<T>(items: T[], key: (t: T) => string, pageSize: number, token: string | undefined): { items: T[]; next?: string } {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const start = token === undefined ? 0 : sorted.findIndex((t) => key(t) > token);
  const from = start < 0 ? sorted.length : start;
  const slice = sorted.slice(from, from + pageSize);
  const last = slice.at(-1);
  return from + pageSize < sorted.length && last !== undefined ? { items: slice, next: encodeToken(key(last)) } : { items: slice };
}

const CSV_OPTIONS = { trim: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true } as const;

/**
 * The rows of a CSV file; fields may be double-quoted with `""` escapes (RFC 4180). Read with
 * csv-parse, the CSV library the app uses too, and not with the app's own line splitter
 * (shared/domain/suppression-import.ts): the simulator stands in for SES, and a rule of our
 * own CSV handling must not be mirrored by the provider that is supposed to catch it. A file
 * with malformed quoting is read line by line, and a line csv-parse refuses is a failed record.
 */
function csvRecords(text: string, lines: string[]): Array<string[] | null> {
  try {
    const rows = parseCsv(text, CSV_OPTIONS) as string[][];
    if (rows.length === lines.length) return rows;
  } catch {
    // fall through: line by line
  }
  return lines.map((line) => {
    try {
      return (parseCsv(line, CSV_OPTIONS) as string[][])[0] ?? [''];
    } catch {
      return null;
    }
  });
}

interface ImportRecord {
  email?: string;
  reason?: string;
}

/**
 * File formats per the developer guide: CSV rows `recipient@example.com,BOUNCE` (spaces after
 * the comma are tolerated, as in the guide's own example), or newline-delimited JSON objects
 * `{"emailAddress": "...", "reason": "BOUNCE"}`. For DELETE only the address is needed. The
 * guide shows no header row, so a header line is not skipped: it counts as a failed record.
 */
function parseImportFile(text: string, format: 'CSV' | 'JSON'): Array<ImportRecord | null> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (format === 'CSV') {
    return csvRecords(text, lines).map((fields) => {
      if (fields === null) return null;
      const [email, reason, ...rest] = fields;
      return rest.length > 0 ? null : { ...(email ? { email } : {}), ...(reason ? { reason } : {}) };
    });
  }
  return lines.map((line) => {
    try {
      const obj = JSON.parse(line) as unknown;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
      const { emailAddress, reason } = obj as { emailAddress?: unknown; reason?: unknown };
      return {
        ...(typeof emailAddress === 'string' ? { email: emailAddress } : {}),
        ...(typeof reason === 'string' ? { reason } : {}),
      };
    } catch {
      return null;
    }
  });
}

const seedSchema = z.array(
  z.object({
    EmailAddress: z.string(),
    Reason: z.enum(['BOUNCE', 'COMPLAINT']),
    LastUpdateTime: z.union([z.string(), z.number()]).optional(),
    MessageId: z.string().optional(),
    FeedbackId: z.string().optional(),
  }),
);
const rateLimitSchema = z.object({ perSecond: z.number().positive(), burst: z.number().positive().optional() }).nullable();

export async function startSesv2Simulator(opts: Sesv2SimulatorOptions = {}): Promise<Sesv2Simulator> {
  const region = opts.region ?? 'us-east-1';
  const maxContactLists = opts.maxContactLists ?? DEFAULT_MAX_CONTACT_LISTS;
  const suppressions = new Map<string, StoredSuppression>();
  const jobs = new Map<string, ImportJob>();
  const contactLists = new Map<string, StoredContactList>();
  const runningJobs = new Set<Promise<void>>();
  const calls = new Counter();
  const throttled = new Counter();
  const faults = new FaultQueue();
  let rateLimit: RateLimit | null = opts.rateLimit === undefined ? { ...DEFAULT_RATE_LIMIT } : opts.rateLimit;
  const clock = opts.clock ?? realClock;
  let processingMs = opts.importJobProcessingMs ?? 0;
  let bucket = makeBucket(rateLimit, clock);
  let s3: S3Client | undefined;

  function s3Client(): S3Client {
    if (!opts.s3) throw new Error('the simulator was started without an `s3` endpoint to read import files from');
    s3 ??= new S3Client({
      endpoint: opts.s3.endpoint,
      forcePathStyle: opts.s3.forcePathStyle ?? true,
      region: opts.s3.region ?? region,
      credentials: opts.s3.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    return s3;
  }

  function put(entry: StoredSuppression): void {
    // Exact-case key: the SES management APIs treat `User@x` and `user@x` as different entries.
    suppressions.set(entry.EmailAddress, entry);
  }

  async function runImportJob(job: ImportJob): Promise<void> {
    if (opts.importJobDelayMs) await sleep(opts.importJobDelayMs);
    job.JobStatus = 'PROCESSING';
    const action = job.ImportDestination.SuppressionListDestination.SuppressionListImportAction;
    const fail = (message: string) => {
      job.JobStatus = 'FAILED';
      job.ErrorMessage = message;
      job.CompletedTimestamp = new Date();
    };
    let text: string;
    try {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(job.ImportDataSource.S3Url) as RegExpExecArray;
      const out = await s3Client().send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
      text = (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      fail(`Unable to read ${job.ImportDataSource.S3Url}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const records = parseImportFile(text, job.ImportDataSource.DataFormat);
    const limit = IMPORT_LIMITS[action];
    if (records.length > limit) {
      // Over the documented per-object limit: nothing is applied.
      fail(`The import file contains ${records.length} records; the maximum for ${action} is ${limit}.`);
      return;
    }
    let failed = 0;
    const valid: Array<{ email: string; reason?: string }> = [];
    for (const record of records) {
      if (!record || !looksLikeEmail(record.email) || (action === 'PUT' && !isReason(record.reason))) {
        failed++;
        continue;
      }
      valid.push(record as { email: string; reason?: string });
    }
    const apply = () => {
      const now = new Date();
      for (const record of valid) {
        if (action === 'PUT') put({ EmailAddress: record.email, Reason: record.reason as SuppressionReason, LastUpdateTime: now });
        // Removing an address that is not listed is not counted as a failure (unconfirmed).
        else suppressions.delete(record.email);
      }
      // ProcessedRecordsCount counts every record read, failed ones included; SES's API reference
      // ("The current number of records processed") leaves this open.
      job.ProcessedRecordsCount = records.length;
      job.FailedRecordsCount = failed;
      job.JobStatus = 'COMPLETED';
      job.CompletedTimestamp = new Date();
      delete job.readyAt;
      delete job.apply;
    };
    if (processingMs > 0) {
      job.readyAt = clock() + processingMs;
      job.apply = apply;
    } else apply();
  }

  /** Jobs whose processing time is over complete now (checked on every request and snapshot). */
  function settleDueJobs(): void {
    const now = clock();
    for (const job of jobs.values()) if (job.apply && job.readyAt !== undefined && job.readyAt <= now) job.apply();
  }

  function requireList(name: string): StoredContactList {
    const list = contactLists.get(name);
    if (!list) throw notFound(`List with name ${name} does not exist.`);
    return list;
  }

  function parseTopicPreferences(value: unknown, list: StoredContactList): TopicPreference[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw badRequest('TopicPreferences must be a list');
    return value.map((p: unknown) => {
      const { TopicName, SubscriptionStatus } = (p ?? {}) as Record<string, unknown>;
      if (typeof TopicName !== 'string' || !isStatus(SubscriptionStatus)) throw badRequest('Invalid TopicPreference');
      if (!list.Topics.some((t) => t.TopicName === TopicName)) throw badRequest(`Topic ${TopicName} does not exist in list ${list.ContactListName}.`);
      return { TopicName, SubscriptionStatus };
    });
  }

  const topicDefaults = (list: StoredContactList): TopicPreference[] =>
    list.Topics.map((t) => ({ TopicName: t.TopicName, SubscriptionStatus: t.DefaultSubscriptionStatus }));

  function contactMatches(contact: StoredContact, list: StoredContactList, filter: Record<string, unknown> | undefined): boolean {
    if (!filter || filter.FilteredStatus === undefined) return true;
    const wanted = filter.FilteredStatus;
    const topicFilter = filter.TopicFilter as { TopicName?: string; UseDefaultIfPreferenceUnavailable?: boolean } | undefined;
    if (!topicFilter?.TopicName) {
      // Without a topic the filter is read as the list-wide status (unconfirmed).
      return (wanted === 'OPT_OUT') === contact.UnsubscribeAll;
    }
    const explicit = contact.TopicPreferences.find((p) => p.TopicName === topicFilter.TopicName);
    const fallback = topicFilter.UseDefaultIfPreferenceUnavailable
      ? list.Topics.find((t) => t.TopicName === topicFilter.TopicName)?.DefaultSubscriptionStatus
      : undefined;
    const status = explicit?.SubscriptionStatus ?? fallback;
    return status === wanted;
  }

  async function operate(op: string, params: Record<string, string>, url: URL, body: Record<string, unknown>): Promise<unknown> {
    switch (op) {
      case 'PutSuppressedDestination': {
        if (body.TenantName !== undefined) throw badRequest('TenantName is not simulated');
        if (!looksLikeEmail(body.EmailAddress)) throw badRequest('Invalid EmailAddress');
        if (!isReason(body.Reason)) throw badRequest('Reason must be BOUNCE or COMPLAINT');
        put({ EmailAddress: body.EmailAddress, Reason: body.Reason, LastUpdateTime: new Date() });
        return {};
      }
      case 'GetSuppressedDestination': {
        const entry = suppressions.get(params.EmailAddress as string);
        if (!entry) throw notFound(`Email address ${params.EmailAddress} does not exist on your suppression list.`);
        return {
          SuppressedDestination: {
            EmailAddress: entry.EmailAddress,
            Reason: entry.Reason,
            LastUpdateTime: epoch(entry.LastUpdateTime),
            Attributes: {
              ...(entry.MessageId ? { MessageId: entry.MessageId } : {}),
              ...(entry.FeedbackId ? { FeedbackId: entry.FeedbackId } : {}),
            },
          },
        };
      }
      case 'DeleteSuppressedDestination': {
        if (!suppressions.delete(params.EmailAddress as string)) {
          throw notFound(`Email address ${params.EmailAddress} does not exist on your suppression list.`);
        }
        return {};
      }
      case 'ListSuppressedDestinations': {
        const q = url.searchParams;
        if (q.has('TenantName')) throw badRequest('TenantName is not simulated');
        const reasons = q.getAll('Reason');
        if (!reasons.every(isReason)) throw badRequest('Reason must be BOUNCE or COMPLAINT');
        const start = parseQueryDate(q.get('StartDate'), 'StartDate');
        const end = parseQueryDate(q.get('EndDate'), 'EndDate');
        const pageSize = parsePageSize(q.get('PageSize'));
        const after = decodeToken(q.get('NextToken'));
        // Both date bounds are inclusive (unconfirmed).
        const matching = [...suppressions.values()].filter(
          (e) =>
            (reasons.length === 0 || reasons.includes(e.Reason)) &&
            (!start || e.LastUpdateTime >= start) &&
            (!end || e.LastUpdateTime <= end),
        );
        const result = page(matching, (e) => e.EmailAddress, pageSize, after);
        return {
          SuppressedDestinationSummaries: result.items.map((e) => ({
            EmailAddress: e.EmailAddress,
            Reason: e.Reason,
            LastUpdateTime: epoch(e.LastUpdateTime),
          })),
          ...(result.next ? { NextToken: result.next } : {}),
        };
      }
      case 'CreateImportJob': {
        const destination = body.ImportDestination as Record<string, unknown> | undefined;
        const source = body.ImportDataSource as Record<string, unknown> | undefined;
        if (!destination || !source) throw badRequest('ImportDestination and ImportDataSource are required');
        if (destination.ContactListDestination !== undefined) throw badRequest('ContactListDestination imports are not simulated');
        const action = (destination.SuppressionListDestination as Record<string, unknown> | undefined)?.SuppressionListImportAction;
        if (action !== 'PUT' && action !== 'DELETE') throw badRequest('SuppressionListImportAction must be PUT or DELETE');
        if (typeof source.S3Url !== 'string' || !/^s3:\/\/[^/]+\/.+$/.test(source.S3Url)) throw badRequest('S3Url must look like s3://bucket/key');
        if (source.DataFormat !== 'CSV' && source.DataFormat !== 'JSON') throw badRequest('DataFormat must be CSV or JSON');
        const job: ImportJob = {
          JobId: randomUUID(),
          ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: action } },
          ImportDataSource: { S3Url: source.S3Url, DataFormat: source.DataFormat },
          JobStatus: 'CREATED',
          CreatedTimestamp: new Date(),
          ProcessedRecordsCount: 0,
          FailedRecordsCount: 0,
        };
        jobs.set(job.JobId, job);
        const running: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => runImportJob(job))
          .catch((error: unknown) => {
            job.JobStatus = 'FAILED';
            job.ErrorMessage = error instanceof Error ? error.message : String(error);
          })
          .finally(() => runningJobs.delete(running));
        runningJobs.add(running);
        return { JobId: job.JobId };
      }
      case 'GetImportJob': {
        const job = jobs.get(params.JobId as string);
        if (!job) throw notFound(`Import job ${params.JobId} does not exist.`);
        return {
          JobId: job.JobId,
          ImportDestination: job.ImportDestination,
          ImportDataSource: job.ImportDataSource,
          JobStatus: job.JobStatus,
          CreatedTimestamp: epoch(job.CreatedTimestamp),
          ...(job.CompletedTimestamp ? { CompletedTimestamp: epoch(job.CompletedTimestamp) } : {}),
          ProcessedRecordsCount: job.ProcessedRecordsCount,
          FailedRecordsCount: job.FailedRecordsCount,
          ...(job.ErrorMessage ? { FailureInfo: { ErrorMessage: job.ErrorMessage } } : {}),
        };
      }
      case 'CreateContactList': {
        const name = body.ContactListName;
        if (typeof name !== 'string' || name === '') throw badRequest('ContactListName is required');
        if (contactLists.has(name)) throw alreadyExists(`List with name ${name} already exists.`);
        if (contactLists.size >= maxContactLists) {
          throw new Sesv2ServiceError(400, 'LimitExceededException', `You can have at most ${maxContactLists} contact list(s).`);
        }
        const topics = (Array.isArray(body.Topics) ? body.Topics : []).map((t: unknown) => {
          const { TopicName, DisplayName, DefaultSubscriptionStatus, Description } = (t ?? {}) as Record<string, unknown>;
          if (typeof TopicName !== 'string' || typeof DisplayName !== 'string' || !isStatus(DefaultSubscriptionStatus)) {
            throw badRequest('Each topic needs TopicName, DisplayName and DefaultSubscriptionStatus');
          }
          return { TopicName, DisplayName, DefaultSubscriptionStatus, ...(typeof Description === 'string' ? { Description } : {}) };
        });
        const now = new Date();
        contactLists.set(name, {
          ContactListName: name,
          ...(typeof body.Description === 'string' ? { Description: body.Description } : {}),
          Topics: topics,
          Tags: Array.isArray(body.Tags) ? (body.Tags as Array<{ Key: string; Value: string }>) : [],
          CreatedTimestamp: now,
          LastUpdatedTimestamp: now,
          contacts: new Map(),
        });
        return {};
      }
      case 'ListContactLists': {
        const pageSize = parsePageSize(url.searchParams.get('PageSize'));
        const result = page([...contactLists.values()], (l) => l.ContactListName, pageSize, decodeToken(url.searchParams.get('NextToken')));
        return {
          ContactLists: result.items.map((l) => ({ ContactListName: l.ContactListName, LastUpdatedTimestamp: epoch(l.LastUpdatedTimestamp) })),
          ...(result.next ? { NextToken: result.next } : {}),
        };
      }
      case 'GetContactList': {
        const list = requireList(params.ContactListName as string);
        return {
          ContactListName: list.ContactListName,
          Topics: list.Topics,
          ...(list.Description !== undefined ? { Description: list.Description } : {}),
          CreatedTimestamp: epoch(list.CreatedTimestamp),
          LastUpdatedTimestamp: epoch(list.LastUpdatedTimestamp),
          Tags: list.Tags,
        };
      }
      case 'DeleteContactList': {
        requireList(params.ContactListName as string);
        contactLists.delete(params.ContactListName as string);
        return {};
      }
      case 'CreateContact': {
        const list = requireList(params.ContactListName as string);
        if (!looksLikeEmail(body.EmailAddress)) throw badRequest('Invalid EmailAddress');
        // Exact-case like the suppression list (management APIs do not normalise addresses).
        if (list.contacts.has(body.EmailAddress)) throw alreadyExists(`Contact already exists in list ${list.ContactListName}.`);
        const now = new Date();
        list.contacts.set(body.EmailAddress, {
          EmailAddress: body.EmailAddress,
          TopicPreferences: parseTopicPreferences(body.TopicPreferences, list),
          UnsubscribeAll: body.UnsubscribeAll === true,
          ...(typeof body.AttributesData === 'string' ? { AttributesData: body.AttributesData } : {}),
          CreatedTimestamp: now,
          LastUpdatedTimestamp: now,
        });
        return {};
      }
      case 'GetContact': {
        const list = requireList(params.ContactListName as string);
        const contact = list.contacts.get(params.EmailAddress as string);
        if (!contact) throw notFound(`Contact ${params.EmailAddress} does not exist in list ${list.ContactListName}.`);
        return {
          ContactListName: list.ContactListName,
          EmailAddress: contact.EmailAddress,
          TopicPreferences: contact.TopicPreferences,
          TopicDefaultPreferences: topicDefaults(list),
          UnsubscribeAll: contact.UnsubscribeAll,
          ...(contact.AttributesData !== undefined ? { AttributesData: contact.AttributesData } : {}),
          CreatedTimestamp: epoch(contact.CreatedTimestamp),
          LastUpdatedTimestamp: epoch(contact.LastUpdatedTimestamp),
        };
      }
      case 'UpdateContact': {
        const list = requireList(params.ContactListName as string);
        const contact = list.contacts.get(params.EmailAddress as string);
        if (!contact) throw notFound(`Contact ${params.EmailAddress} does not exist in list ${list.ContactListName}.`);
        // Members left out keep their value (unconfirmed whether SES resets them).
        if (body.TopicPreferences !== undefined) contact.TopicPreferences = parseTopicPreferences(body.TopicPreferences, list);
        if (body.UnsubscribeAll !== undefined) contact.UnsubscribeAll = body.UnsubscribeAll === true;
        if (typeof body.AttributesData === 'string') contact.AttributesData = body.AttributesData;
        contact.LastUpdatedTimestamp = new Date();
        return {};
      }
      case 'DeleteContact': {
        const list = requireList(params.ContactListName as string);
        if (!list.contacts.delete(params.EmailAddress as string)) {
          throw notFound(`Contact ${params.EmailAddress} does not exist in list ${list.ContactListName}.`);
        }
        return {};
      }
      case 'ListContacts': {
        const list = requireList(params.ContactListName as string);
        const filter = body.Filter as Record<string, unknown> | undefined;
        const pageSize = parsePageSize(body.PageSize);
        const after = decodeToken(typeof body.NextToken === 'string' ? body.NextToken : undefined);
        const matching = [...list.contacts.values()].filter((c) => contactMatches(c, list, filter));
        const result = page(matching, (c) => c.EmailAddress, pageSize, after);
        return {
          Contacts: result.items.map((c) => ({
            EmailAddress: c.EmailAddress,
            TopicPreferences: c.TopicPreferences,
            TopicDefaultPreferences: topicDefaults(list),
            UnsubscribeAll: c.UnsubscribeAll,
            LastUpdatedTimestamp: epoch(c.LastUpdatedTimestamp),
          })),
          ...(result.next ? { NextToken: result.next } : {}),
        };
      }
      default:
        throw new Sesv2ServiceError(404, 'UnknownOperationException', `Unknown operation ${op}`);
    }
  }

  function sendAwsError(res: ServerResponse, status: number, type: string, message: string): void {
    sendJson(res, status, { message }, { 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
  }

  const entries = (): SuppressedEntry[] =>
    (settleDueJobs(), [...suppressions.values()])
      .sort((a, b) => (a.EmailAddress < b.EmailAddress ? -1 : a.EmailAddress > b.EmailAddress ? 1 : 0))
      .map((e) => ({
        EmailAddress: e.EmailAddress,
        Reason: e.Reason,
        LastUpdateTime: e.LastUpdateTime.toISOString(),
        Attributes: { ...(e.MessageId ? { MessageId: e.MessageId } : {}), ...(e.FeedbackId ? { FeedbackId: e.FeedbackId } : {}) },
      }));

  const importJobs = (): ImportJobSnapshot[] => {
    settleDueJobs();
    return [...jobs.values()].map((j) => ({
      JobId: j.JobId,
      JobStatus: j.JobStatus,
      Action: j.ImportDestination.SuppressionListDestination.SuppressionListImportAction,
      S3Url: j.ImportDataSource.S3Url,
      DataFormat: j.ImportDataSource.DataFormat,
      ProcessedRecordsCount: j.ProcessedRecordsCount,
      FailedRecordsCount: j.FailedRecordsCount,
      ...(j.ErrorMessage ? { ErrorMessage: j.ErrorMessage } : {}),
    }));
  };

  const contacts = (name: string): ContactSnapshot[] =>
    [...(contactLists.get(name)?.contacts.values() ?? [])].map((c) => ({
      EmailAddress: c.EmailAddress,
      UnsubscribeAll: c.UnsubscribeAll,
      TopicPreferences: c.TopicPreferences,
      ...(c.AttributesData !== undefined ? { AttributesData: c.AttributesData } : {}),
    }));

  const seedSuppressions = (seed: SeedSuppression[]): void => {
    for (const s of seed) {
      put({
        EmailAddress: s.EmailAddress,
        Reason: s.Reason,
        LastUpdateTime: toDate(s.LastUpdateTime),
        ...(s.MessageId ? { MessageId: s.MessageId } : {}),
        ...(s.FeedbackId ? { FeedbackId: s.FeedbackId } : {}),
      });
    }
  };

  const setRateLimit = (limit: RateLimit | null): void => {
    bucket = makeBucket(limit, clock);
    rateLimit = limit;
  };

  const reset = (): void => {
    suppressions.clear();
    jobs.clear();
    contactLists.clear();
    calls.clear();
    throttled.clear();
    faults.clear();
    setRateLimit(opts.rateLimit === undefined ? { ...DEFAULT_RATE_LIMIT } : opts.rateLimit);
    processingMs = opts.importJobProcessingMs ?? 0;
  };

  const controlPlane: ControlPlane = {
    faults,
    reset,
    state: () => ({
      calls: calls.toJSON(),
      throttled: throttled.toJSON(),
      faults: faults.snapshot(),
      rateLimit,
      entries: entries(),
      importJobs: importJobs(),
      contactLists: [...contactLists.keys()].map((name) => ({ name, contacts: contacts(name) })),
    }),
    endpoints: {
      'POST import-processing': (body) => {
        const { ms } = z.object({ ms: z.number().min(0) }).parse(parseJson(body));
        processingMs = ms;
        return { importProcessingMs: processingMs };
      },
      'POST rate-limit': (body) => {
        const limit = rateLimitSchema.parse(parseJson(body));
        setRateLimit(limit === null ? null : { perSecond: limit.perSecond, ...(limit.burst !== undefined ? { burst: limit.burst } : {}) });
        return { rateLimit };
      },
      'POST suppressions': (body) => {
        const raw = parseJson(body);
        const list = seedSchema.parse(Array.isArray(raw) ? raw : (raw as { entries?: unknown }).entries);
        seedSuppressions(
          list.map((s) => ({
            EmailAddress: s.EmailAddress,
            Reason: s.Reason,
            ...(s.LastUpdateTime !== undefined ? { LastUpdateTime: s.LastUpdateTime } : {}),
            ...(s.MessageId ? { MessageId: s.MessageId } : {}),
            ...(s.FeedbackId ? { FeedbackId: s.FeedbackId } : {}),
          })),
        );
        return { count: suppressions.size };
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readBody(req);
    settleDueJobs();
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      answerControl(controlPlane, req.method, url.pathname.slice(CONTROL_PREFIX.length), body, res);
      return;
    }
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    const op = route?.op ?? 'Unknown';
    calls.inc(op);
    // SigV4 is not verified, but the SDK always signs, so an unsigned request is a client bug.
    if (!req.headers.authorization) {
      sendAwsError(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      return;
    }
    const fault = faults.take(op, requestText(url.pathname, body));
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.status) {
      const type = fault.status === 429 ? 'TooManyRequestsException' : fault.status === 503 ? 'ServiceUnavailable' : 'InternalFailure';
      sendAwsError(res, fault.status, type, `Injected fault (${fault.status})`);
      return;
    }
    if (!route) {
      sendAwsError(res, 404, 'UnknownOperationException', `No SES v2 operation at ${req.method} ${url.pathname}`);
      return;
    }
    if (bucket && !bucket.take()) {
      throttled.inc(op);
      sendAwsError(res, 429, 'TooManyRequestsException', 'Too Many Requests');
      return;
    }
    try {
      const input = parseJson(body);
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('Request body must be a JSON object');
      const output = await operate(op, route.params, url, input as Record<string, unknown>);
      sendJson(res, 200, output, { 'x-amzn-requestid': randomUUID() });
    } catch (error) {
      if (error instanceof Sesv2ServiceError) sendAwsError(res, error.status, error.type, error.message);
      else if (error instanceof SimulatorRequestError) sendAwsError(res, error.status, 'BadRequestException', error.message);
      else throw error;
    }
  }

  const server = await listen(handle, opts.port ?? 0, opts.host ?? '127.0.0.1');

  return {
    url: server.url,
    region,
    async stop() {
      await Promise.allSettled([...runningJobs]);
      s3?.destroy();
      await server.stop();
    },
    injectFaults: (list) => faults.add(list),
    clearFaults: () => faults.clear(),
    get calls() {
      return calls.toJSON();
    },
    get throttled() {
      return throttled.toJSON();
    },
    reset,
    entries,
    seedSuppressions,
    setRateLimit,
    importJobs,
    contacts,
    async importJobsSettled() {
      await Promise.allSettled([...runningJobs]);
    },
    setImportProcessingMs(ms: number) {
      processingMs = ms;
    },
  };
}
