import { readLocalInfo } from '../target.ts';
import { print, UsageError, type Command } from './context.ts';

export const local: Command = {
  usage: '  local info [--json]                                    endpoints and resource names of the local stack',
  async run(ctx) {
    if (ctx.args[0] !== 'info') throw new UsageError('local: unknown subcommand (known: info)');
    const info = readLocalInfo();
    if (ctx.flags.json) print(info);
    else process.stdout.write(`${Object.entries(info.endpoints).map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n')}\n`);
    return 0;
  },
};
