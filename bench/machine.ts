/**
 * The machine a benchmark ran on, the same line in every bench's output: Node, CPUs, memory and
 * the load average (the machine is shared, so a figure means little without it).
 */
import { cpus, loadavg, totalmem } from 'node:os';

export function machine(): string {
  const cpu = cpus();
  return `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}
