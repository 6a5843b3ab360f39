// Validates a kustomize directory of deploy/k8s: `kustomize build` (or `kubectl kustomize`), then
// every rendered object against the Kubernetes OpenAPI schema (the npm package kubernetes-models:
// types, required fields, enums, formats), then the rules this platform relies on.
import { parseAllDocuments } from 'yaml';
import { kustomizeCommand, run } from './deploy-tools.ts';
import { APP_SERVICES, serviceEnvNames } from './service-env.ts';

type Doc = Record<string, any>;

/** `apps/v1` → `kubernetes-models/apps/v1`, `v1` → `kubernetes-models/v1`. */
function modelModule(apiVersion: string): string {
  return `kubernetes-models/${apiVersion}`;
}

/** Schema problems of one object, or a problem when its apiVersion/kind has no schema. */
async function schemaProblems(obj: Doc): Promise<string[]> {
  const where = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return [`${where}: apiVersion and kind are required`];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modelModule(obj.apiVersion))) as Record<string, unknown>;
  } catch {
    return [`${where}: unknown apiVersion ${obj.apiVersion}`];
  }
  const Model = mod[obj.kind] as (new (data: Doc) => { validate(): void }) | undefined;
  if (typeof Model !== 'function') return [`${where}: unknown kind ${obj.kind} in ${obj.apiVersion}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${where}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

function probeProblems(where: string, c: Doc): string[] {
  const problems: string[] = [];
  if (c.readinessProbe?.httpGet?.path !== '/health') problems.push(`${where}: readinessProbe must be GET /health`);
  const live = c.livenessProbe?.httpGet?.path;
  if (live !== '/health/live') problems.push(`${where}: livenessProbe must be GET /health/live`);
  if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problems.push(`${where}: resources.requests cpu and memory are required`);
  if (!c.resources?.limits?.memory) problems.push(`${where}: resources.limits.memory is required`);
  return problems;
}

async function ruleProblems(objects: Doc[]): Promise<string[]> {
  const problems: string[] = [];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (objects.some((o) => o.kind === 'Secret')) problems.push('a Secret is rendered: secrets are created outside Git (docs/runbook.md)');
  for (const { name, port } of APP_SERVICES) {
    const deployment = find('Deployment', name);
    if (!deployment) {
      problems.push(`Deployment/${name} is missing`);
      continue;
    }
    const pod = deployment.spec?.template?.spec ?? {};
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`Deployment/${name}: securityContext.runAsNonRoot must be true`);
    const container = (pod.containers ?? []).find((c: Doc) => c.name === name);
    if (!container) {
      problems.push(`Deployment/${name}: no container named ${name}`);
      continue;
    }
    const where = `Deployment/${name} container ${name}`;
    problems.push(...probeProblems(where, container));
    const env = (container.env ?? []) as Doc[];
    const known = await serviceEnvNames(name);
    for (const e of env) if (!known.has(e.name)) problems.push(`${where}: sets ${e.name}, which the service does not read`);
    const portEnv = env.find((e) => e.name === 'PORT')?.value;
    if (portEnv !== String(port)) problems.push(`${where}: env PORT must be "${port}" (got ${JSON.stringify(portEnv)})`);
    if (!(container.ports ?? []).some((p: Doc) => p.containerPort === port)) problems.push(`${where}: containerPort ${port} is missing`);
    for (const name of ['JWT_SECRET', 'AUTH_USERS']) {
      const literal = env.find((e) => e.name === name && e.value !== undefined);
      if (literal) problems.push(`${where}: ${name} must come from a secretKeyRef, not a literal value`);
    }
    const secret = env.find((e) => e.name === 'JWT_SECRET');
    if (name === 'gateway' && !secret?.valueFrom?.secretKeyRef) problems.push(`${where}: JWT_SECRET must come from a secretKeyRef`);
    const service = find('Service', name);
    if (!service) problems.push(`Service/${name} is missing`);
    else if (!(service.spec?.ports ?? []).some((p: Doc) => p.port === port)) problems.push(`Service/${name}: port ${port} is missing`);
  }
  return problems;
}

/**
 * Problems of a kustomize directory (empty = valid). Throws only when no kustomize can be had.
 *
 * @example
 * const problems = await validateKustomization('deploy/k8s/overlays/local'); // []
 */
export async function validateKustomization(dir: string): Promise<string[]> {
  const kustomize = kustomizeCommand();
  const built = run(kustomize.command, [...kustomize.args, dir]);
  if (built.status !== 0) return [`${kustomize.name} ${dir}: ${(built.stderr || built.stdout).trim()}`];
  const docs = parseAllDocuments(built.stdout);
  const problems: string[] = [];
  const objects: Doc[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) problems.push(`rendered YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as Doc | null;
    if (obj) objects.push(obj);
  }
  if (objects.length === 0) problems.push(`${dir}: renders no objects`);
  for (const obj of objects) problems.push(...(await schemaProblems(obj)));
  problems.push(...(await ruleProblems(objects)));
  return problems;
}
