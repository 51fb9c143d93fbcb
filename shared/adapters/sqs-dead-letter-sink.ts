import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';

/**
 * Sends a message that can never be processed straight to the queue's DLQ with the reason
 * as a message attribute, instead of letting it burn maxReceiveCount retries first.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(input: { body: string; reason: string; sourceMessageId: string }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // SQS bodies are limited to 256 KiB and must be valid XML characters; a body that
        // arrived on SQS already satisfies both.
        MessageBody: input.body.length > 0 ? input.body : '(empty body)',
        MessageAttributes: {
          'mailbridge.error': { DataType: 'String', StringValue: input.reason.slice(0, 1000) },
          'mailbridge.source-message-id': { DataType: 'String', StringValue: input.sourceMessageId },
        },
      }),
    );
  }
}
