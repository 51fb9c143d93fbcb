/**
 * Request pacing for provider APIs. Pure: the caller passes the time.
 *
 * A GCRA ("virtual scheduling") limiter: each request reserves the earliest slot that keeps
 * the rate, `interval = window / limit` apart, with `burst` requests allowed back to back.
 * Burst defaults to 1, i.e. strict spacing: Mailtrap counts a sliding 60 s window
 * (10 requests), and a burst of 10 followed by one every 6 s would put 11 requests in some
 * window; strict spacing never does. SES's 1 request/s is a token bucket; spacing 1 s apart
 * is its safe reading too.
 */
export class RateSpecError extends Error {
  override name = 'RateSpecError';
}

export interface RateSpec {
  limit: number;
  windowMs: number;
}

/** `9/60s`, `1/1000ms`, `10/1m`, `4/5s` (unit defaults to ms). */
export function parseRate(spec: string): RateSpec {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(spec);
  if (!m) throw new RateSpecError(`rate "${spec}" is not <requests>/<window>[ms|s|m|h]`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[3] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  const limit = Number(m[1]);
  const windowMs = Number(m[2]) * unit;
  if (!(limit > 0) || !(windowMs > 0)) throw new RateSpecError(`rate "${spec}" must be positive`);
  return { limit, windowMs };
}

export function intervalMs(rate: RateSpec): number {
  return rate.windowMs / rate.limit;
}

export class Pacer {
  /** Theoretical arrival time of the next request (ms since epoch). */
  private tat: number;
  private readonly interval: number;
  private readonly tolerance: number;

  constructor(rate: RateSpec, opts: { burst?: number; startAt?: number } = {}) {
    this.interval = intervalMs(rate);
    this.tolerance = (Math.max(1, opts.burst ?? 1) - 1) * this.interval;
    this.tat = opts.startAt ?? 0;
  }

  /** Reserve the earliest allowed time at or after `now` for one request. */
  reserve(now: number): number {
    const slot = Math.max(now, this.tat - this.tolerance);
    this.tat = Math.max(this.tat, slot) + this.interval;
    return slot;
  }

  /** Nothing may be sent before `until` (a 429's Retry-After applies to the whole account). */
  pauseUntil(until: number): void {
    this.tat = Math.max(this.tat, until + this.tolerance);
  }

  get intervalMs(): number {
    return this.interval;
  }

  /** For persistence between runs: the earliest time the next request may go. */
  nextFreeAt(): number {
    return this.tat - this.tolerance;
  }
}

/** When each of `n` requests would go, starting at `start`, at `rate`: the schedule a backlog produces. */
export function scheduleOf(n: number, rate: RateSpec, start = 0): { first: number; last: number; durationMs: number } {
  if (n <= 0) return { first: start, last: start, durationMs: 0 };
  const interval = intervalMs(rate);
  const last = start + (n - 1) * interval;
  return { first: start, last, durationMs: last - start };
}
