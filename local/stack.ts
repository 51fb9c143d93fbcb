/**
 * The whole pipeline on one machine: emulators, the resources of serverless.yml, and every
 * function wired to its event source as Lambda would wire it. Used by `npm start`, the
 * integration tests and the benchmarks.
 *
 * Functions run in this process. Lambda gives each function its own environment; here the
 * environments are merged, which is safe because serverless.yml never gives one variable two
 * meanings (checked at start: a conflict is an error) — except POWERTOOLS_SERVICE_NAME, which
 * is `mailbridge-local` for all.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import { freePort, LOCAL_CREDENTIALS, startDynamoDbLocal, startFauxqsEmulator, type DynamoJit, type RunningEmulator } from './emulators.ts';
import { loadServiceConfig, type FunctionConfig, type ServiceConfig, type SqsEvent } from './serverless-config.ts';
import { provisionResources, ResourceRegistry } from './resources.ts';
import { pollerConcurrency, SqsPoller } from './event-sources/sqs-poller.ts';
import { startHttpApi, type LocalRoute, type Route } from './event-sources/http-api.ts';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateContactListCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDbStreamPoller } from './event-sources/dynamodb-stream-poller.ts';
import { LocalScheduler, parseIntervalOverride, type ScheduledFunction } from './event-sources/scheduler.ts';
import { startSesv2Simulator, type RateLimit, type Sesv2Simulator } from './simulators/sesv2-simulator.ts';
import { startMailtrapSimulator, type MailtrapRateLimits, type MailtrapSimulator } from './simulators/mailtrap-simulator.ts';
import { invokeWithTimeout, lambdaContext, type LambdaHandler } from './lambda-context.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STATE_FILE = join(PROJECT_ROOT, '.mailbridge', 'local.json');

class LocalStackError extends Error {
  override name = 'LocalStackError';
}

export interface LocalStackOptions {
  /** HTTP API port; 0 picks a free one. */
  httpPort?: number;
  fauxqsPort?: number;
  dynamodbPort?: number;
  /** DynamoDB Local's JVM heap in MB (default: MAILBRIDGE_DYNAMODB_HEAP_MB, else 256). */
  dynamodbHeapMb?: number;
  /** DynamoDB Local's JIT (local/emulators.ts): `quick-start` (default, the tests) or `throughput` (`npm start`). */
  dynamodbJit?: DynamoJit;
  stage?: string;
  region?: string;
  /** Where to write the endpoints for the CLI; null writes nothing. */
  stateFile?: string | null;
  /** Seconds before a failed SQS message is visible again (Lambda waits the visibility timeout). */
  retryDelaySeconds?: number;
  /** Extra environment for the functions (e.g. secrets for the local stack). */
  env?: Record<string, string>;
  logLevel?: string;
  onFunctionError?: (functionName: string, error: unknown) => void;
  /**
   * `schedule` events: a number (ms) runs every scheduled function at that interval instead of
   * its rate, `off` only on demand (`POST /__local/schedule/<function>`). Default: the
   * MAILBRIDGE_SCHEDULE_INTERVAL_MS variable, else each function's own rate.
   */
  scheduleIntervalMs?: number | 'off';
  /** Provider simulators' rate limits (default: the documented ones). */
  simulators?: { sesRateLimit?: RateLimit | null; mailtrapRateLimits?: MailtrapRateLimits; /** How long SES import jobs stay PROCESSING (default 0; also `POST /__sim/import-processing`). */ sesImportProcessingMs?: number };
}

/** The local Mailtrap account the simulator serves (token, sending domains). */
const LOCAL_MAILTRAP = {
  token: 'local-mailtrap-api-token',
  accountId: 1,
  domains: [
    { id: 1, name: 'examplesender.com' },
    { id: 2, name: 'news.examplesender.com' },
  ],
} as const;

/** The SES contact list unsubscribes go to on the local stack (created in the simulator at start). */
const LOCAL_SES_CONTACT_LIST = 'mailbridge-unsubscribes';

