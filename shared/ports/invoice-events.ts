import type { InvoiceReceivedEvent } from '../schemas/inbound-records.ts';

/** Downstream systems learn about invoices here (SNS topic). */
export interface InvoiceEvents {
  publish(event: InvoiceReceivedEvent): Promise<void>;
}
