// The environment variables each service reads, from its own validated config schema
// (apps/<service>/dist/<service>.config.js, after `npm run build`), so that a deployment file
// that sets a misspelt variable (silently ignored by the service) is caught.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../kafka/kafka.ts';
import { SERVICES } from '../stack/start.ts';

/** Every service of the platform with its default port (the stack's own list). */
export const APP_SERVICES: readonly { name: string; port: number }[] = SERVICES.map(({ name, port }) => ({ name, port }));

const cache = new Map<string, Set<string>>();

/** Names of the variables `service` accepts. @example (await serviceEnvNames('order')).has('INVENTORY_URL') */
export async function serviceEnvNames(service: string): Promise<Set<string>> {
  const cached = cache.get(service);
  if (cached) return cached;
  const file = join(REPO_ROOT, 'apps', service, 'dist', `${service}.config.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const exportName = `${service[0].toUpperCase()}${service.slice(1)}EnvSchema`;
  const schema = (mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName]) as { shape?: Record<string, unknown> } | undefined;
  if (!schema?.shape) throw new Error(`${file} exports no zod object ${exportName}`);
  const names = new Set(Object.keys(schema.shape));
  cache.set(service, names);
  return names;
}
