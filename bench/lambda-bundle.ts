/**
 * The esbuild options serverless.yml gives serverless-esbuild (`custom.esbuild`), read from
 * that file, so a benchmark measures the bundle Lambda runs and cannot drift from it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { parse } from 'yaml';

export const PROJECT_ROOT = join(import.meta.dirname, '..');

interface EsbuildSection {
  bundle?: boolean;
  minify?: boolean;
  target?: string;
  platform?: 'node';
  format?: 'esm' | 'cjs';
  mainFields?: string[];
  banner?: Record<string, string>;
  alias?: Record<string, string>;
}

export function lambdaBuildOptions(): BuildOptions {
  const doc = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { custom?: { esbuild?: EsbuildSection } };
  const e = doc.custom?.esbuild;
  if (!e) throw new Error('serverless.yml has no custom.esbuild section');
  return {
    bundle: e.bundle ?? true,
    minify: e.minify ?? false,
    platform: e.platform ?? 'node',
    ...(e.target ? { target: e.target } : {}),
    ...(e.format ? { format: e.format } : {}),
    ...(e.mainFields ? { mainFields: e.mainFields } : {}),
    ...(e.banner ? { banner: e.banner } : {}),
    ...(e.alias ? { alias: Object.fromEntries(Object.entries(e.alias).map(([k, v]) => [k, v.startsWith('.') ? resolve(PROJECT_ROOT, v) : v])) } : {}),
    logLevel: 'error',
  };
}
