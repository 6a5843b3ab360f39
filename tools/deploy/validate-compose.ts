// Validates deploy/docker-compose.yml: the Compose tool's own `config` (schema, references,
// interpolation; no engine needed), then the rules this project's stack relies on.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { composeCommand, run } from './deploy-tools.ts';
import { APP_SERVICES, serviceEnvNames } from './service-env.ts';

type Doc = Record<string, any>;

/** Services the stack needs besides the apps. */
const INFRA = ['kafka', 'kafka-topics', 'postgres', 'redis', 'prometheus', 'grafana'];
const WAIT_CONDITIONS = new Set(['service_healthy', 'service_completed_successfully']);
/** Services that consume Kafka: they must wait for the topics. */
const KAFKA_SERVICES = ['order', 'inventory', 'payment', 'orchestrator'];

function envOf(service: Doc): Record<string, unknown> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.includes('=') ? e.slice(e.indexOf('=') + 1) : null]));
  return env;
}

function publishes(service: Doc, port: number): boolean {
  return (service.ports ?? []).some((p: unknown) =>
    typeof p === 'string' || typeof p === 'number' ? String(p).split(':').at(-2) === String(port) : String((p as Doc).published) === String(port),
  );
}

/**
 * Problems of a compose file (empty = valid). Throws only when no Compose tool can be had.
 *
 * @example
 * const problems = await validateCompose('deploy/docker-compose.yml'); // []
 */
export async function validateCompose(file: string): Promise<string[]> {
  const compose = composeCommand();
  // A clean environment: the result must not depend on what the caller happens to export.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const result = run(compose.command, [...compose.args, '-f', file, 'config'], { cwd: dirname(file), env });
  if (result.status !== 0) return [`${compose.name} config: ${(result.stderr || result.stdout).trim()}`];

  const problems: string[] = [];
  const config = parse(result.stdout) as Doc;
  // The raw file, for what interpolation would hide (a literal secret).
  const raw = parse(readFileSync(file, 'utf8'), { merge: true }) as Doc;
  const services = (config.services ?? {}) as Record<string, Doc>;

  for (const name of [...APP_SERVICES.map((s) => s.name), ...INFRA]) {
    if (!services[name]) problems.push(`service ${name} is missing`);
  }
  for (const { name, port } of APP_SERVICES) {
    const s = services[name];
    if (!s) continue;
    if (!s.healthcheck?.test) problems.push(`${name}: no healthcheck`);
    if (!s.restart || s.restart === 'no') problems.push(`${name}: no restart policy`);
    const args = s.build?.args ?? {};
    if (args.SERVICE !== name || String(args.PORT) !== String(port)) {
      problems.push(`${name}: build args must be SERVICE=${name} PORT=${port} (got ${JSON.stringify(args)})`);
    }
    const env = envOf(s);
    if (String(env.PORT) !== String(port)) problems.push(`${name}: environment PORT must be ${port} (got ${JSON.stringify(env.PORT)})`);
    const known = await serviceEnvNames(name);
    for (const key of Object.keys(env)) if (!known.has(key)) problems.push(`${name}: sets ${key}, which the service does not read`);
    for (const [dep, spec] of Object.entries((s.depends_on ?? {}) as Record<string, Doc>)) {
      if (!WAIT_CONDITIONS.has(spec?.condition)) problems.push(`${name}: depends_on ${dep} must wait with condition service_healthy (got ${spec?.condition})`);
    }
    if (KAFKA_SERVICES.includes(name) && s.depends_on?.['kafka-topics']?.condition !== 'service_completed_successfully') {
      problems.push(`${name}: must depend on kafka-topics with condition service_completed_successfully`);
    }
    for (const key of ['JWT_SECRET', 'AUTH_USERS']) {
      const rawSecret = envOf(raw.services?.[name] ?? {})[key];
      if (rawSecret !== undefined && rawSecret !== null && !/^\$\{[A-Z_]+/.test(String(rawSecret))) problems.push(`${name}: ${key} has a literal value in the file`);
    }
  }
  if (services.gateway && !publishes(services.gateway, 3000)) problems.push('gateway: port 3000 is not published');

  const kafka = services.kafka;
  if (kafka) {
    const env = envOf(kafka);
    if (!String(kafka.image).startsWith('apache/kafka:')) problems.push(`kafka: must use the official apache/kafka image (got ${kafka.image})`);
    if (!String(env.KAFKA_PROCESS_ROLES ?? '').includes('controller')) problems.push('kafka: KAFKA_PROCESS_ROLES must include controller (KRaft)');
    if (String(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE) !== 'false') problems.push('kafka: KAFKA_AUTO_CREATE_TOPICS_ENABLE must be "false" (topics are created explicitly)');
    if (!kafka.healthcheck?.test) problems.push('kafka: no healthcheck');
  }
  const topics = services['kafka-topics'];
  if (topics && !JSON.stringify(topics.command ?? '').includes('tools/kafka/kafka.ts')) {
    problems.push('kafka-topics: must run tools/kafka/kafka.ts start (the topic list of packages/contracts)');
  }
  for (const name of ['postgres', 'redis', 'prometheus', 'grafana']) {
    if (services[name] && !services[name].healthcheck?.test) problems.push(`${name}: no healthcheck`);
  }
  return problems;
}
