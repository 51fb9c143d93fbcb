/**
 * `npm start`: the whole pipeline on this machine. Prints `ready` with the HTTP base URL once
 * every emulator, resource and event source is up; Ctrl-C / SIGTERM stops it cleanly.
 */
import { rmSync } from 'node:fs';
import { DEFAULT_STATE_FILE, startLocalStack } from './stack.ts';

const started = Date.now();
const stack = await startLocalStack({
  httpPort: Number(process.env.PORT ?? 3000),
  ...(process.env.FAUXQS_PORT ? { fauxqsPort: Number(process.env.FAUXQS_PORT) } : {}),
  ...(process.env.DYNAMODB_PORT ? { dynamodbPort: Number(process.env.DYNAMODB_PORT) } : {}),
  logLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
  // A long-running stack people import into: DynamoDB Local with its full JIT (local/emulators.ts).
  dynamodbJit: 'throughput',
  // The local stack's webhook and unsubscribe secrets (generated when unset, so links minted
  // earlier stop verifying after a restart unless UNSUBSCRIBE_SECRETS is kept); a deployed stage reads them from SSM.
  env: {
    ...(process.env.MAILTRAP_WEBHOOK_SECRET ? { MAILTRAP_WEBHOOK_SECRET: process.env.MAILTRAP_WEBHOOK_SECRET } : {}),
    ...(process.env.UNSUBSCRIBE_SECRETS ? { UNSUBSCRIBE_SECRETS: process.env.UNSUBSCRIBE_SECRETS } : {}),
  },
});
const { info } = stack;
console.log(`mailbridge local stack (stage ${info.stage}, ${info.region}), up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`  functions: ${Object.entries(info.functions).map(([n, f]) => `${n} [${f.events.join(', ')}]`).join('; ')}`);
console.log(`  sqs/sns/s3 (fauxqs): ${info.endpoints.sqs}   dynamodb (DynamoDB Local): ${info.endpoints.dynamodb}`);
console.log(`  Mailtrap webhook: POST ${info.httpUrl}/webhooks/mailtrap (signing secret in local info; try \`npx mailbridge simulate mailtrap events/mailtrap/spam.json\`)`);
console.log(`  endpoints and resource names: npx mailbridge local info --json  (${DEFAULT_STATE_FILE})`);
console.log(`ready ${info.httpUrl}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await stack.stop();
  rmSync(DEFAULT_STATE_FILE, { force: true });
  console.log('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
