/**
 * One benchmarked child process, as a person runs it: `node --import tsx` with
 * bench/report-max-rss.ts preloaded, so its peak RSS and CPU time (printed to stderr at exit)
 * belong to that one process. Shared by bench:import and bench:migration.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../local/stack.ts';

export interface MeasuredRun {
  code: number | null;
  ms: number;
  maxRssMb: number;
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/** Runs `node [nodeArgs] --import tsx --import report-max-rss.ts <args>` in the project root; resolves when it exits. */
export function runMeasured(args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--disable-warning=ExperimentalWarning', '--import', 'tsx', '--import', join(PROJECT_ROOT, 'bench', 'report-max-rss.ts'), ...args],
      { cwd: PROJECT_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const usage = /MAXRSS_KB (\d+) CPU_MS (\d+)/.exec(stderr);
      resolve({ code, ms: performance.now() - started, maxRssMb: usage ? Number(usage[1]) / 1024 : NaN, cpuMs: usage ? Number(usage[2]) : NaN, stdout, stderr });
    });
  });
}
