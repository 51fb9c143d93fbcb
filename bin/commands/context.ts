import type { Target } from '../target.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** What every command gets: its own positionals (after the command word), the flags, and a lazy target. */
export interface CommandContext {
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  target: () => Promise<Target>;
}

export interface Command {
  usage: string;
  run(ctx: CommandContext): Promise<number>;
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function flagString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  return typeof v === 'string' ? v : undefined;
}
