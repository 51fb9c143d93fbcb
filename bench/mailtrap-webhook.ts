/**
 * Mailtrap webhook acknowledgement on the local stack: several concurrent clients sign and
 * post 500-event batches to POST /webhooks/mailtrap; prints requests/s, events/s and p50/p99
 * acknowledgement latency, then the time until mailtrap-events has applied everything.
 * Also the webhook's minified bundle size (same esbuild options as serverless.yml) and its
 * cold-start init time (fresh Node process importing the bundle).
 *
 *   npm run bench:webhook            (CLIENTS=4 REQUESTS=10 to change the load)
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { lambdaBuildOptions } from './lambda-bundle.ts';
import { signMailtrapBody } from '../shared/domain/webhook-signature.ts';
import { PROJECT_ROOT, startLocalStack } from '../local/stack.ts';
import { machine } from './machine.ts';

const CLIENTS = Number(process.env.CLIENTS ?? 4);
const REQUESTS = Number(process.env.REQUESTS ?? 10);
const EVENTS_PER_REQUEST = 500;

function batch(): string {
  const kinds = ['delivery', 'delivery', 'delivery', 'open', 'click', 'bounce', 'soft bounce', 'spam', 'unsubscribe', 'reject'];
  const events = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => ({
    event: kinds[i % kinds.length],
    event_id: randomUUID(),
    email: `bench-${randomUUID().slice(0, 12)}@example.org`,
    timestamp: Math.floor(Date.now() / 1000),
    message_id: randomUUID(),
    sending_stream: 'transactional',
    sending_domain_name: 'bench.example.com',
    ...(kinds[i % kinds.length] === 'bounce' ? { bounce_category: 'badrecipient', response_code: 550 } : {}),
  }));
  return JSON.stringify({ events });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const stack = await startLocalStack({ httpPort: 0, stateFile: null, logLevel: 'ERROR', onFunctionError: () => undefined });
const info = stack.info;
const secret = info.secrets.mailtrapWebhook;
const url = `${info.httpUrl}/webhooks/mailtrap`;
const sqs = new SQSClient({ region: info.region, endpoint: info.endpoints.sqs, credentials: { ...info.credentials }, useQueueUrlAsEndpoint: false });
const queueUrl = info.queues.MailtrapEventsQueue?.url ?? '';

// Bodies are prepared up front so the clock measures the webhook, not the generator.
const bodies = Array.from({ length: CLIENTS * REQUESTS }, () => batch());
const latencies: number[] = [];
let failures = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, client) => {
    for (let r = 0; r < REQUESTS; r++) {
      const body = bodies[client * REQUESTS + r] as string;
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'mailtrap-signature': signMailtrapBody(Buffer.from(body), secret) },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (response.status !== 200) failures++;
    }
  }),
);
const ackSeconds = (performance.now() - started) / 1000;
for (;;) {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  if (Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const drainedSeconds = (performance.now() - started) / 1000;
await stack.stop();

// Bundle: the same esbuild options serverless.yml gives serverless-esbuild.
const outDir = mkdtempSync(join(tmpdir(), 'mailbridge-bench-bundle-'));
const outfile = join(outDir, 'handler.mjs');
await build({
  ...lambdaBuildOptions(),
  entryPoints: [join(PROJECT_ROOT, 'functions', 'mailtrap-webhook', 'handler.ts')],
  outfile,
});
const bundleBytes = statSync(outfile).size;
// Init time: what a cold start pays to load the module (the handler builds its clients at import).
const inits: number[] = [];
for (let i = 0; i < 7; i++) {
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`],
    { env: { ...process.env, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, encoding: 'utf8' },
  );
  inits.push(Number(out.trim()));
}
inits.sort((a, b) => a - b);
latencies.sort((a, b) => a - b);

const requests = CLIENTS * REQUESTS;
console.log(`mailtrap-webhook bench: ${machine()}`);
console.table([
  {
    clients: CLIENTS,
    requests,
    eventsPerRequest: EVENTS_PER_REQUEST,
    non200: failures,
    requestsPerSecond: Number((requests / ackSeconds).toFixed(1)),
    eventsPerSecondAcknowledged: Math.round((requests * EVENTS_PER_REQUEST) / ackSeconds),
    ackP50ms: Math.round(percentile(latencies, 50)),
    ackP99ms: Math.round(percentile(latencies, 99)),
    ackMaxMs: Math.round(latencies[latencies.length - 1] ?? 0),
    eventsPerSecondApplied: Math.round((requests * EVENTS_PER_REQUEST) / drainedSeconds),
  },
]);
console.log(`bundle: ${bundleBytes} bytes (${(bundleBytes / 1024).toFixed(1)} KiB) minified; module init (cold start import) median ${inits[3]?.toFixed(0)} ms, min ${inits[0]?.toFixed(0)} ms over 7 fresh processes`);
process.exit(0);
