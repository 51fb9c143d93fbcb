/**
 * Duplicates, conflicts and the original among the invoices of one identity; the seller's
 * bank-account history; the warnings they become.
 */
import { describe, expect, it } from 'vitest';
import { CLAIM_CAPACITY, changedStandings, deriveStanding, paymentFields, withEntry, type ClaimEntry } from '../../../shared/domain/invoice-standing.ts';
import { checkBankAccount, intrinsicWarnings, withConflicts, type SeenIban } from '../../../shared/domain/invoice-warnings.ts';
import { sellerKeys } from '../../../shared/domain/inbound-mail.ts';

const GENUINE_IBAN = 'DE02120300000000202051';
const FORGED_IBAN = 'GB33BUKB20201555555555';

function entry(invoiceId: string, receivedAt: string, authenticated: boolean, iban: string, extra: Partial<ClaimEntry> = {}): ClaimEntry {
  return {
    invoiceId,
    receivedAt,
    authenticated,
    sha256: `sha-${invoiceId}`,
    payment: paymentFields({ iban, totalWithVat: '1190.00', amountDue: '1190.00', currency: 'EUR', dueDate: '2024-07-15' }),
    ...extra,
  };
}

/** Each entry added in turn, as arrivals would. */
const arrive = (...entries: ClaimEntry[]) => entries.reduce<ClaimEntry[]>((all, e) => withEntry(all, e), []);

describe('invoice standing', () => {
  const genuine = entry('g:1', '2024-07-01T10:00:00Z', true, GENUINE_IBAN);
  const forgedEarlier = entry('f:1', '2024-07-01T09:00:00Z', false, FORGED_IBAN);
  const forgedLater = entry('f:1', '2024-07-01T11:00:00Z', false, FORGED_IBAN);

  it('forged-then-genuine and genuine-then-forged give the genuine invoice the same standing: original, one conflict naming the forged one', () => {
    const forgedFirst = arrive(forgedEarlier, genuine);
    const genuineFirst = arrive(genuine, forgedLater);

    expect(deriveStanding(forgedFirst, 'g:1')).toEqual({ duplicateOf: null, conflicts: [{ invoiceId: 'f:1', fields: ['iban'] }] });
    expect(deriveStanding(genuineFirst, 'g:1')).toEqual(deriveStanding(forgedFirst, 'g:1'));
    expect(deriveStanding(forgedFirst, 'f:1')).toEqual({ duplicateOf: null, conflicts: [{ invoiceId: 'g:1', fields: ['iban'] }] });
  });

  it('an unauthenticated copy with the same payment fields never becomes the original of the authenticated one', () => {
    const copy = entry('c:1', '2024-07-01T09:00:00Z', false, GENUINE_IBAN);
    const entries = arrive(copy, genuine);

    expect(deriveStanding(entries, 'g:1')).toEqual({ duplicateOf: null, conflicts: [] });
    expect(deriveStanding(entries, 'c:1')).toEqual({ duplicateOf: 'g:1', conflicts: [] });
    // The copy's record must change when the genuine one arrives: it was the original.
    expect(changedStandings([copy], entries, 'g:1')).toEqual([{ invoiceId: 'c:1', standing: { duplicateOf: 'g:1', conflicts: [] } }]);
  });

  it('same payment fields written differently are the same invoice; a field missing on one side differs', () => {
    const reformatted = entry('r:1', '2024-07-02T00:00:00Z', true, 'de02 1203 0000 0000 2020 51', {
      payment: paymentFields({ iban: 'de02 1203 0000 0000 2020 51', totalWithVat: '1190.0', amountDue: '1190', currency: 'eur', dueDate: '2024-07-15' }),
    });
    const noDueDate = entry('n:1', '2024-07-03T00:00:00Z', true, GENUINE_IBAN, {
      payment: paymentFields({ iban: GENUINE_IBAN, totalWithVat: '1190.00', amountDue: '1190.00', currency: 'EUR', dueDate: null }),
    });
    const entries = arrive(genuine, reformatted, noDueDate);

    expect(deriveStanding(entries, 'r:1')).toEqual({ duplicateOf: 'g:1', conflicts: [{ invoiceId: 'n:1', fields: ['dueDate'] }] });
    expect(deriveStanding(entries, 'n:1')).toEqual({ duplicateOf: null, conflicts: [{ invoiceId: 'g:1', fields: ['dueDate'] }] });
  });

  it('the same attachment bytes are a duplicate whatever was read from them', () => {
    const sameBytes = entry('s:1', '2024-07-02T00:00:00Z', true, FORGED_IBAN, { sha256: genuine.sha256 });

    expect(deriveStanding(arrive(genuine, sameBytes), 's:1')).toEqual({ duplicateOf: 'g:1', conflicts: [] });
  });

  it('a redelivery replaces its own entry: the same entries, the same standing', () => {
    const once = arrive(forgedEarlier, genuine);
    const twice = withEntry(once, genuine);

    expect(twice).toEqual(once);
  });

  it('stays bounded under a flood of forged copies, and the genuine invoice and the originals survive it', () => {
    const flood = Array.from({ length: CLAIM_CAPACITY + 20 }, (_, i) => entry(`x${i}:1`, `2024-07-01T08:${String(i % 60).padStart(2, '0')}:00Z`, false, FORGED_IBAN));
    const entries = arrive(...flood, genuine);

    expect(entries).toHaveLength(CLAIM_CAPACITY);
    expect(entries.map((e) => e.invoiceId)).toContain('g:1');
    expect(deriveStanding(entries, 'g:1')).toEqual({ duplicateOf: null, conflicts: [{ invoiceId: 'x0:1', fields: ['iban'] }] });
  });
});

