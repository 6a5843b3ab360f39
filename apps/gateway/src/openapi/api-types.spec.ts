import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openApiDocument } from './openapi.document';

const ROOT = join(__dirname, '../../../..');

interface ApiTypesTool {
  API_TYPES_PATH: string;
  generateApiTypes(document: object): Promise<string>;
}

/** The first line where two texts differ, with its neighbours, as a short message. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const i = a.findIndex((line, n) => line !== e[n]);
  const at = i === -1 ? a.length : i;
  const show = (lines: string[]) => lines.slice(Math.max(0, at - 2), at + 3).join('\n');
  return `first difference at line ${at + 1}\n--- committed\n${show(a)}\n--- generated\n${show(e)}`;
}

describe("the web UI's API types (apps/web/src/api/openapi.d.ts)", () => {
  it('are what openapi-typescript makes of the OpenAPI document (else: npm run gen:api)', async () => {
    // The generator is an ES module of its own workspace (openapi-typescript needs TypeScript 5's API).
    const tool = (await import(pathToFileURL(join(ROOT, 'tools/api-types/api-types.ts')).href)) as ApiTypesTool;
    const committed = await readFile(join(ROOT, tool.API_TYPES_PATH), 'utf8');
    const generated = await tool.generateApiTypes(openApiDocument());
    assert.ok(committed === generated, `${tool.API_TYPES_PATH} is not what the document makes: run \`npm run gen:api\`\n${firstDifference(committed, generated)}`);
  });
});
