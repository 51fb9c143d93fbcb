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

/**
 * One line of text output, safe for a terminal: C0/C1 control characters (ESC among them, so
 * no escape sequence from a sender's subject or file name reaches the terminal), DEL and the
 * bidirectional overrides become U+FFFD. JSON output needs none of this (JSON escapes them).
 */
export function printable(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}
