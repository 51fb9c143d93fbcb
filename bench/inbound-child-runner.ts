/**
 * The measuring half both inbound benchmarks share (bench:inbound and bench:inbound-hostile):
 * bench/inbound-parse-child.ts bundled as serverless-esbuild bundles the Lambda, then run once
 * per case in a fresh node process, so the peak RSS it reports (process.resourceUsage().maxRSS)
 * belongs to that one case.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions, PROJECT_ROOT } from './lambda-bundle.ts';

/** What the child prints (its last stdout line, JSON). */
export interface ChildResult {
  parser: string;
  bytes: number;
  elapsedMs: number[];
  rssBeforeKiB: number;
  firstRunMaxRssKiB: number;
  maxRssKiB: number;
  attachments: number;
  invoices: number;
  problems: string[];
}

export class ChildRunError extends Error {
  override name = 'ChildRunError';
}

/**
 * Bundles the child into `dir` with serverless.yml's esbuild options, split at the child's
 * per-parser dynamic imports (so simpleParser's process carries no pdf.js); returns its path.
 */
export async function buildParseChild(dir: string): Promise<string> {
  const outdir = join(dir, 'child');
  await build({
    ...lambdaBuildOptions(),
    entryPoints: [join(PROJECT_ROOT, 'bench', 'inbound-parse-child.ts')],
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
  });
  return join(outdir, 'inbound-parse-child.mjs');
}

/** One fresh process: `runs` parses of `file` with `parser`; throws with the child's stderr if it fails. */
export function runParseChild(bundle: string, parser: string, file: string, runs: number): ChildResult {
  const out = spawnSync(process.execPath, [bundle, parser, file, String(runs)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (out.status !== 0) throw new ChildRunError(`child ${parser} ${file} failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}
