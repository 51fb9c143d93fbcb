/**
 * The parse + recognise core on hand-made and generated mails: what it extracts, what it
 * hands the attachment sink, and how it reports broken input (never by throwing).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AttachmentMeta, AttachmentSink } from '../../../shared/ports/attachment-sink.ts';
import { DiscardingAttachmentSink } from '../../../shared/adapters/discarding-attachment-sink.ts';
import { AttachmentSinkError, parseInboundMessage, SourceReadError } from '../../../shared/services/parse-inbound-message.ts';
import { EXPECTED, renderSampleInvoice } from '../../fixtures/invoices/sample-e-invoice.ts';
import { buildMail, forwardedPart } from '../../fixtures/inbound/mime.ts';
import { facturXMail, forwardedInvoiceMail, plainPdfMail, readFixture, truncatedPdfMail, ublMail } from '../../fixtures/inbound/mails.ts';

/** Keeps what it is given, like S3 would, under keys shaped like the real sink's. */
class RecordingSink implements AttachmentSink {
  readonly stored = new Map<number, { meta: AttachmentMeta; bytes: Buffer }>();
  async store(meta: AttachmentMeta, content: Readable): Promise<{ key: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(chunk as Buffer);
    this.stored.set(meta.index, { meta, bytes: Buffer.concat(chunks) });
    return { key: `attachments/test/${meta.index}` };
  }
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const source = (text: string | Buffer): Readable => Readable.from([Buffer.from(text)]);
const codes = (problems: { code: string }[]): string[] => problems.map((p) => p.code);

describe('parse core: invoices', () => {
  it('finds the Factur-X invoice of a supplier mail and stores every attachment with size and sha256', async () => {
    // Prepare
    const pdf = await renderSampleInvoice('Factur-X-EN16931');
    const sink = new RecordingSink();

    // Act
    const parsed = await parseInboundMessage(source(await facturXMail({ pdf })), sink);

    // Assess
    expect(parsed).toMatchObject({ messageId: '<fx-2024-0815@beispiel-software.example>', subject: 'Rechnung FX-2024-0815', from: 'billing@beispiel-software.example' });
    expect(parsed.attachments.map((a) => [a.index, a.filename, a.contentType, a.key, a.depth])).toEqual([
      [1, 'Rechnung FX-2024-0815.pdf', 'application/pdf', 'attachments/test/1', 0],
      [2, 'logo.png', 'image/png', 'attachments/test/2', 0],
    ]);
    expect(parsed.attachments[0]).toMatchObject({ size: pdf.length, sha256: sha256(pdf) });
    expect(sink.stored.get(1)?.bytes.equals(Buffer.from(pdf))).toBe(true);
    expect(parsed.invoices).toHaveLength(1);
    expect(parsed.invoices[0]).toMatchObject({ ...EXPECTED, format: 'factur-x', documentType: 'invoice', method: 'embedded-xml', confidence: 1, attachmentIndex: 1 });
    expect(parsed.problems).toEqual([]);
  });

  it('recognises a UBL XML attachment whatever its MIME type says', async () => {
    const parsed = await parseInboundMessage(source(await ublMail()), new DiscardingAttachmentSink());

    expect(parsed.attachments[0]).toMatchObject({ filename: 'xrechnung.xml', contentType: 'application/xml', key: null });
    expect(parsed.invoices).toMatchObject([{ ...EXPECTED, format: 'xrechnung-ubl', method: 'structured-xml' }]);
  });

  it('reads a plain text PDF with heuristics and says it guessed', async () => {
    const parsed = await parseInboundMessage(source(plainPdfMail()), new DiscardingAttachmentSink());

    expect(parsed.invoices).toHaveLength(1);
    expect(parsed.invoices[0]).toMatchObject({ format: 'pdf-text', method: 'pdf-text', invoiceNumber: 'RE-2024-0042', totalWithVat: '1190.00' });
    expect(parsed.invoices[0]?.confidence).toBeLessThan(1);
  });

  it.each(['7bit', 'base64'] as const)('searches a forwarded message (message/rfc822, %s) and numbers its parts after it', async (encoding) => {
    const sink = new RecordingSink();

    const parsed = await parseInboundMessage(source(await forwardedInvoiceMail(encoding)), sink);

    expect(parsed.from).toBe('buchhaltung@kunde.example');
    expect(parsed.attachments.map((a) => [a.index, a.filename, a.contentType, a.depth])).toEqual([
      [1, 'XRechnung FX-2024-0815.eml', 'message/rfc822', 0],
      [2, 'xrechnung.xml', 'application/xml', 1],
    ]);
    // The forwarded message itself is stored as it is, so it can be opened in a mail client.
    expect(sink.stored.get(1)?.bytes.toString('utf8')).toContain('Message-ID: <original-ubl@beispiel-software.example>');
    expect(parsed.invoices).toMatchObject([{ invoiceNumber: EXPECTED.invoiceNumber, format: 'xrechnung-ubl', attachmentIndex: 2 }]);
  });

  it.each([
    // Forwarded as an attachment: stored as .eml, searched by our nested parser (depth 1).
    ['attachment', [[1, 'XRechnung.eml', 'message/rfc822', 0], [2, 'xrechnung.xml', 'application/xml', 1]]],
    // Forwarded inline: mailparser walks into it itself; its parts are the message's own.
    ['inline', [[1, 'xrechnung.xml', 'application/xml', 0]]],
  ] as const)('finds the invoice of a message forwarded with disposition %s, with the XML part\'s own size and sha256', async (disposition, expected) => {
    // Prepare
    const xml = await renderSampleInvoice('XRECHNUNG-UBL');
    const original = buildMail({ subject: 'XRechnung', messageId: '<fwd-original@portal.example>', parts: [{ contentType: 'application/xml', filename: 'xrechnung.xml', body: xml }] });
    const mail = buildMail({ subject: 'Fwd: XRechnung', parts: [{ ...forwardedPart(original, 'XRechnung.eml'), disposition }] });

    // Act
    const parsed = await parseInboundMessage(source(mail), new RecordingSink());

    // Assess
    expect(parsed.attachments.map((a) => [a.index, a.filename, a.contentType, a.depth])).toEqual(expected);
    const xmlPart = parsed.attachments.at(-1);
    expect(xmlPart).toMatchObject({ size: xml.length, sha256: sha256(xml) });
    expect(parsed.invoices).toMatchObject([{ invoiceNumber: EXPECTED.invoiceNumber, format: 'xrechnung-ubl', attachmentIndex: xmlPart?.index }]);
    expect(parsed.problems).toEqual([]);
  });

  it('stops searching forwarded messages below the depth limit and says so', async () => {
    const twice = buildMail({ subject: 'Fwd: Fwd', parts: [forwardedPart(await forwardedInvoiceMail(), 'fwd.eml')] });

    const parsed = await parseInboundMessage(source(twice), new DiscardingAttachmentSink(), { maxDepth: 1 });

    expect(parsed.attachments.map((a) => a.depth)).toEqual([0, 1]);
    expect(parsed.invoices).toEqual([]);
    expect(parsed.problems).toMatchObject([{ code: 'nesting-too-deep', attachment: 2 }]);
  });

  it('recognises nothing when asked not to, but still describes every attachment', async () => {
    const parsed = await parseInboundMessage(source(await facturXMail()), new DiscardingAttachmentSink(), { recognise: false });

    expect(parsed.attachments).toHaveLength(2);
    expect(parsed.invoices).toEqual([]);
    expect(parsed.problems).toEqual([]);
  });
});

describe('parse core: broken input is a problem, never an exception', () => {
  it('a truncated PDF is pdf-unreadable, tied to its attachment', async () => {
    const parsed = await parseInboundMessage(source(truncatedPdfMail()), new DiscardingAttachmentSink());

    expect(parsed.invoices).toEqual([]);
    expect(parsed.problems).toMatchObject([{ code: 'pdf-unreadable', attachment: 1 }]);
    expect(parsed.problems[0]?.message).toContain('rechnung-4711.pdf');
  });

  it('the hand-made broken MIME message yields its parts and one problem per broken candidate', async () => {
    const parsed = await parseInboundMessage(source(readFixture('broken-mime.eml')), new DiscardingAttachmentSink());

    expect(parsed).toMatchObject({ messageId: '<broken-mime@example.org>', subject: 'Rechnung ä broken', from: 'broken@example.org' });
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['rechnung.pdf', 'invoice.xml', 'no-end.bin']);
    expect(codes(parsed.problems)).toEqual(['pdf-unreadable', 'xml-invalid']);
  });

  it('an empty message is message-empty', async () => {
    const parsed = await parseInboundMessage(Readable.from([]), new DiscardingAttachmentSink());

    expect(parsed).toMatchObject({ messageId: null, attachments: [], invoices: [], bytes: 0 });
    expect(codes(parsed.problems)).toEqual(['message-empty']);
  });

  it('a header block over mailsplit’s 1 MiB limit is mime-malformed', async () => {
    const huge = `From: a@example.org\r\nX-Padding: ${'x'.repeat(1100 * 1024)}\r\n\r\nbody\r\n`;

    const parsed = await parseInboundMessage(source(huge), new DiscardingAttachmentSink());

    expect(codes(parsed.problems)).toEqual(['mime-malformed']);
    expect(parsed.problems[0]?.message).toMatch(/MIME parsing stopped/);
  });

  it('a candidate over the buffering cap is stored but not recognised (attachment-too-large)', async () => {
    const sink = new RecordingSink();

    const parsed = await parseInboundMessage(source(await facturXMail()), sink, { maxCandidateBytes: 4096 });

    expect(parsed.invoices).toEqual([]);
    expect(parsed.problems).toMatchObject([{ code: 'attachment-too-large', attachment: 1 }]);
    expect(sink.stored.get(1)?.bytes.length).toBe(parsed.attachments[0]?.size);
  });

  it('parts beyond the attachment limit are only counted: neither listed, stored nor recognised', async () => {
    const sink = new RecordingSink();

    const parsed = await parseInboundMessage(source(await facturXMail()), sink, { maxAttachments: 1 });

    expect(parsed.attachments.map((a) => a.key)).toEqual(['attachments/test/1']);
    expect(parsed.omittedAttachments).toBe(1);
    expect([...sink.stored.keys()]).toEqual([1]);
    expect(parsed.problems).toEqual([{ code: 'too-many-attachments', message: '1 attachments past the first 1 are only counted: not listed, stored or recognised' }]);
  });

  it('a message that is not MIME at all parses to nothing, without a crash', async () => {
    const parsed = await parseInboundMessage(source(Buffer.from([0, 1, 2, 255, 254, 10, 13, 10, 0xc3])), new DiscardingAttachmentSink());

    expect(parsed).toMatchObject({ attachments: [], invoices: [], problems: [] });
  });
});

describe('parse core: infrastructure failures throw, to be retried', () => {
  it('a sink that fails makes the parse fail with AttachmentSinkError', async () => {
    const failing: AttachmentSink = {
      async store(_meta, content) {
        content.once('data', () => undefined);
        throw new Error('S3 is down');
      },
    };

    await expect(parseInboundMessage(source(await facturXMail()), failing)).rejects.toThrow(AttachmentSinkError);
  });

  it('a source stream that breaks mid-message is a SourceReadError, not a MIME problem', async () => {
    const mail = Buffer.from(await facturXMail());
    const broken = new Readable({
      read() {
        this.push(mail.subarray(0, 2000));
        this.destroy(new Error('socket hang up'));
      },
    });

    await expect(parseInboundMessage(broken, new DiscardingAttachmentSink())).rejects.toThrow(SourceReadError);
  });
});
