/**
 * Plumbing shared by the provider simulators in this folder: a `node:http` server that can
 * be stopped even while SDK clients hold keep-alive sockets, JSON request/response helpers,
 * and the fault queue behind `injectFaults()` / `POST /__sim/faults`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/** Path prefix of the simulators' own control API; no provider SDK ever calls it. */
export const CONTROL_PREFIX = '/__sim/';

export class SimulatorRequestError extends Error {
  override name = 'SimulatorRequestError';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface Fault {
  /** Status to answer with. Without one the request is only delayed, then served normally (slow mode). */
  status?: number;
  /** How many matching requests this fault applies to; default 1. */
  count?: number;
  /** Wait this long before answering (or before serving, in slow mode). */
  delayMs?: number;
  /** Only requests for this operation (see the simulator's `calls` keys) consume the fault. */
  operation?: string;
  /**
   * Only requests whose path or body contains this text (case-insensitive) consume the fault,
   * so a test can fail one address's calls whatever else is in flight.
   */
  match?: string;
  /** Mailtrap only: Retry-After seconds on an injected 429; `null` sends none. */
  retryAfter?: number | null;
}

const faultSchema = z.object({
  status: z.number().int().min(100).max(599).optional(),
  count: z.number().int().positive().optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  operation: z.string().optional(),
  match: z.string().min(1).optional(),
  retryAfter: z.number().int().min(0).nullable().optional(),
});

/** Accepts `[...]` or `{ "faults": [...] }`. */
const faultListSchema = z.union([z.array(faultSchema), z.object({ faults: z.array(faultSchema) }).transform((v) => v.faults)]);

interface PendingFault extends Fault {
  remaining: number;
}

/** First-in, first-out: a request consumes the first pending fault that matches its operation (and `match`). */
export class FaultQueue {
  private pending: PendingFault[] = [];

  add(faults: readonly Fault[]): void {
    for (const fault of faults) this.pending.push({ ...fault, remaining: fault.count ?? 1 });
  }

  /** `request` is the request's path and body, searched for a fault's `match`. */
  take(operation: string, request = ''): Fault | undefined {
    const haystack = request.toLowerCase();
    const index = this.pending.findIndex(
      (f) => (f.operation === undefined || f.operation === operation) && (f.match === undefined || haystack.includes(f.match.toLowerCase())),
    );
    if (index < 0) return undefined;
    const fault = this.pending[index] as PendingFault;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    const { remaining: _remaining, ...rest } = fault;
    return rest;
  }

  snapshot(): Array<Fault & { remaining: number }> {
    return this.pending.map((f) => ({ ...f }));
  }

  clear(): void {
    this.pending = [];
  }
}

/** What a fault's `match` is searched in: the decoded path and the body. */
export function requestText(pathname: string, body: Buffer): string {
  let path = pathname;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    // keep the raw path
  }
  return `${path}\n${body.toString('utf8')}`;
}

/**
 * Where a simulator reads the time for its rate limits (epoch ms). Real time by default; a
 * test hands its own so that "10 calls inside one 1 s window" holds however slowly a loaded
 * machine runs them, and "after Retry-After" is a step of the clock, not a sleep.
 */
export type SimClock = () => number;
export const realClock: SimClock = () => Date.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new SimulatorRequestError(`request body over ${limit} bytes`, 413);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; an empty body is `{}` (the AWS SDK sends none for bodiless inputs). */
export function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimulatorRequestError('request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

/** A simulator's control API (`/__sim/...`): the endpoints every simulator has, plus its own. */
export interface ControlPlane {
  faults: FaultQueue;
  reset(): void;
  /** What `GET /__sim/state` answers. */
  state(): Record<string, unknown>;
  /** Provider-specific endpoints keyed `METHOD path` (e.g. `POST rate-limit`); each returns the JSON answer. */
  endpoints: Record<string, (body: Buffer) => unknown>;
}

/**
 * Answers one control request: `GET state`, `POST faults`, `DELETE faults`, `POST reset`, then
 * the simulator's own endpoints; 404 for an unknown one, 400 with the message for bad input.
 */
export function answerControl(plane: ControlPlane, method: string | undefined, path: string, body: Buffer, res: ServerResponse): void {
  const key = `${method} ${path}`;
  try {
    switch (key) {
      case 'GET state':
        sendJson(res, 200, plane.state());
        return;
      case 'POST faults':
        plane.faults.add(faultListSchema.parse(parseJson(body)));
        sendJson(res, 200, { faults: plane.faults.snapshot() });
        return;
      case 'DELETE faults':
        plane.faults.clear();
        sendJson(res, 200, { faults: [] });
        return;
      case 'POST reset':
        plane.reset();
        sendJson(res, 200, { ok: true });
        return;
    }
    const endpoint = plane.endpoints[key];
    if (endpoint) sendJson(res, 200, endpoint(body));
    else sendJson(res, 404, { error: `no control endpoint ${key}` });
  } catch (error) {
    sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}

export interface ListeningServer {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0 = any free port). `stop()` also drops idle keep-alive
 * sockets: both the AWS SDK and the mailtrap SDK keep connections open, and `close()`
 * alone would wait for them.
 */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
): Promise<ListeningServer> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  // Longer than any client's idle keep-alive (undici 4 s, the AWS SDK's agent), so a client
  // never reuses a socket the server is closing at that moment ("other side closed"), a race
  // that a loaded machine's late timers made frequent.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${urlHost}:${address.port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Counts per key; serialises as a plain object. */
export class Counter {
  private counts = new Map<string, number>();

  inc(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  clear(): void {
    this.counts.clear();
  }
}
