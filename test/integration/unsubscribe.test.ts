/**
 * One-click unsubscribe on the local stack: the link from `npx mailbridge unsubscribe link`, the
 * page in a real headless Chromium (Debian's `chromium`, driven by playwright-core), the RFC 8058
 * POST as a mail client makes it, refusals, rotation, and the unsubscribe reaching both providers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoSuppressionStore } from '../../shared/adapters/dynamo-suppression-store.ts';
import { unsubscribeSecretsSource } from '../../shared/adapters/unsubscribe-secrets.ts';
import { DEFAULT_POLICY } from '../../shared/domain/suppression-policy.ts';
import { mintUnsubscribeToken, unsubscribeUrl } from '../../shared/domain/unsubscribe-token.ts';
import { handleUnsubscribe } from '../../functions/unsubscribe/handler.ts';
import { UNSUBSCRIBE_PREVIOUS_SECRET, UNSUBSCRIBE_SECRET } from './global-setup.ts';
import { cli, clients, localInfo, runScheduled, sim, uniqueEmail, waitFor } from './helpers.ts';

const c = clients();
const info = localInfo();
const store = new DynamoSuppressionStore(c.documents, info.tables.SuppressionsTable?.name ?? 'missing');

const ONE_CLICK = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' } as const;

function link(email: string, opts: { domain?: string; stream?: 'transactional' | 'bulk'; secret?: string } = {}): string {
  return unsubscribeUrl(info.httpUrl, mintUnsubscribeToken({ email, domain: opts.domain, stream: opts.stream }, opts.secret ?? UNSUBSCRIBE_SECRET));
}

describe('one-click unsubscribe: the page in a real browser', () => {
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'mailbridge-chromium-'));
    // Without the background-networking flags Chromium's own connections are refused by this closed network.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('opens the CLI link, shows the form without acting, records the unsubscribe on the button, confirms it', async () => {
    // Prepare: the link as `npx mailbridge unsubscribe link` prints it
    const email = uniqueEmail('Browser');
    const out = cli(['unsubscribe', 'link', email, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as { url: string; headers: Record<string, string> };
    expect(printed.headers).toEqual({ 'List-Unsubscribe': `<${printed.url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    const page = await context.newPage();
    // Act: open the link
    const response = await page.goto(printed.url);
    // Assess: a form, and nothing recorded yet
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Unsubscribe');
    expect(await page.getByRole('main').textContent()).toContain(email);
    const button = page.getByRole('button', { name: 'Unsubscribe' });
    expect(await button.isVisible()).toBe(true);
    expect(await store.get(email)).toBeUndefined();
    // Act: press the button
    await Promise.all([page.waitForURL(printed.url), button.click()]);
    // Assess: the confirmation, and the store holds the unsubscribe
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You are unsubscribed');
    expect(await page.getByRole('status').textContent()).toContain(email);
    const state = await store.get(email);
    expect(state?.suppressions).toMatchObject([{ scope: 'global', reason: 'unsubscribe', source: 'link' }]);
    await page.close();
  });
});

describe('one-click unsubscribe: HTTP', () => {
  it('records the unsubscribe a mail client POSTs (RFC 8058), scoped as the token says, once', async () => {
    // Prepare
    const email = uniqueEmail('OneClick');
    const url = link(email, { domain: 'news.examplesender.com', stream: 'transactional' });
    // Act
    const first = await fetch(url, ONE_CLICK);
    const written = await store.get(email);
    const again = await fetch(url, ONE_CLICK);
    // Assess
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await first.text()).toContain('You are unsubscribed');
    expect(written?.suppressions).toMatchObject([{ scope: 'domain:news.examplesender.com/transactional', reason: 'unsubscribe', source: 'link' }]);
    expect(again.status).toBe(200);
    expect((await store.get(email))?.version).toBe(written?.version);
  });

  it('never changes anything on GET (mail scanners follow links)', async () => {
    const email = uniqueEmail('Scanner');
    const url = link(email);
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.text()).toContain('<form method="post">');
    }
    expect(await store.get(email)).toBeUndefined();
  });

  it('refuses tampered, truncated and unknown-version tokens, and a POST without the one-click body, recording nothing', async () => {
    // Prepare
    const email = uniqueEmail('Tampered');
    const token = mintUnsubscribeToken({ email }, UNSUBSCRIBE_SECRET);
    const [, payload, mac] = token.split('.') as [string, string, string];
    const forged = `u1.${Buffer.from(JSON.stringify([email, '', '', 1])).toString('base64url')}.${mac}`;
    const attempts: Array<[string, RequestInit, number]> = [
      [`u1.${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`, ONE_CLICK, 403],
      [forged, ONE_CLICK, 403],
      [token.slice(0, -5), ONE_CLICK, 400],
      [`u9.${payload}.${mac}`, ONE_CLICK, 400],
      [token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }, 400],
      [token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"List-Unsubscribe":"One-Click"}' }, 400],
    ];
    // Act + Assess
    for (const [t, init, status] of attempts) {
      const response = await fetch(`${info.httpUrl}/unsubscribe/${t}`, init);
      expect(response.status, t).toBe(status);
      expect(await response.text()).not.toContain('You are unsubscribed');
    }
    expect(await store.get(email)).toBeUndefined();
  });

  it('accepts a link signed with the previous secret while it is configured (rotation)', async () => {
    const email = uniqueEmail('Rotated');
    const response = await fetch(link(email, { secret: UNSUBSCRIBE_PREVIOUS_SECRET }), ONE_CLICK);
    expect(response.status).toBe(200);
    expect((await store.get(email))?.suppressions).toMatchObject([{ scope: 'global', reason: 'unsubscribe' }]);
  });

  it('fails closed when no secret is configured: 503 and nothing recorded', async () => {
    // Prepare: the real adapters, but a deployment that forgot the SSM parameter
    const email = uniqueEmail('NoSecret');
    const token = mintUnsubscribeToken({ email }, UNSUBSCRIBE_SECRET);
    const event = {
      version: '2.0',
      routeKey: 'POST /unsubscribe/{token}',
      rawPath: `/unsubscribe/${token}`,
      rawQueryString: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      pathParameters: { token },
      requestContext: { http: { method: 'POST', path: `/unsubscribe/${token}` } },
      body: 'List-Unsubscribe=One-Click',
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    // Act
    const result = await handleUnsubscribe(event, { store, secrets: unsubscribeSecretsSource({}), policy: DEFAULT_POLICY, now: () => new Date() });
    // Assess
    expect(result.statusCode).toBe(503);
    expect(await store.get(email)).toBeUndefined();
  });

  it('reaches both providers: Mailtrap unsubscriptions on every configured domain, the SES contact opted out', async () => {
    // Prepare
    const email = uniqueEmail('LinkSync');
    expect((await fetch(link(email), ONE_CLICK)).status).toBe(200);
    // Act + Assess
    type MailtrapState = { entries: Array<{ email: string; domain_name: string | null; sending_stream: string; type: string }> };
    type SesState = { contactLists: Array<{ name: string; contacts: Array<{ EmailAddress: string; UnsubscribeAll: boolean }> }> };
    const records = await waitFor(async () => {
      await runScheduled('mailtrap-sync');
      const r = (await sim<MailtrapState>(info.endpoints.mailtrap ?? '', 'state')).entries.filter((e) => e.email === email);
      return r.length === 2 ? r : undefined;
    }, 'Mailtrap unsubscriptions', 60_000);
    expect(records.map((r) => [r.domain_name, r.sending_stream, r.type]).sort()).toEqual([
      ['examplesender.com', 'transactional', 'unsubscription'],
      ['news.examplesender.com', 'transactional', 'unsubscription'],
    ]);
    const contact = await waitFor(async () => {
      await runScheduled('ses-sync');
      const s = await sim<SesState>(info.endpoints.sesv2 ?? '', 'state');
      return s.contactLists.flatMap((l) => l.contacts).find((x) => x.EmailAddress === email);
    }, 'SES contact', 60_000);
    expect(contact.UnsubscribeAll).toBe(true);
  }, 150_000);
});