describe('bank account history and warnings', () => {
  /** One seller known by one key (VAT id): checked and taught there. */
  const byVat = (history: SeenIban[]) => ({ check: history, learn: [history] });

  it('flags an IBAN not seen on the seller authenticated invoices, and learns only from authenticated ones', () => {
    const first = checkBankAccount(byVat([]), { invoiceId: 'g:1', iban: 'DE02 1203 0000 0000 2020 51', authenticated: true });
    const history = first.learned[0] ?? [];
    const forged = checkBankAccount(byVat(history), { invoiceId: 'f:1', iban: FORGED_IBAN, authenticated: false });
    const again = checkBankAccount(byVat(forged.learned[0] ?? []), { invoiceId: 'f2:1', iban: FORGED_IBAN, authenticated: false });

    expect(first).toEqual({ warning: null, learned: [[{ iban: GENUINE_IBAN, firstInvoiceId: 'g:1' }]] });
    expect(forged).toEqual({ warning: { code: 'bank-account-changed', iban: FORGED_IBAN, previous: [GENUINE_IBAN] }, learned: [history] });
    expect(again.warning).toEqual(forged.warning);
  });

  it('gives a redelivered invoice the same answer as its first delivery', () => {
    const known = [{ iban: GENUINE_IBAN, firstInvoiceId: 'g:1' }];
    const changed = checkBankAccount(byVat(known), { invoiceId: 'n:1', iban: FORGED_IBAN, authenticated: true });
    const redelivered = checkBankAccount(byVat(changed.learned[0] ?? []), { invoiceId: 'n:1', iban: FORGED_IBAN, authenticated: true });

    expect(changed.warning).toEqual({ code: 'bank-account-changed', iban: FORGED_IBAN, previous: [GENUINE_IBAN] });
    expect(redelivered).toEqual(changed);
  });

  it('checks an invoice naming the seller without its VAT id against what the authenticated invoices taught the name', () => {
    // Prepare: the genuine invoice (VAT id and name) teaches both keys.
    const genuine = checkBankAccount({ check: [], learn: [[], []] }, { invoiceId: 'g:1', iban: GENUINE_IBAN, authenticated: true });
    const [vatHistory = [], nameHistory = []] = genuine.learned;

    // Act: a forgery with the seller's name only is checked by name.
    const nameOnly = checkBankAccount({ check: nameHistory, learn: [nameHistory] }, { invoiceId: 'f:1', iban: FORGED_IBAN, authenticated: false });

    // Assess
    expect(vatHistory).toEqual(nameHistory);
    expect(nameOnly.warning).toEqual({ code: 'bank-account-changed', iban: FORGED_IBAN, previous: [GENUINE_IBAN] });
  });

  it('keys a seller by VAT id, else by name; an authenticated invoice teaches both', () => {
    expect(sellerKeys({ sellerVatId: 'DE 123 456 789', sellerName: 'Beispiel Software GmbH' })).toEqual({ check: 'vat:DE123456789', learn: ['vat:DE123456789', 'name:BEISPIELSOFTWAREGMBH'] });
    expect(sellerKeys({ sellerVatId: null, sellerName: 'Beispiel Software GmbH' })).toEqual({ check: 'name:BEISPIELSOFTWAREGMBH', learn: ['name:BEISPIELSOFTWAREGMBH'] });
    expect(sellerKeys({ sellerVatId: null, sellerName: null })).toEqual({ check: null, learn: [] });
  });

  it('builds the warnings list: sender, bank account, recognition, then the conflicts (which alone change later)', () => {
    const intrinsic = intrinsicWarnings({
      sender: { address: 'billing@attacker.example', domain: 'attacker.example', authenticated: false },
      recognition: [{ code: 'einvoice-incomplete', missing: ['BT-115'] }],
      bank: { code: 'bank-account-changed', iban: FORGED_IBAN, previous: [GENUINE_IBAN] },
    });
    const withOne = withConflicts(intrinsic, [{ invoiceId: 'g:1', fields: ['iban'] }]);
    const withOther = withConflicts(withOne, [{ invoiceId: 'g2:1', fields: ['iban', 'totalWithVat'] }]);

    expect(withOne.map((w) => w.code)).toEqual(['unauthenticated-sender', 'bank-account-changed', 'einvoice-incomplete', 'conflicting-duplicate']);
    expect(withOther.slice(0, 3)).toEqual(intrinsic);
    expect(withOther[3]).toEqual({ code: 'conflicting-duplicate', invoiceId: 'g2:1', fields: ['iban', 'totalWithVat'] });
    expect(intrinsicWarnings({ sender: { address: 'a@b.example', domain: 'b.example', authenticated: true }, recognition: [], bank: null })).toEqual([]);
  });
});

describe('claim item size', () => {
  it('stays far below DynamoDB 400 KB item limit at capacity with every field at its bound in 4-byte characters', () => {
    // Prepare: RECORD_LIMITS.fieldChars (200) characters of U+1F4B6 for each payment field, the longest invoice ids.
    const wide = '\u{1F4B6}'.repeat(200);
    const entries = Array.from({ length: CLAIM_CAPACITY + 5 }, (_, i): ClaimEntry => ({
      invoiceId: `${'m'.repeat(200)}${i}:99`,
      receivedAt: '2024-07-01T10:00:00.000Z',
      authenticated: i % 2 === 0,
      sha256: 'f'.repeat(64),
      payment: { iban: `${wide}${i}`, totalWithVat: wide, amountDue: wide, currency: wide, dueDate: wide },
    }));

    // Act
    const kept = arrive(...entries);
    const bytes = Buffer.byteLength(JSON.stringify({ pk: `ID#seller#${'k'.repeat(256)}`, sk: 'CLAIM', entries: kept, version: 1 }));

    // Assess
    expect(kept).toHaveLength(CLAIM_CAPACITY);
    expect(bytes).toBeLessThan(250_000);
  });
});
