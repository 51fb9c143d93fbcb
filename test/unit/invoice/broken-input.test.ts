/**
 * Hostile or broken attachments must never throw out of recogniseAttachment; each ends as a
 * problem with a stable code the pipeline can count and alert on.
 */
import { describe, expect, it } from 'vitest';
import { isCandidateAttachment, recogniseAttachment } from '../../../shared/domain/invoice/recognise-attachment.ts';
import { MAX_XML_BYTES } from '../../../shared/domain/invoice/xml-document.ts';
import { MAX_PDF_BYTES } from '../../../shared/domain/invoice/pdf-document.ts';
import { buildMinimalPdf } from '../../fixtures/invoices/minimal-pdf.ts';
import { renderSampleInvoice } from '../../fixtures/invoices/sample-e-invoice.ts';

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
const codes = (result: { problems: { code: string }[] }): string[] => result.problems.map((p) => p.code);

const invoicePdf = (): Uint8Array =>
  buildMinimalPdf({ pages: [['Rechnung Nr. 4711', 'Rechnungsdatum 01.02.2024', 'Gesamtbetrag 119,00 EUR']] });

describe('broken PDFs', () => {
  it('a truncated PDF is pdf-unreadable and the message says it looks truncated', async () => {
    // Prepare
    const full = invoicePdf();
    const truncated = full.subarray(0, Math.floor(full.length * 0.6));

    // Act
    const result = await recogniseAttachment({ bytes: truncated, filename: 'rechnung.pdf' });

    // Assess
    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['pdf-unreadable']);
    expect(result.problems[0]?.message).toContain('truncated');
    expect(result.problems[0]?.message).toContain('"rechnung.pdf"');
  });

  it('a truncated Factur-X PDF is pdf-unreadable as well', async () => {
    const full = await renderSampleInvoice('Factur-X-EN16931');

    const result = await recogniseAttachment({ bytes: full.subarray(0, 2000) });

    expect(codes(result)).toEqual(['pdf-unreadable']);
  });

  it('an encrypted PDF that needs a user password is pdf-encrypted', async () => {
    const encrypted = buildMinimalPdf({ pages: [['Rechnung Nr. 4711']], encryptedWithUnknownPassword: true });

    const result = await recogniseAttachment({ bytes: encrypted });

    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['pdf-encrypted']);
  });

  it('only a PDF header followed by garbage is pdf-unreadable', async () => {
    const result = await recogniseAttachment({ bytes: bytesOf('%PDF-1.7\n this is not a pdf body at all') });

    expect(codes(result)).toEqual(['pdf-unreadable']);
  });

  it('does not detach or modify the caller\'s buffer', async () => {
    const bytes = invoicePdf();
    const copy = bytes.slice();

    await recogniseAttachment({ bytes });

    expect(bytes.byteLength).toBe(copy.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
  });

  it('accepts a Node Buffer (what mail parsers hand out)', async () => {
    const result = await recogniseAttachment({ bytes: Buffer.from(invoicePdf()) });

    expect(result.invoices[0]?.invoiceNumber).toBe('4711');
  });
});

