#!/usr/bin/env node
// `npx mailbridge`: runs the TypeScript CLI (bin/cli.ts) with tsx, on the project's Node 22
// (the `node` devDependency) when the calling Node is older.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const node22 = join(root, 'node_modules', '.bin', 'node');
const major = Number(process.versions.node.split('.')[0]);
const nodeBin = major >= 22 || !existsSync(node22) ? process.execPath : node22;
const result = spawnSync(
  nodeBin,
  ['--disable-warning=ExperimentalWarning', '--import', import.meta.resolve('tsx'), join(root, 'bin', 'cli.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
