/**
 * Holds real answers to the gateway's OpenAPI document (the one served at /api/openapi.json, from
 * which the web UI's types are generated): an answer whose status the operation does not document,
 * or whose body its schema refuses (a missing, extra, null or mistyped field), fails the test.
 */
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '@saga/app-gateway';
import type { HttpResult } from './http.ts';

type Json = Record<string, any>;

// The document's component schemas as the `$defs` of one JSON Schema 2020-12 resource, so their
// `#/components/schemas/X` references resolve (rewritten to `openapi.json#/$defs/X`).
const ROOT_ID = 'openapi.json';
const document: Json = JSON.parse(JSON.stringify(openApiDocument()).replaceAll('"#/components/schemas/', `"${ROOT_ID}#/$defs/`));

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
addFormats(ajv, ['date-time']);
ajv.addKeyword('example'); // OpenAPI's, no assertion
ajv.addSchema({ $id: ROOT_ID, $defs: document.components.schemas });

const compiled = new Map<string, ValidateFunction>();
function validator(key: string, schema: () => Json): ValidateFunction {
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(schema())));
  return v;
}

function check(v: ValidateFunction, body: unknown, what: string): void {
  if (v(body)) return;
  const problems = (v.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  assert.fail(`${what} does not match the OpenAPI document:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(body).slice(0, 2_000)}`);
}

/**
 * Asserts `body` is a `components.schemas[name]` of the document.
 *
 * @example
 * assertMatchesSchema('Order', (await customer.get(`${api}/api/orders/${id}`)).body);
 */
export function assertMatchesSchema(name: string, body: unknown): void {
  assert.ok(document.components.schemas[name], `no schema ${name} in the OpenAPI document`);
  check(validator(`schema ${name}`, () => ({ $ref: `${ROOT_ID}#/$defs/${name}` })), body, name);
}

/**
 * Asserts an answer is one the operation documents: its status is listed, and its JSON body matches
 * that response's schema (errors included: `{code, message}`).
 *
 * @example
 * assertMatchesResponse('listOrders', await customer.get(`${api}/api/orders?customerId=CUS_0002`));
 */
export function assertMatchesResponse(operationId: string, res: HttpResult): void {
  const operation = Object.values(document.paths as Record<string, Record<string, Json>>)
    .flatMap((ops) => Object.values(ops))
    .find((op) => op.operationId === operationId);
  assert.ok(operation, `no operation ${operationId} in the OpenAPI document`);
  const response = operation.responses[String(res.status)] as Json | undefined;
  assert.ok(response, `${operationId} answered ${res.status}, which the OpenAPI document does not list: ${JSON.stringify(res.body).slice(0, 500)}`);
  const schema = response.content?.['application/json']?.schema as Json | undefined;
  assert.ok(schema, `${operationId} ${res.status} has no JSON schema in the OpenAPI document`);
  check(validator(`${operationId} ${res.status}`, () => schema), res.body, `${operationId} ${res.status}`);
}
