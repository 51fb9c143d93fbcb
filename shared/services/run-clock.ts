/**
 * Time for scheduled runs: a clock (the system's, or a test's) and when a run stops. Apart from
 * the drains so that a function that only counts (migration-status) loads none of their code.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** When a scheduled run stops: its own budget, or 5 s before the function's timeout if sooner. */
export function runDeadline(clock: Clock, budgetMs: number, remainingMs: number): number {
  return clock.now() + Math.min(budgetMs, Math.max(0, remainingMs - 5_000));
}
