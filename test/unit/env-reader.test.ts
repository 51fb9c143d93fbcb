/**
 * shared/config.ts is the only reader of process.env in the Lambda code and the CLI: others may
 * hand the environment on (`env: NodeJS.ProcessEnv = process.env`), never pick a variable from
 * it, so every variable is validated, and named when missing, in one place.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { sourceFiles } from './source-imports.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** `process.env.X`, `process.env['X']` and destructuring `const { X } = process.env`, found with the TypeScript parser. */
function envReads(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const isProcessEnv = (n: ts.Node) => ts.isPropertyAccessExpression(n) && n.name.text === 'env' && ts.isIdentifier(n.expression) && n.expression.text === 'process';
  const visit = (node: ts.Node): void => {
    if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && isProcessEnv(node.expression)) {
      found.push(`${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`);
    }
    if (ts.isVariableDeclaration(node) && ts.isObjectBindingPattern(node.name) && node.initializer && isProcessEnv(node.initializer)) {
      found.push(`${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} destructures process.env`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('reading the environment', () => {
  it('finds reads (the check itself)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mb-env-')), 'sample.ts');
    writeFileSync(file, "const a = process.env.A;\nconst b = process.env['B'];\nconst { C } = process.env;\nexport function f(env: NodeJS.ProcessEnv = process.env) { return env.D; }\n");
    expect(envReads(file).map((r) => r.replace(/^.*sample\.ts:/, ''))).toEqual(['1 process.env.A', "2 process.env['B']", '3 destructures process.env']);
  });

  it('happens only in shared/config.ts', () => {
    const files = ['functions', 'shared', 'bin'].flatMap((d) => sourceFiles(join(ROOT, d))).filter((f) => !f.endsWith(join('shared', 'config.ts')));
    expect(files.flatMap(envReads)).toEqual([]);
  });
});
