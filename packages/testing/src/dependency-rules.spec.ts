import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The dependency direction of STYLE.md, checked over the whole tree until ESLint lands:
// packages never import apps; an app never imports another app; nobody deep-imports another
// package's files; relative imports stay inside their own package or app.

const ROOT = resolve(__dirname, '../../..');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(SPECIFIER)].map((m) => m[1]!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** A subpath the package itself offers in its package.json `exports` (e.g. `@saga/saga/testing`). */
function isPublicEntry(spec: string): boolean {
  const [, name, ...rest] = spec.split('/');
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', name!, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    return pkg.exports !== undefined && `./${rest.join('/')}` in pkg.exports;
  } catch {
    return false;
  }
}

/** Every rule broken by `file` (a path under packages/<x>/src or apps/<x>/src). */
function violations(file: string, source: string): string[] {
  const [kind, unit] = relative(ROOT, file).split('/');
  const home = join(ROOT, kind!, unit!);
  const out: string[] = [];
  for (const spec of importsOf(source)) {
    if (spec.startsWith('.')) {
      if (relative(home, resolve(dirname(file), spec)).startsWith('..')) out.push(`${spec}: leaves ${kind}/${unit}`);
    } else if (/^@saga\/app-/.test(spec)) {
      out.push(`${spec}: imports an app`);
    } else if (/^@saga\/[^/]+\/./.test(spec) && !isPublicEntry(spec)) {
      out.push(`${spec}: deep import into another package`);
    }
  }
  return out;
}

describe('dependency direction', () => {
  it('the checker catches an app import, a deep import and a relative escape', () => {
    const file = join(ROOT, 'packages/messaging/src/x.ts');
    const bad = "import { a } from '@saga/app-order';\nimport { t } from '@saga/saga/testing';\nimport { b } from '@saga/postgres/src/pg-database';\nimport { c } from '../../saga/src/index';\nimport { d } from './ok';\nimport { e } from '@saga/contracts';";
    assert.deepEqual(violations(file, bad), [
      '@saga/app-order: imports an app',
      '@saga/postgres/src/pg-database: deep import into another package',
      '../../saga/src/index: leaves packages/messaging',
    ]);
  });

  it('holds for every source file of packages/* and apps/*', () => {
    const found: string[] = [];
    for (const kind of ['packages', 'apps']) {
      for (const unit of readdirSync(join(ROOT, kind))) {
        for (const file of sourceFiles(join(ROOT, kind, unit, 'src'))) {
          if (file === __filename.replace(/\/dist\//, '/src/').replace(/\.js$/, '.ts')) continue; // holds bad imports as data
          for (const v of violations(file, readFileSync(file, 'utf8'))) found.push(`${relative(ROOT, file)}: ${v}`);
        }
      }
    }
    assert.deepEqual(found, []);
  });
});
