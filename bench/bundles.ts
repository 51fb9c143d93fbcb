/**
 * Each function's bundle next to its budget (bench/bundle-budgets.ts): built with the esbuild
 * options serverless.yml gives serverless-esbuild (bench/lambda-bundle.ts), so the bytes are
 * those of the `.mjs` Lambda loads (the zip holds that file alone). Baseline, built in the
 * same run: the floor every function pays (middy + Powertools logger and metrics, no adapter).
 * The largest inputs of each bundle say where its bytes come from.
 *
 *   npm run bench:bundles
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { BUNDLE_BUDGETS_KIB, KIB } from './bundle-budgets.ts';
import { lambdaBuildOptions, PROJECT_ROOT } from './lambda-bundle.ts';
import { machine } from './machine.ts';

interface Measured {
  bytes: number;
  top: string;
}

async function bundle(entry: { file: string } | { contents: string }): Promise<Measured> {
  const result = await build({
    ...lambdaBuildOptions(),
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts' } }),
    write: false,
    metafile: true,
    outfile: join(PROJECT_ROOT, '.bench-bundle', 'handler.mjs'),
  });
  const [out] = result.outputFiles;
  if (!out) throw new Error('esbuild wrote nothing');
  return { bytes: out.contents.byteLength, top: largestInputs(result.metafile) };
}

/** The three packages (or project folders) that put the most bytes into the output. */
function largestInputs(meta: Metafile): string {
  const byOwner = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const owner = m?.[1] ?? relative(PROJECT_ROOT, path).split('/').slice(0, 2).join('/');
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return [...byOwner.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([owner, bytes]) => `${owner} ${(bytes / KIB).toFixed(0)}`)
    .join(', ');
}

const doc = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { functions: Record<string, { handler: string }> };
const kib = (bytes: number) => Number((bytes / KIB).toFixed(1));

const floor = await bundle({
  contents: [
    "import middy from '@middy/core';",
    "import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';",
    "import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';",
    "import { logger, metrics } from './shared/observability.ts';",
    'export const handler = middy().use(injectLambdaContext(logger)).use(logMetrics(metrics)).handler(async () => ({}));',
  ].join('\n'),
});

const rows: Record<string, unknown>[] = [{ function: '(floor: middy + logger + metrics)', KiB: kib(floor.bytes), budgetKiB: '', headroom: '', largest: floor.top }];
const over: string[] = [];
for (const [name, fn] of Object.entries(doc.functions)) {
  const m = await bundle({ file: join(PROJECT_ROOT, `${fn.handler.replace(/\.[^.]+$/, '')}.ts`) });
  const budget = BUNDLE_BUDGETS_KIB[name];
  if (budget === undefined || m.bytes > budget * KIB) over.push(name);
  rows.push({
    function: name,
    KiB: kib(m.bytes),
    budgetKiB: budget ?? 'none',
    headroom: budget === undefined ? '' : `${(((budget * KIB - m.bytes) / (budget * KIB)) * 100).toFixed(0)} %`,
    largest: m.top,
  });
}

console.log(`bundles: ${machine()}; esbuild options from serverless.yml (minified ESM, node22)`);
console.table(rows);
if (over.length > 0) {
  console.log(`over budget or without one: ${over.join(', ')}`);
  process.exitCode = 1;
}
