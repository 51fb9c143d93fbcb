/**
 * mailbridge CLI. Talks to the running local stack by default, to a deployed stage with
 * `--stage <name>`. Commands print JSON where a machine may read it. Each command group lives
 * in bin/commands/<group>.ts and is loaded only when used.
 */
import { parseArgs } from 'node:util';
import { resolveTarget, TargetError, type Target } from './target.ts';
import { UsageError, type Command } from './commands/context.ts';

const COMMANDS: Record<string, () => Promise<Command>> = {
  suppressions: async () => (await import('./commands/suppressions.ts')).suppressions,
  simulate: async () => (await import('./commands/simulate.ts')).simulate,
  queues: async () => (await import('./commands/queues.ts')).queues,
  local: async () => (await import('./commands/local.ts')).local,
  parse: async () => (await import('./commands/parse.ts')).parse,
  invoices: async () => (await import('./commands/invoices.ts')).invoices,
  unsubscribe: async () => (await import('./commands/unsubscribe.ts')).unsubscribe,
  migrate: async () => (await import('./commands/migrate.ts')).migrate,
};

/** Flags that take a value, for any command. */
const STRING_FLAGS = ['stage', 'domain', 'stream', 'secret', 'reason', 'scope', 'format', 'output', 'limit', 'file', 'origin', 'rejects', 'concurrency', 'max-rows', 'spam', 'virus', 'spf', 'dkim', 'dmarc', 'dmarc-policy', 'message-id', 'from', 'dkim-domain'];

async function usage(): Promise<string> {
  const lines = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).usage));
  return `usage: mailbridge <command> [--stage <name>]\n${lines.join('\n')}`;
}

export async function main(argv: string[]): Promise<number> {
  // Flags are shared by all commands; each command reads the ones it knows. Flags that take a
  // value must be declared here (undeclared ones are booleans).
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: Object.fromEntries(STRING_FLAGS.map((name) => [name, { type: 'string' as const }])),
  });
  const [name, ...args] = positionals;
  if (values.help || values.h || !name) {
    process.stdout.write(`${await usage()}\n`);
    return name || values.help || values.h ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command: ${name}\n${await usage()}`);
  const command = await load();
  let target: Promise<Target> | undefined;
  const stage = typeof values.stage === 'string' ? values.stage : undefined;
  return command.run({ args, flags: values, target: () => (target ??= resolveTarget(stage)) });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof TargetError;
    process.stderr.write(`mailbridge: ${known ? (error as Error).message : error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
