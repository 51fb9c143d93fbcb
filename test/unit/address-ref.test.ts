/**
 * addressRef: the reference to an address that logs carry instead of the address. Keyed
 * (HMAC-SHA256 under the stage's ADDRESS_REF_KEY), so a dictionary of hashed addresses does not
 * reverse it; and every function that logs one refuses to start without the key.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config.ts';
import { addressRef, requireAddressRefKey } from '../../shared/observability.ts';
import { feedbackDepsFromEnv } from '../../shared/adapters/feedback-deps.ts';
import { sesSyncDepsFromEnv } from '../../shared/adapters/ses-sync-deps.ts';
import { mailtrapSyncDepsFromEnv } from '../../shared/adapters/mailtrap-sync-deps.ts';
import { reconcileDepsFromEnv } from '../../shared/adapters/reconcile-deps.ts';
import { suppressionChangesDepsFromEnv } from '../../shared/adapters/suppression-changes-deps.ts';
import { suppressionsApiDepsFromEnv } from '../../shared/adapters/suppressions-api-deps.ts';
import { unsubscribeDepsFromEnv } from '../../shared/adapters/unsubscribe-deps.ts';
import { localClosure } from './source-imports.ts';

const KEY_A = 'a'.repeat(24) + '-stage-key-one';
const KEY_B = 'b'.repeat(24) + '-stage-key-two';

describe('addressRef', () => {
  it('gives the same reference for the same address and key, another for another key', () => {
    const ref = addressRef('alice@example.com', KEY_A);
    expect(ref).toMatch(/^[0-9a-f]{16}$/);
    expect(addressRef('alice@example.com', KEY_A)).toBe(ref);
    // The spelling a log line meets varies; the reference does not.
    expect(addressRef('  Alice@Example.COM ', KEY_A)).toBe(ref);
    expect(addressRef('jose\u0301@example.com', KEY_A)).toBe(addressRef('jos\u00e9@example.com', KEY_A));
    // The store's one address rule: IDN domains as A-labels, no trailing dot.
    expect(addressRef('jos\u00e9@b\u00fccher.de', KEY_A)).toBe(addressRef('jose\u0301@xn--bcher-kva.de.', KEY_A));
    // A value the rule refuses still gets a keyed reference (reconciliation logs such entries).
    expect(addressRef('"john doe"@example.com', KEY_A)).toMatch(/^[0-9a-f]{16}$/);
    expect(addressRef('alice@example.com', KEY_B)).not.toBe(ref);
    expect(addressRef('bob@example.com', KEY_A)).not.toBe(ref);
  });

  it('is not a prefix of the plain SHA-256 of the address (which a dictionary reverses)', () => {
    for (const email of ['alice@example.com', 'bob@example.org']) {
      const plain = createHash('sha256').update(email).digest('hex');
      expect(plain.startsWith(addressRef(email, KEY_A))).toBe(false);
      expect(plain).not.toContain(addressRef(email, KEY_A));
    }
  });

  it('uses the stage key from the environment by default', () => {
    requireAddressRefKey({ ADDRESS_REF_KEY: KEY_B });
    expect(addressRef('carol@example.com')).toBe(addressRef('carol@example.com', KEY_B));
  });

  it('refuses a missing or short key, naming the variable', () => {
    expect(() => requireAddressRefKey({})).toThrow(ConfigError);
    expect(() => requireAddressRefKey({})).toThrow(/ADDRESS_REF_KEY/);
    expect(() => requireAddressRefKey({ ADDRESS_REF_KEY: '' })).toThrow(/ADDRESS_REF_KEY is not set/);
    expect(() => requireAddressRefKey({ ADDRESS_REF_KEY: 'short' })).toThrow(/ADDRESS_REF_KEY has 5 characters/);
  });
});

describe('functions that log address references', () => {
  // Everything each factory needs except the key: the only reason left to refuse is the key.
  const env: NodeJS.ProcessEnv = {
    SUPPRESSION_TABLE: 'suppressions',
    SUPPRESSION_SYNC_TABLE: 'sync',
    SUPPRESSION_SYNC_DLQ_URL: 'http://127.0.0.1:1/queue/sync-dlq',
    SUPPRESSION_SYNC_BUCKET: 'sync-bucket',
    SES_FEEDBACK_DLQ_URL: 'http://127.0.0.1:1/queue/ses-dlq',
    MAILTRAP_API_TOKEN: 'token',
    UNSUBSCRIBE_SECRETS: 'secret-secret-secret-secret-secret',
  };
  const factories: Record<string, (env: NodeJS.ProcessEnv) => unknown> = {
    'ses-feedback / mailtrap-events': (e) => feedbackDepsFromEnv('SES_FEEDBACK_DLQ_URL', e),
    'ses-sync': sesSyncDepsFromEnv,
    'mailtrap-sync': mailtrapSyncDepsFromEnv,
    'suppression-reconcile': reconcileDepsFromEnv,
    'suppression-changes': suppressionChangesDepsFromEnv,
    'suppressions-api': suppressionsApiDepsFromEnv,
    unsubscribe: unsubscribeDepsFromEnv,
  };

  for (const [name, build] of Object.entries(factories)) {
    it(`${name} refuses to start without ADDRESS_REF_KEY, and starts with it`, () => {
      expect(() => build(env)).toThrow(/ADDRESS_REF_KEY/);
      expect(build({ ...env, ADDRESS_REF_KEY: KEY_A })).toBeDefined();
    });
  }
});

describe('every function that logs address references checks the key in its deps factory', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const calls = (file: string, pattern: RegExp) => !file.endsWith('observability.ts') && pattern.test(readFileSync(file, 'utf8'));
  const handlers = readdirSync(join(ROOT, 'functions')).map((name) => ({ name, files: [...localClosure(join(ROOT, 'functions', name, 'handler.ts'))] }));

  it('finds the functions (the static check itself)', () => {
    expect(handlers.filter((h) => h.files.some((f) => calls(f, /\baddressRef\(/))).map((h) => h.name)).toHaveLength(8);
  });

  for (const { name, files } of handlers) {
    if (!files.some((f) => calls(f, /\baddressRef\(/))) continue;
    it(`${name}: a shared/adapters/*-deps.ts it loads calls requireAddressRefKey`, () => {
      // Otherwise the first log line, not the cold start, would find the key missing.
      expect(files.filter((f) => /shared\/adapters\/[^/]+-deps\.ts$/.test(f) && calls(f, /\brequireAddressRefKey\(/))).not.toEqual([]);
    });
  }
});
