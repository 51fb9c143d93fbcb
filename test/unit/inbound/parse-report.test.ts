/**
 * `mailbridge parse --json` shows what recognition warns about, so a person checking a mail
 * offline sees the same `einvoice-incomplete` that accounting gets.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DiscardingAttachmentSink } from '../../../shared/adapters/discarding-attachment-sink.ts';
import { parseInboundMessage } from '../../../shared/services/parse-inbound-message.ts';
import { parseReport } from '../../../bin/commands/parse.ts';
import { buildMail } from '../../fixtures/inbound/mime.ts';
import { renderSampleInvoice } from '../../fixtures/invoices/sample-e-invoice.ts';

describe('parse report', () => {
  it('lists an incomplete e-invoice with its einvoice-incomplete warning', async () => {
    // Prepare: the sample UBL invoice without its issue date (BT-2)
    const xml = new TextDecoder().decode(await renderSampleInvoice('UBL')).replace(/<cbc:IssueDate>[^<]*<\/cbc:IssueDate>/, '');
    const mail = buildMail({ subject: 'Rechnung', parts: [{ contentType: 'application/xml', filename: 'invoice.xml', body: new TextEncoder().encode(xml) }] });

    // Act
    const report = parseReport(await parseInboundMessage(Readable.from([Buffer.from(mail)]), new DiscardingAttachmentSink()));

    // Assess
    expect(report.invoices).toHaveLength(1);
    expect(report.invoices[0]?.warnings).toEqual([{ code: 'einvoice-incomplete', missing: ['BT-2'] }]);
    expect(report.invoices[0]?.confidence).toBeLessThan(1);
  });
});
