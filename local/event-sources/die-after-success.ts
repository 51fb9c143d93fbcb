/**
 * Fault injection for the local event sources (bench:faults, tests), off by default: a share
 * of the successful invocations "die" after the function returned, before the event source
 * takes its answer, as a Lambda killed after its writes and before it acknowledged. The event
 * source then treats the batch as failed (SQS: redelivered; streams: retried). A message or
 * record is killed this way at most once, so the fault redelivers without ever exhausting
 * retries by itself.
 */
export class DieAfterSuccess {
  /** Share of successful invocations to kill, 0..1 (0 = off). */
  rate = 0;
  /** Invocations killed so far. */
  killed = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Whether the invocation that handled these message ids (or sequence numbers) dies now. */
  strikes(ids: readonly string[]): boolean {
    if (this.rate <= 0 || ids.every((id) => this.seen.has(id)) || this.random() >= this.rate) return false;
    for (const id of ids) this.seen.add(id);
    this.killed++;
    return true;
  }
}
