/**
 * The Mailtrap suppressions adapter against the Mailtrap simulator: the sending-domain look-up
 * the push makes before its first POST.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailtrapSuppressions } from '../../shared/adapters/mailtrap-suppressions.ts';
import { ProviderCallError } from '../../shared/ports/provider-suppressions.ts';
import { startMailtrapSimulator, type MailtrapSimulator } from '../../local/simulators/mailtrap-simulator.ts';

const TOKEN = 'adapter-test-token';
let sim: MailtrapSimulator;

beforeAll(async () => {
  sim = await startMailtrapSimulator({ port: 0, token: TOKEN, accountId: 7, domains: [{ id: 3, name: 'Example.com' }] });
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.reset());

const adapter = () => new MailtrapSuppressions({ baseUrl: sim.url, token: async () => TOKEN });

describe('sending domains', () => {
  it('looks the domains up once for concurrent callers of a cold start', async () => {
    // Prepare
    const api = adapter();
    // Act: as a drain with concurrency 8 does on its first addresses.
    const maps = await Promise.all(Array.from({ length: 8 }, () => api.domains()));
    await api.domains();
    // Assess
    expect(maps.every((m) => m.get('example.com') === 3)).toBe(true);
    expect(sim.calls['domains.list']).toBe(1);
  });

  it('asks again after a failed look-up instead of keeping the failure', async () => {
    // Prepare
    const api = adapter();
    sim.injectFaults([{ status: 503, count: 1, operation: 'domains.list' }]);
    // Act
    const first = await api.domains().catch((error: unknown) => error);
    const second = await api.domains();
    // Assess
    expect(first).toBeInstanceOf(ProviderCallError);
    expect((first as ProviderCallError).opts).toMatchObject({ retryable: true, status: 503 });
    expect(second.get('example.com')).toBe(3);
    expect(sim.calls['domains.list']).toBe(2);
  });
});
