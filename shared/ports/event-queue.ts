/** A durable queue that takes one message per event. Resolves only once every message is accepted. */
export interface EventQueue {
  enqueue(bodies: string[]): Promise<void>;
}
