// `npm run gen:api`: writes the web UI's API types (apps/web/src/api/openapi.d.ts) from the gateway's
// OpenAPI document, as served at /api/openapi.json. The script builds the gateway first.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@saga/app-gateway';
import { API_TYPES_PATH, generateApiTypes } from './api-types.ts';

const target = fileURLToPath(new URL(`../../${API_TYPES_PATH}`, import.meta.url));
await writeFile(target, await generateApiTypes(openApiDocument()));
process.stdout.write(`wrote ${API_TYPES_PATH}\n`);
