/**
 * `schedule` events (EventBridge rules) for the local stack: each scheduled function gets an
 * EventBridge "Scheduled Event" at its `rate(...)`, or at a local interval when one is set
 * (`MAILBRIDGE_SCHEDULE_INTERVAL_MS=<ms>`; `off` disables the timers), so drains and
 * reconciliation can run every second in tests and demos.
 *
 * Runs of one function never overlap (the scheduled functions have reservedConcurrency 1 and
 * their pace assumes it): a tick that comes while a run is going is skipped. `run(name)`
 * invokes a function now (waiting for a run in progress first) and returns its result: the
 * HTTP route `POST /__local/schedule/<function>` and `npx mailbridge local run <function>`
 * use it.
 *
 * Local deviations: `cron(...)` expressions are accepted but only run on demand; a failed
 * scheduled run is reported, not retried (Lambda retries asynchronous invocations twice).
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export interface ScheduledFunction {
  name: string;
  /** `rate(5 minutes)`, `cron(...)`. */
  expression: string;
  enabled: boolean;
  invoke: (event: ScheduledEvent) => Promise<unknown>;
}

const UNITS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** Milliseconds between runs of a `rate(...)` expression; undefined for `cron(...)`. */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$/.exec(expression.trim());
  if (!m) {
    if (/^cron\(/.test(expression.trim())) return undefined;
    throw new ScheduleError(`unsupported schedule expression ${expression}`);
  }
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

/** `MAILBRIDGE_SCHEDULE_INTERVAL_MS`: a number overrides every rate, `off` disables the timers. */
export function parseIntervalOverride(value: string | undefined): number | 'off' | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.trim().toLowerCase() === 'off') return 'off';
  const n = Number(value);
  if (!Number.isFinite(n) || n < 50) throw new ScheduleError(`MAILBRIDGE_SCHEDULE_INTERVAL_MS must be a number of ms >= 50, or off (got ${value})`);
  return n;
}

export class LocalScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<unknown>>();
  readonly runs: Record<string, number> = {};

  constructor(
    private readonly functions: ScheduledFunction[],
    private readonly o: { region: string; ruleArn: (name: string) => string; interval?: number | 'off' | undefined; onError: (name: string, error: unknown) => void },
  ) {}

  names(): string[] {
    return this.functions.map((f) => f.name);
  }

  start(): void {
    if (this.o.interval === 'off') return;
    for (const fn of this.functions) {
      if (!fn.enabled) continue;
      const every = typeof this.o.interval === 'number' ? this.o.interval : rateMs(fn.expression);
      if (every === undefined) continue;
      const timer = setInterval(() => {
        if (this.running.has(fn.name)) return;
        this.run(fn.name).catch((error: unknown) => this.o.onError(fn.name, error));
      }, every);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.running.values()]);
  }

  private event(name: string): ScheduledEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: this.o.region,
      resources: [this.o.ruleArn(name)],
      detail: {},
    };
  }

  /** Invoke now, after any run in progress; resolves with the function's result. */
  async run(name: string): Promise<unknown> {
    const fn = this.functions.find((f) => f.name === name);
    if (!fn) throw new ScheduleError(`${name} has no schedule event (scheduled: ${this.names().join(', ') || 'none'})`);
    while (this.running.has(name)) await this.running.get(name)?.catch(() => undefined);
    const run = fn.invoke(this.event(name));
    this.running.set(name, run);
    this.runs[name] = (this.runs[name] ?? 0) + 1;
    try {
      return await run;
    } finally {
      this.running.delete(name);
    }
  }
}
