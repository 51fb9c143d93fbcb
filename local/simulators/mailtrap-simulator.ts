/**
 * A local stand-in for Mailtrap's account API (https://mailtrap.io): sending domains and
 * suppressions, the part mailbridge syncs. Mailtrap has no local emulator, so this follows
 * the OpenAPI spec (github.com/mailtrap/mailtrap-openapi, specs/email-sending.openapi.yml)
 * and what the official `mailtrap` SDK 4.10 calls (node_modules/mailtrap/dist/lib/api/
 * resources/Suppressions.js, SendingDomains.js), and is checked with that SDK.
 *
 * Paths: the SDK still uses `/api/accounts/{account_id}/suppressions` and
 * `/api/accounts/{account_id}/sending_domains`; the spec moved to `/api/suppressions` and
 * `/api/domains` (and had `/api/sending_domains` in between). All are served; a request for
 * another account id gets 403 as the spec's Forbidden response.
 *
 * Test controls exist as methods on the handle and over HTTP under `/__sim/` (no auth):
 *   GET    /__sim/state        calls, throttled, pending faults, rate limits, entries, domains
 *   POST   /__sim/faults       body `[{status?, count?, delayMs?, operation?, match?, retryAfter?}]` or `{faults: [...]}`
 *   DELETE /__sim/faults       drop pending faults
 *   POST   /__sim/reset        forget everything, restore the start options
 *   POST   /__sim/rate-limits  body `{suppressions?: {limit, windowMs} | null, general?: ..., retryAfterHeader?: boolean}`
 *   POST   /__sim/suppressions body `[{email, domain_id?|domain_name?, sending_stream?, type?, created_at?, ...}]`
 *                              seeds records without touching the rate limits; answers `{data: [...]}`
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

type SendingStream = 'transactional' | 'bulk';
type SuppressionType = 'hard bounce' | 'unsubscription' | 'spam complaint' | 'manual import';

/** Shape of `components.schemas.Suppression` in the OpenAPI spec (and the SDK's `Suppression` type). */
export interface MailtrapSuppression {
  id: string;
  type: SuppressionType;
  created_at: string;
  email: string;
  /** The spec also lists `any` for records Mailtrap created itself. */
  sending_stream: SendingStream | 'any';
  domain_name: string | null;
  message_bounce_category: string | null;
  message_category: string | null;
  message_client_ip: string | null;
  message_created_at: string | null;
  message_esp_response: string | null;
  message_esp_server_type: string | null;
  message_outgoing_ip: string | null;
  message_recipient_mx_name: string | null;
  message_sender_email: string | null;
  message_subject: string | null;
}

interface RateWindow {
  limit: number;
  windowMs: number;
}

export interface MailtrapRateLimits {
  /** Suppression endpoints, per account. Documented: 10 requests per 60 s. */
  suppressions?: RateWindow | null;
  /** Every other endpoint, per token. Documented: 150 requests per 10 s. */
  general?: RateWindow | null;
  /** Whether a rate-limited 429 carries Retry-After (seconds). Default true; Mailtrap doesn't document it. */
  retryAfterHeader?: boolean;
}

/**
 * Rate limits from Mailtrap's docs: "Rate limit: 10 requests per minute per account" on the
 * suppression endpoints (OpenAPI, GET/POST /api/suppressions), 150 requests per 10 s per token
 * for the rest of the API (docs.mailtrap.io API rate limits; see /work/shared/reference/README.md).
 */
const DEFAULT_RATE_LIMITS = {
  suppressions: { limit: 10, windowMs: 60_000 },
  general: { limit: 150, windowMs: 10_000 },
  retryAfterHeader: true,
} as const;

/** "Returns up to 1000 suppressions per request" (OpenAPI, GET /api/suppressions). */
const SUPPRESSIONS_PAGE_SIZE = 1000;

export interface MailtrapFault extends Fault {
  status?: 429 | 500 | 502 | 503 | 504;
}

export interface MailtrapSimulatorOptions {
  port?: number;
  host?: string;
  token: string;
  accountId: number;
  domains?: Array<{ id: number; name: string }>;
  rateLimits?: MailtrapRateLimits;
  /** Time for the rate-limit windows (default: real time). */
  clock?: SimClock;
}

