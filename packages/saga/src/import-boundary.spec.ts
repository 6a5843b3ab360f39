import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// The "enforced by lint" rule of STYLE.md until ESLint lands: packages/saga is pure TypeScript and
// imports only relative paths, node: built-ins and zod.

const SRC = join(__dirname, '..', 'src');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function allowed(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('node:') || specifier === 'zod';
}

// Examples in JSDoc and // comments are not imports.
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function forbiddenImports(source: string): string[] {
  return [...withoutComments(source).matchAll(SPECIFIER)].map((m) => m[1]).filter((s) => !allowed(s));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('packages/saga import boundary', () => {
  it('the checker catches every import form', () => {
    const bad = [
      "import { Controller } from '@nestjs/common';",
      "import type { Pool } from 'pg';",
      "export * from '@saga/contracts';",
      "const k = require('kafkajs');",
      "const m = await import('@saga/postgres');",
      "import 'reflect-metadata';",
      "import fs from 'fs';",
    ].join('\n');
    assert.deepEqual(forbiddenImports(bad), ['@nestjs/common', 'pg', '@saga/contracts', 'kafkajs', '@saga/postgres', 'reflect-metadata', 'fs']);
    assert.deepEqual(
      forbiddenImports("/** @example import { v7 } from 'uuid' */\n// import pg from 'pg'\nimport { z } from 'zod';\nimport { x } from './x';\nimport a from 'node:assert';"),
      [],
    );
  });

  it('every file of packages/saga/src imports only relative paths, node: built-ins and zod', () => {
    // this file holds bad imports as test data, so it is the one file not checked
    const files = sourceFiles(SRC).filter((f) => !f.endsWith('import-boundary.spec.ts'));
    assert.ok(files.length >= 5, `found the sources in ${SRC}`);
    const offenders = files.flatMap((f) =>
      forbiddenImports(readFileSync(f, 'utf8')).map((s) => `${relative(SRC, f)} imports ${s}`),
    );
    assert.deepEqual(offenders, []);
  });
});
