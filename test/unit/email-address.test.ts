/**
 * The one address rule (shared/domain/email-address.ts): what makes two spellings one store
 * item, and what the store refuses.
 */
import { describe, expect, it } from 'vitest';
import { checkEmailAddress, domainKey, InvalidEmailAddressError, isEmailAddress, normaliseEmail, spellingOf } from '../../shared/domain/email-address.ts';

describe('one address, however a provider spells it', () => {
  it.each([
    ['Unicode NFC and NFD', 'jos\u00e9@example.com', 'jose\u0301@example.com'],
    ['upper and lower case (also outside ASCII)', 'JOS\u00c9@Example.COM', 'jos\u00e9@example.com'],
    ['an IDN domain as U-label and A-label', 'kunde@b\u00fccher.de', 'kunde@xn--bcher-kva.de'],
    ['an IDN domain in upper case', 'kunde@B\u00dcCHER.DE', 'kunde@xn--bcher-kva.de'],
    ['a trailing dot (absolute domain)', 'alice@example.com.', 'alice@example.com'],
    ['surrounding blanks', '  alice@example.com\n', 'alice@example.com'],
    ['an ideographic full stop between labels', 'a@\u4f8b\u3048\u3002\u30c6\u30b9\u30c8', 'a@xn--r8jz45g.xn--zckzah'],
  ])('%s', (_what, a, b) => {
    // Act
    const ka = normaliseEmail(a);
    const kb = normaliseEmail(b);
    // Assess
    expect(ka).toBe(kb);
    expect(ka).toBe(ka.normalize('NFC'));
  });

  it('keys are NFC, lower case, A-label domains without the trailing dot', () => {
    expect(normaliseEmail('Jose\u0301@B\u00fccher.DE.')).toBe('jos\u00e9@xn--bcher-kva.de');
  });

  it('spells a sending domain one way, as the domain of an address: Unicode and A-labels are one domain', () => {
    expect(domainKey(' B\u00fccher.Example. ')).toBe('xn--bcher-kva.example');
    expect(domainKey('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(domainKey('News.ExampleSender.com')).toBe('news.examplesender.com');
    // A single label is a domain too (it was once mistaken for a problem name).
    expect(normaliseEmail('a@invalid-domain')).toBe('a@invalid-domain');
    // What the address rule refuses is kept trimmed, NFC and lower-cased, never dropped.
    expect(domainKey(' Not A Domain ')).toBe('not a domain');
    expect(domainKey('')).toBe('');
  });

  it('keeps the spelling the provider used apart from the key', () => {
    const check = checkEmailAddress(' Jose\u0301@B\u00fccher.de ');
    expect(check).toEqual({ ok: true, key: 'jos\u00e9@xn--bcher-kva.de', spelling: 'Jose\u0301@B\u00fccher.de' });
    expect(spellingOf(' Jose\u0301@B\u00fccher.de ')).toBe('Jose\u0301@B\u00fccher.de');
  });

  it('accepts ordinary addresses the providers send', () => {
    for (const ok of ['user+tag@example.com', 'first.last@sub.example.co.uk', "o'brien@example.ie", 'x_y-z@a-b.example', 'a@localhost', '\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a']) {
      expect(isEmailAddress(ok), ok).toBe(true);
    }
  });
});

describe('what the store refuses, with the problem named', () => {
  it.each([
    ['', 'empty'],
    ['no-at-sign', 'no-at-sign'],
    ['a b@c.d', 'whitespace'],
    ['a\u00a0b@c.d', 'whitespace'],
    ['"john doe"@example.com', 'whitespace'],
    ['"john"@example.com', 'local-part-needs-quoting'],
    ['a@b@example.com', 'local-part-needs-quoting'],
    ['a<b@example.com', 'local-part-needs-quoting'],
    ['al\u0007ice@example.com', 'control-character'],
    ['alice\u0000@example.com', 'control-character'],
    ['ali\u200bce@example.com', 'invisible-character'],
    ['alice@exa\u200dmple.com', 'invisible-character'],
    ['\u202ealice@example.com', 'invisible-character'],
    ['ali\u00adce@example.com', 'invisible-character'],
    ['alice@example.com\u2060', 'invisible-character'],
    ['al\u{e0041}ice@example.com', 'invisible-character'],
    ['al\ufe0fice@example.com', 'invisible-character'],
    ['al\u3164ice@example.com', 'invisible-character'],
    ['al\ud800ice@example.com', 'invisible-character'],
    ['@example.com', 'empty-local-part'],
    ['alice@', 'empty-domain'],
    ['alice@.', 'empty-domain'],
    ['alice@example..com', 'invalid-domain'],
    ['alice@exa!mple.com', 'invalid-domain'],
    ['alice@xn--zz.com', 'invalid-domain'],
    [`${'a'.repeat(65)}@example.com`, 'local-part-too-long'],
    [`${'\u00e9'.repeat(33)}@example.com`, 'local-part-too-long'],
    [`a@${'x'.repeat(64)}.com`, 'invalid-domain'],
    [`a@${Array.from({ length: 40 }, () => 'abcdef').join('.')}`, 'domain-too-long'],
    [`${'a'.repeat(400)}@example.com`, 'too-long'],
  ])('%j: %s', (raw, problem) => {
    // Act
    const check = checkEmailAddress(raw);
    // Assess
    expect(check).toEqual({ ok: false, problem });
    expect(isEmailAddress(raw)).toBe(false);
    expect(() => normaliseEmail(raw)).toThrow(InvalidEmailAddressError);
  });

  it('names the problem on the error', () => {
    try {
      normaliseEmail('a b@c.d');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEmailAddressError);
      expect((error as InvalidEmailAddressError).problem).toBe('whitespace');
    }
  });

  it('refuses what is not a string', () => {
    expect(isEmailAddress(42)).toBe(false);
    expect(isEmailAddress(undefined)).toBe(false);
  });
});