interface SeedSuppression {
  email: string;
  domain_id?: number;
  domain_name?: string | null;
  sending_stream?: SendingStream | 'any';
  type?: SuppressionType;
  created_at?: string;
  id?: string;
  message_bounce_category?: string | null;
  message_esp_response?: string | null;
  message_subject?: string | null;
}

export interface MailtrapSimulator {
  url: string;
  stop(): Promise<void>;
  injectFaults(faults: MailtrapFault[]): void;
  clearFaults(): void;
  /** Requests received per operation (rejected ones included). */
  readonly calls: Record<string, number>;
  /** Requests answered 429 by a rate limiter, per operation. */
  readonly throttled: Record<string, number>;
  reset(): void;
  entries(): MailtrapSuppression[];
  seed(entries: SeedSuppression[]): MailtrapSuppression[];
  setRateLimits(limits: MailtrapRateLimits): void;
}

class MailtrapClientRedirectError extends Error {
  override name = 'MailtrapClientRedirectError';
}

interface AxiosLike {
  interceptors: { request: { use(onFulfilled: (config: { url?: string }) => { url?: string }): number } };
}

/**
 * Points an official `MailtrapClient` (mailtrap 4.x) at the simulator. The SDK has no base-URL
 * option: every resource builds absolute URLs from the constant `https://mailtrap.io`
 * (dist/config/index.js, read when the modules load). What it does have is one axios instance
 * per client (private field `axios`, dist/lib/MailtrapClient.js), so a request interceptor
 * rewrites that origin. Only the account API origin is rewritten; the sending hosts are not simulated.
 */
export function redirectMailtrapClient(client: object, simulatorUrl: string, origin = 'https://mailtrap.io'): void {
  const axios = (client as { axios?: Partial<AxiosLike> }).axios;
  if (typeof axios?.interceptors?.request?.use !== 'function') {
    throw new MailtrapClientRedirectError('MailtrapClient has no axios instance in `axios`; the SDK internals changed');
  }
  const target = simulatorUrl.replace(/\/+$/, '');
  axios.interceptors.request.use((config) => {
    const url = config.url;
    if (url !== undefined && (url === origin || url.startsWith(`${origin}/`) || url.startsWith(`${origin}?`))) {
      config.url = target + url.slice(origin.length);
    }
    return config;
  });
}

interface StoredDomain {
  id: number;
  domain_name: string;
}

/** `components.schemas.Domain`; DNS details are fixed, the simulator only needs id and name. */
function domainJson(d: StoredDomain): Record<string, unknown> {
  return {
    id: d.id,
    domain_name: d.domain_name,
    demo: false,
    compliance_status: 'compliant',
    dns_verified: true,
    dns_verified_at: '2024-01-01T00:00:00.000Z',
    dns_records: [],
    open_tracking_enabled: false,
    click_tracking_enabled: false,
    auto_unsubscribe_link_enabled: false,
    custom_domain_tracking_enabled: false,
    health_alerts_enabled: false,
    critical_alerts_enabled: false,
    alert_recipient_email: null,
    permissions: { can_read: true, can_update: true, can_destroy: true },
  };
}

class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

// Error bodies as the spec's responses show them for mailtrap.io account endpoints.
const unauthorized = () => new HttpError(401, { error: 'Incorrect API token' });
const forbidden = () => new HttpError(403, { errors: 'Account access forbidden' });
const notFound = () => new HttpError(404, { error: 'Not Found' });
const badRequest = (error = 'Bad Request') => new HttpError(400, { error });
const unprocessable = (errors: Record<string, string[]>) => new HttpError(422, { errors });

/** Sliding-window log: a request is allowed if fewer than `limit` were allowed in the last `windowMs`. */
class SlidingWindow {
  private stamps: number[] = [];
  constructor(readonly config: RateWindow) {}

  /** Returns 0 when allowed (and records the request), else the milliseconds until a slot frees. */
  take(now: number): number {
    const cutoff = now - this.config.windowMs;
    while (this.stamps.length > 0 && (this.stamps[0] as number) <= cutoff) this.stamps.shift();
    if (this.stamps.length < this.config.limit) {
      this.stamps.push(now);
      return 0;
    }
    return (this.stamps[0] as number) + this.config.windowMs - now;
  }
}

type Operation = 'suppressions.list' | 'suppressions.create' | 'suppressions.delete' | 'domains.list' | 'domains.get';

