import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { InvoiceEvents } from '../ports/invoice-events.ts';
import type { InvoiceReceivedEvent } from '../schemas/inbound-records.ts';

/**
 * `invoice.received` on the invoice events topic. Message attributes let subscribers filter
 * without parsing the body (e.g. `duplicate: ["false"]` to skip repeated invoices,
 * `warnings: ["none"]` for invoices nothing is held for, `warnings: ["bank-account-changed"]`).
 */
export class SnsInvoiceEvents implements InvoiceEvents {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: InvoiceReceivedEvent): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          format: { DataType: 'String', StringValue: event.invoice.format },
          duplicate: { DataType: 'String', StringValue: event.duplicateOf ? 'true' : 'false' },
          // String.Array: a filter policy matches any one of the codes.
          warnings: { DataType: 'String.Array', StringValue: JSON.stringify(event.warnings.length > 0 ? [...new Set(event.warnings.map((w) => w.code))] : ['none']) },
        },
      }),
    );
  }
}
