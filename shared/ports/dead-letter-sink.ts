/** Where a message goes that can never succeed (malformed), with the reason attached. */
export interface DeadLetterSink {
  send(input: { body: string; reason: string; sourceMessageId: string }): Promise<void>;
}