function route(method: string, pathname: string): { op: Operation; accountId?: number; id?: string } | undefined {
  let rest = pathname.replace(/\/+$/, '');
  let accountId: number | undefined;
  const scoped = /^\/api\/accounts\/([^/]+)(\/.*)$/.exec(rest);
  if (scoped) {
    accountId = Number(scoped[1]);
    rest = `/api${scoped[2] as string}`;
  }
  const withAccount = <T extends object>(r: T) => (accountId === undefined ? r : { ...r, accountId });
  const m = /^\/api\/(suppressions|sending_domains|domains)(?:\/([^/]+))?$/.exec(rest);
  if (!m) return undefined;
  const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  if (m[1] === 'suppressions') {
    if (id === undefined && method === 'GET') return withAccount({ op: 'suppressions.list' as const });
    if (id === undefined && method === 'POST') return withAccount({ op: 'suppressions.create' as const });
    if (id !== undefined && method === 'DELETE') return withAccount({ op: 'suppressions.delete' as const, id });
    return undefined;
  }
  // `/api/domains` is the spec's current name; the SDK and older spec say `sending_domains`.
  if (scoped && m[1] === 'domains') return undefined;
  if (method !== 'GET') return undefined;
  return id === undefined ? withAccount({ op: 'domains.list' as const }) : withAccount({ op: 'domains.get' as const, id });
}

const STREAMS = ['transactional', 'bulk'] as const;
const TYPES = ['hard bounce', 'unsubscription', 'spam complaint', 'manual import'] as const;
const looksLikeEmail = (v: unknown): v is string => typeof v === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);

function parseTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(`Invalid ${name}`);
  return t;
}

const windowSchema = z.object({ limit: z.number().int().positive(), windowMs: z.number().int().positive() }).nullable().optional();
const rateLimitsSchema = z.object({ suppressions: windowSchema, general: windowSchema, retryAfterHeader: z.boolean().optional() });
const seedSchema = z.array(
  z.object({
    email: z.string(),
    domain_id: z.number().int().optional(),
    domain_name: z.string().nullable().optional(),
    sending_stream: z.enum(['transactional', 'bulk', 'any']).optional(),
    type: z.enum(TYPES).optional(),
    created_at: z.string().optional(),
    id: z.string().optional(),
    message_bounce_category: z.string().nullable().optional(),
    message_esp_response: z.string().nullable().optional(),
    message_subject: z.string().nullable().optional(),
  }),
);

interface ResolvedRateLimits {
  suppressions: RateWindow | null;
  general: RateWindow | null;
  retryAfterHeader: boolean;
}

function mergeLimits(base: ResolvedRateLimits, next: MailtrapRateLimits): ResolvedRateLimits {
  return {
    suppressions: next.suppressions === undefined ? base.suppressions : next.suppressions,
    general: next.general === undefined ? base.general : next.general,
    retryAfterHeader: next.retryAfterHeader ?? base.retryAfterHeader,
  };
}

function makeWindows(limits: ResolvedRateLimits): { suppressions: SlidingWindow | null; general: SlidingWindow | null } {
  return {
    suppressions: limits.suppressions ? new SlidingWindow(limits.suppressions) : null,
    general: limits.general ? new SlidingWindow(limits.general) : null,
  };
}

