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
class RateSpecError extends Error {
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

  /**
   * Reserve a slot only if it is no later than `deadline`; otherwise reserve nothing, so a run
   * that ends does not push the next run's first slot one interval further out (with an
   * interval longer than the schedule's period that would starve the drain for good).
   */
  reserveBy(now: number, deadline: number): number | undefined {
    const slot = Math.max(now, this.tat - this.tolerance);
    return slot > deadline ? undefined : this.reserve(now);
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

export interface RunSchedule {
  /** Scheduled runs that made at least one call. */
  runs: number;
  /** When the last call goes, from the first run's start. */
  lastCallMs: number;
  /** Most calls one run makes. */
  callsPerRun: number;
}

/**
 * When `n` calls go out through a scheduled drain, as the drains make them: a run starts every
 * `everyMs`, works until `budgetMs` after its start, reserves each call's slot from a Pacer
 * that continues from the previous run's persisted next free slot, and ends at the first slot
 * past its deadline (as sync-drain.ts `PacedCalls` does, with `reserveBy`). Calls themselves
 * are taken to cost no time, so this is the pace's bound, not a prediction of I/O.
 */
export function scheduleRuns(n: number, rate: RateSpec, opts: { everyMs: number; budgetMs: number; startAt?: number }): RunSchedule {
  const out: RunSchedule = { runs: 0, lastCallMs: 0, callsPerRun: 0 };
  if (n <= 0) return out;
  const start = opts.startAt ?? 0;
  if (!(opts.everyMs > 0) || !(opts.budgetMs >= 0)) throw new RateSpecError('runs need a positive period and a budget of zero or more');
  let persisted = start;
  let done = 0;
  for (let run = 0; done < n; run++) {
    const runStart = start + run * opts.everyMs;
    const deadline = runStart + opts.budgetMs;
    const pacer = new Pacer(rate, { startAt: persisted });
    let now = runStart;
    let inRun = 0;
    while (done < n) {
      const slot = pacer.reserveBy(now, deadline);
      if (slot === undefined) break;
      now = slot;
      inRun++;
      done++;
      out.lastCallMs = slot - start;
    }
    persisted = pacer.nextFreeAt();
    if (inRun > 0) out.runs++;
    out.callsPerRun = Math.max(out.callsPerRun, inRun);
  }
  return out;
}