describe('broken or hostile XML', () => {
  it('malformed XML is xml-invalid', async () => {
    const result = await recogniseAttachment({
      bytes: bytesOf('<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</Invoice>'),
    });

    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['xml-invalid']);
  });

  it('an undeclared prefix on the root leaves the document unidentifiable: xml-not-invoice naming it', async () => {
    const result = await recogniseAttachment({ bytes: bytesOf('<ubl:Invoice><cbc:ID>1</cbc:ID></ubl:Invoice>') });

    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['xml-not-invoice']);
    expect(result.problems[0]?.message).toContain('undeclared-prefix:ubl}Invoice');
  });

  it('a billion-laughs document is refused before any expansion (xml-dtd-forbidden)', async () => {
    // Prepare: 10 levels of 10x expansion = 10^9 "lol"s if a parser expanded it
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('\n');
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
<!ENTITY lol0 "lol">
${entities}
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol9;</ID></Invoice>`;
    const started = performance.now();

    // Act
    const result = await recogniseAttachment({ bytes: bytesOf(bomb) });

    // Assess
    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['xml-dtd-forbidden']);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an external entity (XXE) is refused the same way', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>`;

    const result = await recogniseAttachment({ bytes: bytesOf(xxe) });

    expect(codes(result)).toEqual(['xml-dtd-forbidden']);
  });

  it('well-formed XML that is not an invoice is xml-not-invoice and names the root', async () => {
    const order = '<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>1</ID></Order>';

    const result = await recogniseAttachment({ bytes: bytesOf(order), filename: 'order.xml' });

    expect(result.invoices).toEqual([]);
    expect(codes(result)).toEqual(['xml-not-invoice']);
    expect(result.problems[0]?.message).toContain('{urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order');
  });

  it('an e-invoice root without any mandatory term is returned with einvoice-incomplete naming them all', async () => {
    const bare = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>';

    const result = await recogniseAttachment({ bytes: bytesOf(bare) });

    expect(result.problems).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    const [invoice] = result.invoices;
    expect(invoice).toMatchObject({ format: 'ubl', invoiceNumber: null, totalWithVat: null, confidence: 0.5 });
    expect(invoice?.warnings).toHaveLength(1);
    expect(invoice?.warnings[0]?.code).toBe('einvoice-incomplete');
    expect(invoice?.warnings[0]?.missing).toEqual(expect.arrayContaining(['BT-1', 'BT-2', 'BT-5', 'BT-112', 'BT-115', 'BT-126']));
    expect(Object.values(invoice?.fieldConfidence ?? {})).toEqual(Array(10).fill(0));
  });

  it('deeply nested XML is xml-invalid instead of a stack overflow', async () => {
    const depth = 5000;
    const nested = `${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}`;

    const result = await recogniseAttachment({ bytes: bytesOf(nested) });

    expect(codes(result)).toEqual(['xml-invalid']);
  });

  it('UTF-16 with BOM and ISO-8859-1 declarations are decoded', async () => {
    const ubl = new TextDecoder().decode(await renderSampleInvoice('UBL'));
    const latin1 = ubl
      .replace('encoding="utf-8"', 'encoding="ISO-8859-1"')
      .replace('Beispiel Software GmbH', 'Bäckerei Müller GmbH');
    const latin1Bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0));
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ubl.replace('encoding="utf-8"', 'encoding="UTF-16"'), 'utf16le')]);

    const [fromLatin1, fromUtf16] = await Promise.all([
      recogniseAttachment({ bytes: latin1Bytes }),
      recogniseAttachment({ bytes: utf16 }),
    ]);

    expect(fromLatin1.invoices[0]?.sellerName).toBe('Bäckerei Müller GmbH');
    expect(fromUtf16.invoices[0]?.sellerName).toBe('Beispiel Software GmbH');
  });
});

describe('size caps and empty or unknown input', () => {
  it('empty bytes are "empty"', async () => {
    const result = await recogniseAttachment({ bytes: new Uint8Array(), filename: 'rechnung.pdf' });

    expect(result).toEqual({ invoices: [], problems: [{ code: 'empty', message: 'attachment "rechnung.pdf" is empty' }] });
  });

  it('XML above the cap is too-large without being parsed', async () => {
    const huge = new Uint8Array(MAX_XML_BYTES + 1).fill(0x20);
    huge.set(bytesOf('<Invoice>'));

    const result = await recogniseAttachment({ bytes: huge });

    expect(codes(result)).toEqual(['too-large']);
  });

  it('a PDF above the cap is too-large without being opened', async () => {
    const huge = new Uint8Array(MAX_PDF_BYTES + 1);
    huge.set(bytesOf('%PDF-1.7\n'));

    const result = await recogniseAttachment({ bytes: huge });

    expect(codes(result)).toEqual(['too-large']);
  });

  it('bytes that are neither PDF nor XML are unsupported-type whatever the name says', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

    const result = await recogniseAttachment({ bytes: png, filename: 'invoice.xml', contentType: 'application/xml' });

    expect(codes(result)).toEqual(['unsupported-type']);
  });
});

describe('isCandidateAttachment', () => {
  it.each([
    ['PDF magic', undefined, undefined, bytesOf('%PDF-1.4\n%âãÏÓ'), true],
    ['PDF magic after junk', 'x.bin', 'application/octet-stream', bytesOf('\r\n\r\n%PDF-1.7'), true],
    ['XML declaration', 'invoice.txt', 'text/plain', bytesOf('<?xml version="1.0"?><Invoice/>'), true],
    ['XML with BOM and whitespace', undefined, undefined, Uint8Array.from([0xef, 0xbb, 0xbf, 0x0a, 0x3c, 0x61]), true],
    ['UTF-16 XML', undefined, undefined, Uint8Array.from([0xff, 0xfe, 0x3c, 0x00]), true],
    ['plain text named .xml', 'invoice.xml', 'application/xml', bytesOf('Dear customer'), false],
    ['JPEG named .pdf', 'invoice.pdf', 'application/pdf', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]), false],
    ['empty', 'a.pdf', 'application/pdf', new Uint8Array(), false],
  ] as const)('%s → %s', (_case, filename, contentType, firstBytes, expected) => {
    expect(isCandidateAttachment(filename, contentType, firstBytes)).toBe(expected);
  });
});