export interface LocalInfo {
  httpUrl: string;
  region: string;
  stage: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: Record<string, string>;
  queues: Record<string, { name: string; url: string; arn: string; dlq?: string | undefined }>;
  topics: Record<string, { name: string; arn: string }>;
  tables: Record<string, { name: string; arn: string; streamArn?: string | undefined }>;
  buckets: Record<string, { name: string }>;
  functions: Record<string, { handler: string; events: string[] }>;
  skippedResources: string[];
  /** Where the local stack's sync pushes (the CLI's sync-status reads it). */
  sync?: { mailtrapDomains: string[]; mailtrapStreams: string[]; sesContactList?: string | undefined };
  /** Secrets the local stack's functions use (local only: lets the CLI sign simulated webhooks). */
  secrets: { mailtrapWebhook: string; /** Unsubscribe token secrets, current first (the CLI mints links with it). */ unsubscribe: string[] };
  pid: number;
}

export interface LocalStack {
  info: LocalInfo;
  config: ServiceConfig;
  pollers: Map<string, SqsPoller>;
  streamPollers: Map<string, DynamoDbStreamPoller>;
  scheduler: LocalScheduler;
  simulators: { sesv2: Sesv2Simulator; mailtrap: MailtrapSimulator };
  stop(): Promise<void>;
}

function eventKinds(fn: FunctionConfig): string[] {
  return (fn.events ?? []).map((e) => Object.keys(e)[0] ?? 'unknown');
}

