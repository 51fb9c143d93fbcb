/**
 * One-click unsubscribe: token mint/verify rate (baseline: one bare HMAC-SHA256 over the same
 * bytes) and, on the local stack, the latency of the RFC 8058 POST (one conditional write to
 * DynamoDB Local) and of the GET page, next to the local HTTP API's own health route as baseline.
 *
 *   npm run bench:unsubscribe        (TOKENS=20000 REQUESTS=300 CLIENTS=4 to change the load)
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mintUnsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../shared/domain/unsubscribe-token.ts';
import { startLocalStack } from '../local/stack.ts';
import { machine } from './machine.ts';

const TOKENS = Number(process.env.TOKENS ?? 20_000);
const REQUESTS = Number(process.env.REQUESTS ?? 300);
const CLIENTS = Number(process.env.CLIENTS ?? 4);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

console.log(`machine: ${machine()}`);

// ---- tokens (pure) ----
const secret = randomBytes(32).toString('base64url');
const previous = randomBytes(32).toString('base64url');
const emails = Array.from({ length: TOKENS }, (_, i) => `reader-${i}@news.example.com`);
let t0 = performance.now();
const tokens = emails.map((email) => mintUnsubscribeToken({ email, domain: 'news.example.com', stream: 'bulk' }, secret));
const mintMs = performance.now() - t0;
t0 = performance.now();
let ok = 0;
for (const token of tokens) if (verifyUnsubscribeToken(token, [secret, previous]).ok) ok++;
const verifyMs = performance.now() - t0;
t0 = performance.now();
for (const token of tokens) createHmac('sha256', secret).update(token.slice(0, token.lastIndexOf('.'))).digest();
const hmacMs = performance.now() - t0;
if (ok !== TOKENS) throw new Error(`only ${ok} of ${TOKENS} tokens verified`);
console.log(`tokens: mint ${rate(TOKENS, mintMs)}/s, verify (2 secrets) ${rate(TOKENS, verifyMs)}/s; baseline one HMAC-SHA256 ${rate(TOKENS, hmacMs)}/s (${TOKENS} tokens, ${tokens[0]?.length} chars each)`);

// ---- endpoint on the local stack ----
const stack = await startLocalStack({ httpPort: 0, stateFile: null, logLevel: 'ERROR', onFunctionError: () => undefined, scheduleIntervalMs: 'off' });
try {
  const [current] = stack.info.secrets.unsubscribe;
  if (!current) throw new Error('local stack without an unsubscribe secret');
  const base = stack.info.httpUrl;
  const urls = Array.from({ length: REQUESTS }, (_, i) => unsubscribeUrl(base, mintUnsubscribeToken({ email: `bench-${i}-${Date.now()}@example.org` }, current)));

  async function measure(label: string, request: (i: number) => Promise<Response>, expectStatus: number): Promise<void> {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < REQUESTS; i = next++) {
          const s = performance.now();
          const response = await request(i);
          await response.arrayBuffer();
          if (response.status !== expectStatus) throw new Error(`${label}: ${response.status}`);
          latencies.push(performance.now() - s);
        }
      }),
    );
    const wall = performance.now() - started;
    latencies.sort((a, b) => a - b);
    console.log(`${label}: ${REQUESTS} requests, ${CLIENTS} clients, ${rate(REQUESTS, wall)}/s, p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  }

  // Warm up the function (cold imports) before timing.
  await (await fetch(urls[0] as string)).arrayBuffer();
  await measure('baseline GET /__local/health', () => fetch(`${base}/__local/health`), 200);
  await measure('GET page (verify, render)', (i) => fetch(urls[i] as string), 200);
  const post = (i: number) => fetch(urls[i] as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  await measure('POST one-click, first (one conditional write)', post, 200);
  await measure('POST one-click, repeated (read, no write)', post, 200);
} finally {
  await stack.stop();
}
