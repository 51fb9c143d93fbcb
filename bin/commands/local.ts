import { readLocalInfo } from '../target.ts';
import { print, UsageError, type Command } from './context.ts';

export const local: Command = {
  usage: [
    '  local info [--json]                                    endpoints and resource names of the local stack',
    '  local run <function>                                   run a scheduled function now (e.g. mailtrap-sync) and print its result',
  ].join('\n'),
  async run(ctx) {
    if (ctx.args[0] === 'run') {
      const fn = ctx.args[1];
      if (!fn) throw new UsageError('local run needs a scheduled function name');
      const response = await fetch(`${readLocalInfo().httpUrl}/__local/schedule/${encodeURIComponent(fn)}`, { method: 'POST' });
      const body = (await response.json()) as unknown;
      print(body);
      return response.ok ? 0 : 1;
    }
    if (ctx.args[0] !== 'info') throw new UsageError('local: unknown subcommand (known: info, run)');
    const info = readLocalInfo();
    if (ctx.flags.json) print(info);
    else process.stdout.write(`${Object.entries(info.endpoints).map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n')}\n`);
    return 0;
  },
};