async function loadHandler(fn: FunctionConfig): Promise<LambdaHandler> {
  const dot = fn.handler.lastIndexOf('.');
  const file = fn.handler.slice(0, dot);
  const exported = fn.handler.slice(dot + 1);
  const mod = (await import(pathToFileURL(join(PROJECT_ROOT, `${file}.ts`)).href)) as Record<string, unknown>;
  const handler = mod[exported];
  if (typeof handler !== 'function') throw new LocalStackError(`${fn.handler}: export ${exported} is not a function`);
  return handler as LambdaHandler;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const stage = options.stage ?? 'local';
  const config = loadServiceConfig(join(PROJECT_ROOT, 'serverless.yml'), { stage, region });
  const stackName = `${config.service}-${stage}`;

  const [fauxqsPort, dynamoPort] = await Promise.all([
    options.fauxqsPort ?? freePort(),
    options.dynamodbPort ?? freePort(),
  ]);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    // Both start in parallel; whichever started is stopped again if the other fails.
    const emulators = await Promise.allSettled([
      startFauxqsEmulator(fauxqsPort, region),
      startDynamoDbLocal(dynamoPort, region, { jit: options.dynamodbJit ?? 'quick-start', ...(options.dynamodbHeapMb !== undefined ? { heapMb: options.dynamodbHeapMb } : {}) }),
    ]);
    for (const e of emulators) if (e.status === 'fulfilled') stops.push(() => e.value.stop());
    const failed = emulators.find((e) => e.status === 'rejected');
    if (failed) throw failed.reason;
    const [fauxqs, dynamo] = emulators.map((e) => (e as PromiseFulfilledResult<RunningEmulator>).value) as [RunningEmulator, RunningEmulator];

    // Provider simulators (SESv2 suppression/contacts/import jobs, Mailtrap suppressions): in-process, milliseconds to start.
    const sesv2 = await startSesv2Simulator({
      region,
      s3: { endpoint: fauxqs.endpoint, forcePathStyle: true, region, credentials: { ...LOCAL_CREDENTIALS } },
      ...(options.simulators?.sesRateLimit !== undefined ? { rateLimit: options.simulators.sesRateLimit } : {}),
      ...(options.simulators?.sesImportProcessingMs !== undefined ? { importJobProcessingMs: options.simulators.sesImportProcessingMs } : {}),
    });
    stops.push(() => sesv2.stop());
    const mailtrap = await startMailtrapSimulator({
      token: LOCAL_MAILTRAP.token,
      accountId: LOCAL_MAILTRAP.accountId,
      domains: LOCAL_MAILTRAP.domains.map((d) => ({ ...d })),
      ...(options.simulators?.mailtrapRateLimits ? { rateLimits: options.simulators.mailtrapRateLimits } : {}),
    });
    stops.push(() => mailtrap.stop());

    const common = { region, credentials: { ...LOCAL_CREDENTIALS } };
    const clients = {
      sqs: new SQSClient({ ...common, endpoint: fauxqs.endpoint, useQueueUrlAsEndpoint: false }),
      sns: new SNSClient({ ...common, endpoint: fauxqs.endpoint }),
      s3: new S3Client({ ...common, endpoint: fauxqs.endpoint, forcePathStyle: true }),
      dynamodb: new DynamoDBClient({ ...common, endpoint: dynamo.endpoint }),
    };
    const registry = new ResourceRegistry(region, stackName);
    await provisionResources(config.resources, registry, clients);

    // The functions' environment: AWS SDK endpoint variables point every client at the emulators.
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
      AWS_ENDPOINT_URL_SNS: fauxqs.endpoint,
      AWS_ENDPOINT_URL_S3: fauxqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamo.endpoint,
      MAILBRIDGE_S3_FORCE_PATH_STYLE: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const merged = new Map<string, { value: string; from: string }>();
    const addEnv = (vars: Record<string, unknown> | undefined, from: string) => {
      for (const [key, raw] of Object.entries(vars ?? {})) {
        // Deployed, a Secrets Manager dynamic reference; locally generated below.
        if (key === 'ADDRESS_REF_KEY') continue;
        const value = String(registry.resolve(raw));
        const seen = merged.get(key);
        if (key !== 'POWERTOOLS_SERVICE_NAME' && seen && seen.value !== value) {
          throw new LocalStackError(`environment variable ${key} differs between ${seen.from} and ${from}`);
        }
        merged.set(key, { value, from });
      }
    };
    addEnv(config.provider.environment, 'provider');
    for (const [name, fn] of Object.entries(config.functions)) addEnv(fn.environment, name);
    for (const [key, { value }] of merged) env[key] = value;
    Object.assign(env, { POWERTOOLS_SERVICE_NAME: 'mailbridge-local', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '' });
    if (options.logLevel) env.POWERTOOLS_LOG_LEVEL = options.logLevel;
    // Deployed stages read the webhook secret from SSM; locally it is a variable, generated when
    // not given, so the webhook is usable and still never runs without a secret.
    env.MAILTRAP_WEBHOOK_SECRET = randomBytes(16).toString('hex');
    // The same for unsubscribe tokens (deployed: two SSM parameters, current and previous).
    env.UNSUBSCRIBE_SECRETS = randomBytes(32).toString('base64url');
    // The addressRef key (deployed: the stack's generated AddressRefKey secret), one per run.
    env.ADDRESS_REF_KEY = randomBytes(32).toString('base64url');
    // The local HTTP API has no IAM authoriser; this tells suppressions-api it is here, where
    // open routes are expected (deployed, a request without IAM context is refused).
    env.MAILBRIDGE_LOCAL_STACK = 'true';
    // Provider APIs: the simulators. SESv2 clients read AWS_ENDPOINT_URL_SESV2; the Mailtrap
    // adapter its base URL and token (deployed: https://mailtrap.io and an SSM parameter).
    env.AWS_ENDPOINT_URL_SESV2 = sesv2.url;
    env.MAILTRAP_API_URL = mailtrap.url;
    env.MAILTRAP_API_TOKEN = LOCAL_MAILTRAP.token;
    if (!env.MAILTRAP_SENDING_DOMAINS) env.MAILTRAP_SENDING_DOMAINS = LOCAL_MAILTRAP.domains.map((d) => d.name).join(',');
    if (!env.SES_CONTACT_LIST) env.SES_CONTACT_LIST = LOCAL_SES_CONTACT_LIST;
    Object.assign(env, options.env ?? {});
    Object.assign(process.env, env);

    const onError = options.onFunctionError ?? ((name: string, error: unknown) => console.error(`[${name}]`, error));
    if (env.SES_CONTACT_LIST) {
      const ses = new SESv2Client({ ...common, endpoint: sesv2.url, maxAttempts: 5 });
      await ses.send(new CreateContactListCommand({ ContactListName: env.SES_CONTACT_LIST }));
      ses.destroy();
    }
    const streams = new DynamoDBStreamsClient({ ...common, endpoint: dynamo.endpoint });

    const pollers = new Map<string, SqsPoller>();
    const streamPollers = new Map<string, DynamoDbStreamPoller>();
    const scheduled: ScheduledFunction[] = [];
    const routes: Route[] = [];
    for (const [name, fn] of Object.entries(config.functions)) {
      const handler = await loadHandler(fn);
      const timeout = Number(fn.timeout ?? config.provider.timeout ?? 6);
      const functionName = `${stackName}-${name}`;
      const invoke = (event: unknown) => invokeWithTimeout(handler, event, lambdaContext(functionName, timeout, Number(fn.memorySize ?? 256), region), timeout);
      for (const ev of fn.events ?? []) {
        if ('sqs' in ev) {
          const sqs = (ev as SqsEvent).sqs;
          const arn = String(registry.resolve(sqs.arn));
          const queue = [...registry.created.values()].find((r) => r.attributes.Arn === arn);
          if (!queue) throw new LocalStackError(`${name}: sqs event names ${arn}, which is not a local queue`);
          const poller = new SqsPoller({
            name,
            client: clients.sqs,
            queueUrl: queue.ref,
            queueArn: arn,
            region,
            batchSize: sqs.batchSize ?? 10,
            reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures',
            concurrency: pollerConcurrency(sqs, fn.reservedConcurrency),
            retryDelaySeconds: options.retryDelaySeconds ?? 1,
            invoke: (event) => invoke(event),
            onError: (error) => onError(name, error),
          });
          pollers.set(name, poller);
        } else if ('stream' in ev) {
          const spec = (ev as { stream: Record<string, unknown> }).stream;
          if (spec.type !== 'dynamodb') throw new LocalStackError(`${name}: only DynamoDB stream events run locally`);
          const arn = String(registry.resolve(spec.arn));
          const onFailure = (spec.destinations as { onFailure?: { arn?: unknown } | string } | undefined)?.onFailure;
          const failureArn = onFailure === undefined ? undefined : String(registry.resolve(typeof onFailure === 'string' ? onFailure : onFailure.arn));
          const failureQueue = failureArn ? [...registry.created.values()].find((r) => r.attributes.Arn === failureArn) : undefined;
          if (failureArn && !failureQueue) throw new LocalStackError(`${name}: onFailure ${failureArn} is not a local queue`);
          const poller = new DynamoDbStreamPoller({
            name,
            client: streams,
            streamArn: arn,
            region,
            batchSize: Number(spec.batchSize ?? 100),
            startingPosition: spec.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
            reportBatchItemFailures: spec.functionResponseType === 'ReportBatchItemFailures',
            bisectOnError: spec.bisectBatchOnFunctionError === true,
            maximumRetryAttempts: spec.maximumRetryAttempts === undefined ? undefined : Number(spec.maximumRetryAttempts),
            onFailure: failureQueue ? { sqs: clients.sqs, queueUrl: failureQueue.ref, functionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}` } : undefined,
            invoke: (event) => invoke(event),
            onError: (error) => onError(name, error),
          });
          streamPollers.set(name, poller);
        } else if ('schedule' in ev) {
          const spec = (ev as { schedule: { rate: string | string[]; enabled?: boolean } | string }).schedule;
          const rates = typeof spec === 'string' ? [spec] : [spec.rate].flat();
          scheduled.push({
            name,
            expression: String(rates[0]),
            enabled: typeof spec === 'string' || spec.enabled !== false,
            invoke: (event) => invoke(event),
          });
        } else if ('httpApi' in ev) {
          const spec = (ev as { httpApi: { method: string; path: string } | string }).httpApi;
          const [method, path] = typeof spec === 'string' ? spec.split(' ') : [spec.method, spec.path];
          routes.push({ method: String(method).toUpperCase(), path: String(path), functionName: name, invoke: (event) => invoke(event) });
        }
      }
    }

    const scheduler = new LocalScheduler(scheduled, {
      region,
      ruleArn: (fn) => `arn:aws:events:${region}:000000000000:rule/${stackName}-${fn}-schedule`,
      interval: options.scheduleIntervalMs ?? parseIntervalOverride(process.env.MAILBRIDGE_SCHEDULE_INTERVAL_MS),
      onError: (fn, error) => onError(fn, error),
    });
    const localRoutes: LocalRoute[] = [
      {
        method: 'POST',
        pattern: /^\/__local\/schedule\/([^/]+)$/,
        handle: async (match) => {
          const fn = decodeURIComponent(match[1] ?? '');
          if (!scheduler.names().includes(fn)) return { statusCode: 404, body: { message: `${fn} has no schedule event`, scheduled: scheduler.names() } };
          const started = Date.now();
          const result = await scheduler.run(fn);
          return { statusCode: 200, body: { function: fn, durationMs: Date.now() - started, result } };
        },
      },
      { method: 'GET', pattern: /^\/__local\/schedule$/, handle: async () => ({ statusCode: 200, body: { scheduled: scheduler.names(), runs: scheduler.runs } }) },
    ];
    const http = await startHttpApi(options.httpPort ?? 3000, routes, (error) => onError('http', error), localRoutes);
    stops.push(() => new Promise<void>((r) => (http.server as Server).close(() => r())));
    for (const poller of pollers.values()) poller.start();
    for (const poller of streamPollers.values()) poller.start();
    scheduler.start();
    stops.push(async () => {
      await scheduler.stop();
      await Promise.all([...pollers.values(), ...streamPollers.values()].map((p) => p.stop()));
      streams.destroy();
    });

    const info: LocalInfo = {
      httpUrl: http.url,
      region,
      stage,
      credentials: { ...LOCAL_CREDENTIALS },
      endpoints: { http: http.url, sqs: fauxqs.endpoint, sns: fauxqs.endpoint, s3: fauxqs.endpoint, dynamodb: dynamo.endpoint, sesv2: sesv2.url, mailtrap: mailtrap.url },
      queues: {},
      topics: {},
      tables: {},
      buckets: {},
      functions: Object.fromEntries(Object.entries(config.functions).map(([n, f]) => [n, { handler: f.handler, events: eventKinds(f) }])),
      skippedResources: registry.skipped,
      secrets: {
        mailtrapWebhook: env.MAILTRAP_WEBHOOK_SECRET ?? '',
        unsubscribe: (env.UNSUBSCRIBE_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      },
      sync: {
        mailtrapDomains: (env.MAILTRAP_SENDING_DOMAINS ?? '').split(',').filter(Boolean),
        mailtrapStreams: (env.MAILTRAP_SENDING_STREAMS || 'transactional,bulk').split(',').filter(Boolean),
        sesContactList: env.SES_CONTACT_LIST || undefined,
      },
      pid: process.pid,
    };
    for (const [id, r] of registry.created) {
      if (r.type === 'AWS::SQS::Queue') {
        const redrive = (config.resources[id]?.Properties?.RedrivePolicy ?? undefined) as { deadLetterTargetArn?: unknown } | undefined;
        const dlqArn = redrive ? String(registry.resolve(redrive.deadLetterTargetArn)) : undefined;
        const dlqId = dlqArn ? [...registry.created.entries()].find(([, q]) => q.attributes.Arn === dlqArn)?.[0] : undefined;
        info.queues[id] = { name: r.name, url: r.ref, arn: String(r.attributes.Arn), dlq: dlqId };
      } else if (r.type === 'AWS::SNS::Topic') info.topics[id] = { name: r.name, arn: r.ref };
      else if (r.type === 'AWS::DynamoDB::Table') info.tables[id] = { name: r.name, arn: String(r.attributes.Arn), streamArn: r.attributes.StreamArn };
      else if (r.type === 'AWS::S3::Bucket') info.buckets[id] = { name: r.name };
    }
    const stateFile = options.stateFile === undefined ? DEFAULT_STATE_FILE : options.stateFile;
    if (stateFile) {
      mkdirSync(dirname(stateFile), { recursive: true });
      writeFileSync(stateFile, `${JSON.stringify(info, null, 2)}\n`);
    }
    return {
      info,
      config,
      pollers,
      streamPollers,
      scheduler,
      simulators: { sesv2, mailtrap },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
