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
/** Variables read by the packages every service shares (packages/messaging), not by a service's own schema. */
const SHARED_ENV = new Set(['KAFKA_SESSION_TIMEOUT_MS']);
/** The scale-out profile (ADR 13): its services are the stack's, prefixed, on three Kafka nodes. */
const CLUSTER_PROFILE = 'cluster';
const CLUSTER_PREFIX = 'cluster-';
const CLUSTER_NODES = ['cluster-kafka-1', 'cluster-kafka-2', 'cluster-kafka-3'];

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
  // The same file with the scale-out profile on (profiled services are left out of a plain `config`).
  const clustered = run(compose.command, [...compose.args, '-f', file, '--profile', CLUSTER_PROFILE, 'config'], { cwd: dirname(file), env });
  if (clustered.status !== 0) return [`${compose.name} --profile ${CLUSTER_PROFILE} config: ${(clustered.stderr || clustered.stdout).trim()}`];

  const problems: string[] = [];
  const config = parse(result.stdout) as Doc;
  // The raw file, for what interpolation would hide (a literal secret).
  const raw = parse(readFileSync(file, 'utf8'), { merge: true }) as Doc;
  const services = (config.services ?? {}) as Record<string, Doc>;
  problems.push(...(await checkApps(services, raw, '')));
  const clusterServices = ((parse(clustered.stdout) as Doc).services ?? {}) as Record<string, Doc>;
  problems.push(...(await checkApps(clusterServices, raw, CLUSTER_PREFIX)));
  problems.push(...checkCluster(clusterServices));

  for (const name of INFRA) if (!services[name]) problems.push(`service ${name} is missing`);
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

/** The per-service rules of the stack, for the services named `<prefix><service>`. */
async function checkApps(services: Record<string, Doc>, raw: Doc, prefix: string): Promise<string[]> {
  const problems: string[] = [];
  for (const { name: service, port } of APP_SERVICES) {
    const name = `${prefix}${service}`;
    const s = services[name];
    if (!s) {
      problems.push(`service ${name} is missing`);
      continue;
    }
    if (!s.healthcheck?.test) problems.push(`${name}: no healthcheck`);
    if (!s.restart || s.restart === 'no') problems.push(`${name}: no restart policy`);
    const args = s.build?.args ?? {};
    if (args.SERVICE !== service || String(args.PORT) !== String(port)) {
      problems.push(`${name}: build args must be SERVICE=${service} PORT=${port} (got ${JSON.stringify(args)})`);
    }
    const env = envOf(s);
    if (String(env.PORT) !== String(port)) problems.push(`${name}: environment PORT must be ${port} (got ${JSON.stringify(env.PORT)})`);
    const known = await serviceEnvNames(service);
    for (const key of Object.keys(env)) if (!known.has(key) && !SHARED_ENV.has(key)) problems.push(`${name}: sets ${key}, which the service does not read`);
    for (const [dep, spec] of Object.entries((s.depends_on ?? {}) as Record<string, Doc>)) {
      if (!WAIT_CONDITIONS.has(spec?.condition)) problems.push(`${name}: depends_on ${dep} must wait with condition service_healthy (got ${spec?.condition})`);
    }
    if (KAFKA_SERVICES.includes(service) && s.depends_on?.[`${prefix}kafka-topics`]?.condition !== 'service_completed_successfully') {
      problems.push(`${name}: must depend on ${prefix}kafka-topics with condition service_completed_successfully`);
    }
    for (const key of ['JWT_SECRET', 'AUTH_USERS']) {
      const rawSecret = envOf(raw.services?.[name] ?? {})[key];
      if (rawSecret !== undefined && rawSecret !== null && !/^\$\{[A-Z_]+/.test(String(rawSecret))) problems.push(`${name}: ${key} has a literal value in the file`);
    }
  }
  return problems;
}

/**
 * The cluster profile: three apache/kafka KRaft nodes in one quorum with RF 3, min.insync.replicas=2
 * and no unclean leader election; its topics created with three replicas; every service twice.
 */
function checkCluster(services: Record<string, Doc>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const name of CLUSTER_NODES) {
    const node = services[name];
    if (!node) {
      problems.push(`profile ${CLUSTER_PROFILE}: service ${name} is missing`);
      continue;
    }
    const env = envOf(node);
    if (!String(node.image).startsWith('apache/kafka:')) problems.push(`${name}: must use the official apache/kafka image (got ${node.image})`);
    if (!String(env.KAFKA_PROCESS_ROLES ?? '').includes('controller')) problems.push(`${name}: KAFKA_PROCESS_ROLES must include controller (KRaft)`);
    const voters = String(env.KAFKA_CONTROLLER_QUORUM_VOTERS ?? '');
    for (const other of CLUSTER_NODES) if (!voters.includes(`@${other}:`)) problems.push(`${name}: KAFKA_CONTROLLER_QUORUM_VOTERS must list ${other}`);
    ids.add(String(env.KAFKA_NODE_ID));
    for (const [key, want] of [
      ['KAFKA_DEFAULT_REPLICATION_FACTOR', '3'],
      ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', '3'],
      ['KAFKA_MIN_INSYNC_REPLICAS', '2'],
      ['KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE', 'false'],
      ['KAFKA_AUTO_CREATE_TOPICS_ENABLE', 'false'],
    ] as const) {
      if (String(env[key]) !== want) problems.push(`${name}: ${key} must be ${want} (got ${JSON.stringify(env[key])})`);
    }
    if (!node.healthcheck?.test) problems.push(`${name}: no healthcheck`);
  }
  if (ids.size !== CLUSTER_NODES.length) problems.push(`profile ${CLUSTER_PROFILE}: the Kafka nodes need distinct KAFKA_NODE_IDs (got ${[...ids].join(', ')})`);
  const topics = services[`${CLUSTER_PREFIX}kafka-topics`];
  if (!topics) problems.push(`profile ${CLUSTER_PROFILE}: service ${CLUSTER_PREFIX}kafka-topics is missing`);
  else if (String(envOf(topics).KAFKA_TOPIC_REPLICAS) !== '3') problems.push(`${CLUSTER_PREFIX}kafka-topics: KAFKA_TOPIC_REPLICAS must be 3`);
  for (const { name: service } of APP_SERVICES) {
    const s = services[`${CLUSTER_PREFIX}${service}`];
    if (!s) {
      problems.push(`profile ${CLUSTER_PROFILE}: service ${CLUSTER_PREFIX}${service} is missing`);
      continue;
    }
    if (service !== 'gateway' && Number(s.deploy?.replicas ?? 1) < 2) problems.push(`${CLUSTER_PREFIX}${service}: needs deploy.replicas >= 2`);
    const brokers = String(envOf(s).KAFKA_BROKERS ?? '');
    if (service !== 'gateway' && !CLUSTER_NODES.every((n) => brokers.includes(n))) problems.push(`${CLUSTER_PREFIX}${service}: KAFKA_BROKERS must list every cluster node`);
  }
  return problems;
}
