/** What a queue did not take for the content of a message: resending it can never succeed. */
export interface EnqueueResult {
  rejected: Array<{ index: number; reason: string }>;
}

/**
 * A durable queue that takes one message per event. Resolves once every message is accepted
 * or rejected for its content (listed by index); rejects when the queue itself failed.
 */
export interface EventQueue {
  enqueue(bodies: string[]): Promise<EnqueueResult>;
}