export async function startMailtrapSimulator(opts: MailtrapSimulatorOptions): Promise<MailtrapSimulator> {
  const domains: StoredDomain[] = (opts.domains ?? [{ id: 1, name: 'example.com' }]).map((d) => ({ id: d.id, domain_name: d.name }));
  /** Insertion order is the listing order; `last_id` continues after the named record. */
  const records = new Map<string, { seq: number; record: MailtrapSuppression }>();
  /** Sequence numbers of every id ever issued, so a deleted record still works as a cursor. */
  const seqOf = new Map<string, number>();
  let nextSeq = 1;
  const calls = new Counter();
  const throttled = new Counter();
  const faults = new FaultQueue();
  const clock = opts.clock ?? realClock;
  let limits: ResolvedRateLimits = mergeLimits({ ...DEFAULT_RATE_LIMITS }, opts.rateLimits ?? {});
  let windows = makeWindows(limits);

  function setRateLimits(next: MailtrapRateLimits): void {
    limits = mergeLimits(limits, next);
    // A changed limit starts with an empty window.
    windows = makeWindows(limits);
  }

  function initialLimits(): void {
    limits = mergeLimits({ ...DEFAULT_RATE_LIMITS }, opts.rateLimits ?? {});
    windows = makeWindows(limits);
  }

  function store(record: MailtrapSuppression): MailtrapSuppression {
    const seq = nextSeq++;
    records.set(record.id, { seq, record });
    seqOf.set(record.id, seq);
    return record;
  }

  function newRecord(fields: Partial<MailtrapSuppression> & Pick<MailtrapSuppression, 'email' | 'sending_stream' | 'domain_name'>): MailtrapSuppression {
    return {
      id: randomUUID(),
      type: 'manual import',
      created_at: new Date().toISOString(),
      message_bounce_category: null,
      message_category: null,
      message_client_ip: null,
      message_created_at: null,
      message_esp_response: null,
      message_esp_server_type: null,
      message_outgoing_ip: null,
      message_recipient_mx_name: null,
      message_sender_email: null,
      message_subject: null,
      ...fields,
    };
  }

  function list(q: URLSearchParams): MailtrapSuppression[] {
    const email = q.get('email');
    const start = parseTime(q.get('start_time'), 'start_time');
    const end = parseTime(q.get('end_time'), 'end_time');
    const lastId = q.get('last_id');
    let afterSeq = 0;
    if (lastId !== null && lastId !== '') {
      const seq = seqOf.get(lastId);
      // An id that never existed is rejected rather than read as "start over" (unconfirmed).
      if (seq === undefined) throw badRequest('Invalid last_id');
      afterSeq = seq;
    }
    const out: MailtrapSuppression[] = [];
    for (const { seq, record } of records.values()) {
      if (seq <= afterSeq) continue;
      // "Filter suppressions by exact email address (case-insensitive)" (OpenAPI).
      if (email !== null && email !== '' && record.email.toLowerCase() !== email.toLowerCase()) continue;
      const created = Date.parse(record.created_at);
      if (start !== undefined && created < start) continue;
      if (end !== undefined && created > end) continue;
      out.push(record);
      if (out.length === SUPPRESSIONS_PAGE_SIZE) break;
    }
    return out;
  }

  function create(body: unknown): { status: number; record: MailtrapSuppression } {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    if (b.email === undefined || b.email === '') errors.email = ["can't be blank"];
    else if (!looksLikeEmail(b.email)) errors.email = ['is invalid'];
    const domain = domains.find((d) => d.id === b.domain_id);
    if (!domain) errors.domain = ["can't be blank"];
    if (!STREAMS.includes(b.sending_stream as SendingStream)) errors.sending_stream = ['is invalid. Allowed values: transactional, bulk.'];
    if (b.type !== undefined && !TYPES.includes(b.type as SuppressionType)) errors.type = [`is invalid. Allowed values: ${TYPES.join(', ')}.`];
    if (Object.keys(errors).length > 0 || !domain) throw unprocessable(errors);
    const email = b.email as string;
    const stream = b.sending_stream as SendingStream;
    // Mailtrap does not document what a second POST for the same (email, domain, stream) does.
    // Chosen: idempotent, answer 200 with the existing record (201 only when one was created),
    // so a retried sync neither fails nor duplicates.
    for (const { record } of records.values()) {
      if (record.email.toLowerCase() === email.toLowerCase() && record.domain_name === domain.domain_name && record.sending_stream === stream) {
        return { status: 200, record };
      }
    }
    const record = store(
      newRecord({ email, sending_stream: stream, domain_name: domain.domain_name, type: (b.type as SuppressionType | undefined) ?? 'manual import' }),
    );
    return { status: 201, record };
  }

  function seed(entries: SeedSuppression[]): MailtrapSuppression[] {
    return entries.map((e) => {
      const byId = e.domain_id === undefined ? domains[0] : domains.find((d) => d.id === e.domain_id);
      if (e.domain_name === undefined && !byId) throw new SimulatorRequestError(`seed: no sending domain with id ${e.domain_id}`);
      const domainName = e.domain_name !== undefined ? e.domain_name : (byId?.domain_name ?? null);
      const { domain_id: _domainId, domain_name: _domainName, sending_stream, ...rest } = e;
      return store(newRecord({ ...rest, domain_name: domainName, sending_stream: sending_stream ?? 'transactional' }));
    });
  }

  const entries = (): MailtrapSuppression[] => [...records.values()].map((r) => ({ ...r.record }));

  const reset = (): void => {
    records.clear();
    seqOf.clear();
    calls.clear();
    throttled.clear();
    faults.clear();
    initialLimits();
  };

  function authorised(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const apiToken = req.headers['api-token'];
    return bearer === opts.token || apiToken === opts.token;
  }

  const controlPlane: ControlPlane = {
    faults,
    reset,
    state: () => ({
      calls: calls.toJSON(),
      throttled: throttled.toJSON(),
      faults: faults.snapshot(),
      rateLimits: limits,
      entries: entries(),
      domains: domains.map((d) => ({ id: d.id, name: d.domain_name })),
    }),
    endpoints: {
      'POST rate-limits': (body) => {
        const parsed = rateLimitsSchema.parse(parseJson(body));
        const next: MailtrapRateLimits = {};
        if (parsed.suppressions !== undefined) next.suppressions = parsed.suppressions;
        if (parsed.general !== undefined) next.general = parsed.general;
        if (parsed.retryAfterHeader !== undefined) next.retryAfterHeader = parsed.retryAfterHeader;
        setRateLimits(next);
        return { rateLimits: limits };
      },
      'POST suppressions': (body) => {
        const raw = parseJson(body);
        const parsed = seedSchema.parse(Array.isArray(raw) ? raw : (raw as { suppressions?: unknown }).suppressions);
        const created = seed(parsed.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as unknown as SeedSuppression));
        return { data: created };
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readBody(req);
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      answerControl(controlPlane, req.method, url.pathname.slice(CONTROL_PREFIX.length), body, res);
      return;
    }
    const matched = route(req.method ?? 'GET', url.pathname);
    const op = matched?.op ?? 'unknown';
    calls.inc(op);
    try {
      const fault = faults.take(op, requestText(url.pathname, body));
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.status === 429) {
        // Injected 429s carry Retry-After only when the fault names one.
        const headers: Record<string, string> = typeof fault.retryAfter === 'number' ? { 'retry-after': String(fault.retryAfter) } : {};
        throw new HttpError(429, { errors: 'Rate limit exceeded' }, headers);
      }
      if (fault?.status) throw new HttpError(fault.status, { error: `Injected fault (${fault.status})` });

      if (!authorised(req)) throw unauthorized();
      if (!matched) throw notFound();
      if (matched.accountId !== undefined && matched.accountId !== opts.accountId) throw forbidden();

      // Only accepted requests use up the window; a rejected one does not extend the wait (unconfirmed).
      const window = op.startsWith('suppressions.') ? windows.suppressions : windows.general;
      const waitMs = window?.take(clock()) ?? 0;
      if (waitMs > 0) {
        throttled.inc(op);
        const headers: Record<string, string> = limits.retryAfterHeader ? { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } : {};
        throw new HttpError(429, { errors: 'Rate limit exceeded' }, headers);
      }

      switch (matched.op) {
        case 'suppressions.list':
          sendJson(res, 200, list(url.searchParams));
          return;
        case 'suppressions.create': {
          const { status, record } = create(parseJson(body));
          sendJson(res, status, { data: record });
          return;
        }
        case 'suppressions.delete': {
          const found = records.get(matched.id as string);
          if (!found) throw notFound();
          records.delete(matched.id as string);
          sendJson(res, 200, found.record);
          return;
        }
        case 'domains.list':
          sendJson(res, 200, { data: domains.map(domainJson) });
          return;
        case 'domains.get': {
          const domain = domains.find((d) => String(d.id) === matched.id);
          if (!domain) throw notFound();
          sendJson(res, 200, domainJson(domain));
          return;
        }
      }
    } catch (error) {
      if (error instanceof HttpError) sendJson(res, error.status, error.body, error.headers);
      else if (error instanceof SimulatorRequestError) sendJson(res, error.status, { error: error.message });
      else throw error;
    }
  }

  const server = await listen(handle, opts.port ?? 0, opts.host ?? '127.0.0.1');

  return {
    url: server.url,
    stop: () => server.stop(),
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
    seed,
    setRateLimits,
  };
}
