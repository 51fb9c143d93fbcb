/**
 * The sender-authentication rule as a table: SES's verdicts, the From header(s) and SES's
 * Authentication-Results in, `{ address, domain, authenticated }` out.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withReceiptHeaders } from '../../../bin/commands/simulate-inbound.ts';
import { DiscardingAttachmentSink } from '../../../shared/adapters/discarding-attachment-sink.ts';
import { parseInboundMessage } from '../../../shared/services/parse-inbound-message.ts';
import { buildMail, forwardedPart } from '../../fixtures/inbound/mime.ts';
import { authenticateSender, parseAuthenticationResults, sesDkimPassDomains, type SenderBasis } from '../../../shared/domain/sender-authentication.ts';

const ses = (clauses: string) => `amazonses.com; spf=pass (spfCheck: domain of example.com designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=bounce@example.com; ${clauses}`;

type Row = [label: string, from: string[], verdicts: { dmarc?: string; dkim?: string; spf?: string; dmarcPolicy?: string }, authResults: string | null, authenticated: boolean, basis: SenderBasis];

const ROWS: Row[] = [
  ['DMARC PASS', ['billing@supplier.example'], { dmarc: 'PASS', dkim: 'PASS', spf: 'PASS' }, ses('dkim=pass header.i=@supplier.example; dmarc=pass header.from=supplier.example;'), true, 'dmarc-pass'],
  ['DMARC PASS, no Authentication-Results header to cross-check', ['billing@supplier.example'], { dmarc: 'PASS' }, null, true, 'dmarc-pass'],
  ['DMARC PASS is case-insensitive', ['billing@supplier.example'], { dmarc: 'pass' }, null, true, 'dmarc-pass'],
  ['DMARC PASS but SES evaluated another From domain', ['billing@supplier.example'], { dmarc: 'PASS' }, ses('dmarc=pass header.from=attacker.example;'), false, 'dmarc-from-mismatch'],
  ['DMARC FAIL, p=reject', ['billing@supplier.example'], { dmarc: 'FAIL', dmarcPolicy: 'reject', dkim: 'PASS' }, ses('dkim=pass header.i=@attacker.example; dmarc=fail header.from=supplier.example;'), false, 'dmarc-fail'],
  ['DMARC FAIL, p=none (a policy exists: DKIM cannot stand in)', ['billing@supplier.example'], { dmarc: 'FAIL', dmarcPolicy: 'none', dkim: 'PASS' }, ses('dkim=pass header.i=@supplier.example;'), false, 'dmarc-fail'],
  ['no DMARC policy (GRAY), DKIM PASS for the From domain', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=pass header.i=@supplier.example; dmarc=none header.from=supplier.example;'), true, 'dkim-pass-no-dmarc-policy'],
  ['GRAY, DKIM PASS named by header.d', ['billing@Supplier.Example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=pass header.d=supplier.example header.s=sel;'), true, 'dkim-pass-no-dmarc-policy'],
  ['GRAY, DKIM PASS for the From domain among others', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=pass header.i=@amazonses.com; dkim=pass header.i=@supplier.example;'), true, 'dkim-pass-no-dmarc-policy'],
  ['GRAY, DKIM PASS only for another domain', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=pass header.i=@mailer.example;'), false, 'dkim-not-from-domain'],
  ['GRAY, DKIM PASS for a parent domain only (no relaxed alignment without DMARC)', ['billing@mail.supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=pass header.i=@supplier.example;'), false, 'dkim-not-from-domain'],
  ['GRAY, DKIM verdict FAIL though the header claims a pass', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'FAIL' }, ses('dkim=pass header.i=@supplier.example;'), false, 'dkim-not-from-domain'],
  ['GRAY, DKIM PASS but no signing domain known', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, null, false, 'dkim-not-from-domain'],
  ['GRAY, the DKIM pass is in a header SES did not write', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, 'mx.attacker.example; dkim=pass header.i=@supplier.example;', false, 'dkim-not-from-domain'],
  ['GRAY, the DKIM pass is only inside a comment', ['billing@supplier.example'], { dmarc: 'GRAY', dkim: 'PASS' }, ses('dkim=fail (dkim=pass header.i=@supplier.example) header.i=@supplier.example;'), false, 'dkim-not-from-domain'],
  ['GRAY, SPF PASS alone', ['billing@supplier.example'], { dmarc: 'GRAY', spf: 'PASS', dkim: 'GRAY' }, ses('dkim=none;'), false, 'dkim-not-from-domain'],
  ['DMARC PROCESSING_FAILED', ['billing@supplier.example'], { dmarc: 'PROCESSING_FAILED', dkim: 'PASS' }, ses('dkim=pass header.i=@supplier.example;'), false, 'dmarc-unknown'],
  ['DMARC DISABLED', ['billing@supplier.example'], { dmarc: 'DISABLED', dkim: 'PASS' }, ses('dkim=pass header.i=@supplier.example;'), false, 'dmarc-unknown'],
  ['no DMARC verdict at all (older notification)', ['billing@supplier.example'], { dkim: 'PASS', spf: 'PASS' }, null, false, 'dmarc-unknown'],
  ['no From address', [], { dmarc: 'PASS' }, null, false, 'no-from-address'],
  ['a From address without a domain', ['billing@'], { dmarc: 'PASS' }, null, false, 'no-from-address'],
  ['two From addresses', ['billing@supplier.example', 'cfo@attacker.example'], { dmarc: 'PASS' }, null, false, 'several-from-addresses'],
];

describe('sender authentication', () => {
  it.each(ROWS)('%s', (_label, fromAddresses, verdicts, authenticationResults, authenticated, basis) => {
    const sender = authenticateSender({ fromAddresses, verdicts, authenticationResults });

    expect({ authenticated: sender.authenticated, basis: sender.basis }).toEqual({ authenticated, basis });
    if (fromAddresses[0]?.includes('@') && !fromAddresses[0].endsWith('@')) {
      expect(sender.address).toBe(fromAddresses[0]);
      expect(sender.domain).toBe(fromAddresses[0].split('@')[1]?.toLowerCase());
    }
  });

  it('reads SES Authentication-Results as SES writes them, folded and with comments', () => {
    const value =
      'amazonses.com; spf=pass (spfCheck: domain of _spf.google.com designates 209.85.160.178 as permitted sender) client-ip=209.85.160.178; envelope-from=someone@gmail.com; helo=mail-qt1-f178.google.com; dkim=pass header.i=@gmail.com; dmarc=pass header.from=gmail.com;';

    const parsed = parseAuthenticationResults(value);

    expect(parsed.authservId).toBe('amazonses.com');
    expect(parsed.results.map((r) => `${r.method}=${r.result}`)).toEqual(['spf=pass', 'dkim=pass', 'dmarc=pass']);
    expect(sesDkimPassDomains(value)).toEqual(['gmail.com']);
  });

  describe('from a raw message as SES stores it', () => {
    const parse = (raw: string | Buffer) => parseInboundMessage(Readable.from([Buffer.from(raw)]), new DiscardingAttachmentSink(), { recognise: false });
    const SES_HEADER = `Authentication-Results: ${ses('dkim=pass header.i=@supplier.example;')}`;

    it('reads the topmost Authentication-Results (SES prepends its own), not one the sender wrote below it', async () => {
      // Prepare: the sender's own forged header, then SES's on top of the message.
      const mail = buildMail({ from: 'billing@supplier.example' }).replace('From:', 'Authentication-Results: amazonses.com; dkim=pass header.i=@bank.example;\r\nFrom:');
      const raw = withReceiptHeaders(Buffer.from(mail), { prepend: [SES_HEADER] });

      // Act
      const parsed = await parse(raw);

      // Assess
      expect(parsed.authenticationResults).toBe(ses('dkim=pass header.i=@supplier.example;'));
      expect(parsed.fromAddresses).toEqual(['billing@supplier.example']);
      expect(authenticateSender({ fromAddresses: parsed.fromAddresses, verdicts: { dmarc: 'GRAY', dkim: 'PASS' }, authenticationResults: parsed.authenticationResults }).authenticated).toBe(true);
    });

    it('counts every From address and every From header, so a second sender makes it ambiguous', async () => {
      const twoAddresses = await parse(buildMail({ from: 'billing@supplier.example, cfo@attacker.example' }));
      const twoHeaders = await parse(buildMail({ from: 'billing@supplier.example' }).replace('To:', 'From: cfo@attacker.example\r\nTo:'));

      expect(twoAddresses.fromAddresses).toEqual(['billing@supplier.example', 'cfo@attacker.example']);
      expect(twoHeaders.fromAddresses).toHaveLength(2);
      for (const parsed of [twoAddresses, twoHeaders]) {
        expect(authenticateSender({ fromAddresses: parsed.fromAddresses, verdicts: { dmarc: 'PASS' } })).toMatchObject({ authenticated: false, basis: 'several-from-addresses' });
      }
    });

    it('takes the sender of the message itself, not of a message forwarded inside it', async () => {
      const inner = withReceiptHeaders(Buffer.from(buildMail({ from: 'billing@supplier.example' })), { prepend: [SES_HEADER] }).toString('latin1');
      const outer = buildMail({ from: 'clerk@customer.example', parts: [forwardedPart(inner, 'fwd.eml', '7bit')] });

      const parsed = await parse(outer);

      expect(parsed.fromAddresses).toEqual(['clerk@customer.example']);
      expect(parsed.authenticationResults).toBeNull();
    });

    it('replaces the From header when the simulator is told another sender', async () => {
      const raw = withReceiptHeaders(Buffer.from(buildMail({ from: 'Beispiel <billing@supplier.example>' })), { from: 'Beispiel <rechnung@supp1ier.example>', prepend: [SES_HEADER] });

      const parsed = await parse(raw);

      expect(parsed.fromAddresses).toEqual(['rechnung@supp1ier.example']);
      expect(parsed.authenticationResults).toContain('amazonses.com;');
    });
  });
});
