/**
 * Every package the code imports is a declared dependency of its kind. What runs deployed or
 * for an operator (the Lambda code in functions/ and shared/, the `mailbridge` CLI in bin/ and
 * every project file the CLI loads) imports only `dependencies`; the local stack, tests and
 * benchmarks may use `devDependencies` too. Node builtins are always there. A type-only import
 * compiles to nothing, so its package (or its @types/ package) may be of either kind. Without
 * this check a package that arrives only as another's dependency works until that one changes.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, localClosure, packageOf, sourceFiles } from './source-imports.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const runtime = new Set(Object.keys(pkg.dependencies));
const declared = new Set([...runtime, ...Object.keys(pkg.devDependencies)]);

const inDirs = (...dirs: string[]) => dirs.flatMap((d) => sourceFiles(join(ROOT, d)));
// The CLI's entries: whatever they load (bin/target.ts reads serverless.yml with local/serverless-config.ts) runs for operators.
const cliClosure = new Set([join(ROOT, 'bin', 'cli.ts'), join(ROOT, 'bin', 'mailbridge.js')].flatMap((entry) => [...localClosure(entry)]));
const isRuntime = (file: string) => /^(functions|shared|bin)\//.test(relative(ROOT, file)) || cliClosure.has(file);

function problems(files: Iterable<string>): string[] {
  const found: string[] = [];
  for (const file of new Set(files)) {
    for (const { specifier, typeOnly } of importsOf(file)) {
      const name = packageOf(specifier);
      if (!name) continue;
      const where = `${relative(ROOT, file)} imports ${specifier}`;
      if (typeOnly) {
        if (!declared.has(name) && !declared.has(`@types/${name.replace(/^@([^/]+)\//, '$1__')}`)) found.push(`${where} (types): neither it nor its @types package is declared`);
      } else if (isRuntime(file) ? !runtime.has(name) : !declared.has(name)) {
        found.push(`${where}: not in ${isRuntime(file) ? 'dependencies' : 'dependencies or devDependencies'}`);
      }
    }
  }
  return found;
}

describe('declared dependencies', () => {
  it('reads imports of every kind (the scanner itself)', () => {
    const self = importsOf(join(import.meta.dirname, 'source-imports.ts')).map((i) => i.specifier);
    expect(self).toEqual(expect.arrayContaining(['node:fs', 'typescript']));
    // bin/mailbridge.js starts the CLI with import.meta.resolve('tsx'): a run-time need too.
    expect(importsOf(join(ROOT, 'bin', 'mailbridge.js')).map((i) => i.specifier)).toContain('tsx');
    expect(packageOf('@aws-sdk/client-s3')).toBe('@aws-sdk/client-s3');
    expect(packageOf('@aws-lambda-powertools/logger/middleware')).toBe('@aws-lambda-powertools/logger');
    expect(packageOf('zod/mini')).toBe('zod');
    expect(packageOf('node:crypto')).toBeUndefined();
    expect(packageOf('fs')).toBeUndefined();
    expect(packageOf('../shared/config.ts')).toBeUndefined();
    // The CLI loads local/serverless-config.ts: that file is runtime code too.
    expect(cliClosure.has(join(ROOT, 'local', 'serverless-config.ts'))).toBe(true);
  });

  it('runtime code (functions, shared, the CLI and what it loads) imports only dependencies', () => {
    expect(problems([...inDirs('functions', 'shared', 'bin'), ...cliClosure])).toEqual([]);
  });

  it('the local stack, tests and benchmarks import only declared packages', () => {
    expect(problems(inDirs('local', 'test', 'bench'))).toEqual([]);
  });
});
