/**
 * `mailbridge parse <file.eml> [--json]`: the inbound-parse function's parse and recognition
 * (the same core, shared/services/parse-inbound-message.ts), offline: no stack, nothing
 * stored; attachments are only hashed.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { DiscardingAttachmentSink } from '../../shared/adapters/discarding-attachment-sink.ts';
import { parseInboundMessage, type ParsedMessage } from '../../shared/services/parse-inbound-message.ts';
import { print, printable, UsageError, type Command } from './context.ts';

/** The documented output shape (issue 5): nothing more, nothing less. */
export function parseReport(parsed: ParsedMessage) {
  return {
    messageId: parsed.messageId,
    subject: parsed.subject,
    from: parsed.from,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    invoices: parsed.invoices.map((i) => ({
      format: i.format,
      documentType: i.documentType,
      invoiceNumber: i.invoiceNumber,
      issueDate: i.issueDate,
      dueDate: i.dueDate,
      currency: i.currency,
      totalWithVat: i.totalWithVat,
      amountDue: i.amountDue,
      sellerName: i.sellerName,
      sellerVatId: i.sellerVatId,
      buyerReference: i.buyerReference,
      iban: i.iban,
      method: i.method,
      confidence: i.confidence,
      warnings: i.warnings,
    })),
    problems: parsed.problems.map((p) => ({ code: p.code, message: p.message })),
  };
}

export const parse: Command = {
  usage: '  parse <file.eml> [--json]                              parse a message and recognise its invoices offline (no stack)',
  async run(ctx) {
    const [file] = ctx.args;
    if (!file) throw new UsageError('parse needs an .eml file');
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file} is not a file`);
    const report = parseReport(await parseInboundMessage(createReadStream(file), new DiscardingAttachmentSink()));
    if (ctx.flags.json) {
      print(report);
      return 0;
    }
    const lines = [
      `message ${report.messageId ?? '(no Message-ID)'} from ${report.from ?? '(no From)'}: ${report.subject ?? '(no subject)'}`,
      ...report.attachments.map((a) => `  attachment ${a.filename} (${a.contentType}, ${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}…)`),
      ...report.invoices.map(
        (i) =>
          `  invoice ${i.invoiceNumber ?? '?'} ${i.documentType} [${i.format}, ${i.method}, confidence ${i.confidence}] ${i.totalWithVat ?? '?'} ${i.currency ?? ''} from ${i.sellerName ?? '?'}` +
          i.warnings.map((w) => ` ! ${w.code} (missing ${w.missing.join(', ')})`).join(''),
      ),
      ...report.problems.map((p) => `  problem ${p.code}: ${p.message}`),
    ];
    if (report.invoices.length === 0) lines.push('  no invoice found');
    process.stdout.write(`${lines.map(printable).join('\n')}\n`);
    return 0;
  },
};
