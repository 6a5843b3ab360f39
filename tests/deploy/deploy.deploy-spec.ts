// deploy/ validated with real tools (this machine has no Docker engine): the compose file with
// `docker compose config` / Debian's docker-compose, the Kubernetes manifests with kustomize and the
// Kubernetes schema (kubernetes-models), the Dockerfile with dockerfile-utils, Prometheus and the
// Grafana dashboard with promtool. Each check also runs on a broken copy of deploy/ and must fail.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { lintDockerfile } from '../../tools/deploy/lint-dockerfile.ts';
import { deployFiles, validateDeploy } from '../../tools/deploy/validate.ts';
import { validateCompose } from '../../tools/deploy/validate-compose.ts';
import { validateKustomization } from '../../tools/deploy/validate-kubernetes.ts';
import { validateMonitoring } from '../../tools/deploy/validate-monitoring.ts';

const copies: string[] = [];
after(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of deploy/ under a fresh root, with `edits` applied (each must match: no silent no-op). */
function brokenCopy(edits: { file: string; from: string | RegExp; to: string }[]): ReturnType<typeof deployFiles> & { root: string } {
  const root = mkdtempSync(join(tmpdir(), 'deploy-broken-'));
  copies.push(root);
  cpSync(join(REPO_ROOT, 'deploy'), join(root, 'deploy'), { recursive: true });
  for (const { file, from, to } of edits) {
    const path = join(root, 'deploy', file);
    const text = readFileSync(path, 'utf8');
    const changed = text.replace(from, to);
    assert.notEqual(changed, text, `mutation of ${file} did not apply: ${String(from)}`);
    writeFileSync(path, changed);
  }
  return { ...deployFiles(root), root };
}

function assertProblem(problems: string[], pattern: RegExp): void {
  assert.ok(problems.some((p) => pattern.test(p)), `expected a problem matching ${pattern}, got:\n${problems.join('\n') || '(none)'}`);
}

describe('deploy/ as committed', () => {
  it('passes every check (compose, both kustomizations, Dockerfile, monitoring)', async () => {
    const results = await validateDeploy();
    assert.deepEqual(
      results.map((r) => r.check),
      ['compose', 'kubernetes k8s/base', 'kubernetes k8s/overlays/local', 'dockerfile', 'monitoring'],
    );
    for (const r of results) assert.deepEqual(r.problems, [], `${r.check}:\n${r.problems.join('\n')}`);
  });
});

describe('a broken compose file fails', () => {
  it('an unknown key (schema of the Compose tool)', async () => {
    const f = brokenCopy([{ file: 'docker-compose.yml', from: 'postgres:\n    image: postgres:15-alpine\n    restart:', to: 'postgres:\n    image: postgres:15-alpine\n    restrat:' }]);
    assertProblem(await validateCompose(f.compose), /config: .*restrat/s);
  });

  it('depends_on a service that does not exist', async () => {
    const f = brokenCopy([{ file: 'docker-compose.yml', from: '      redis:\n        condition: service_healthy', to: '      rediss:\n        condition: service_healthy' }]);
    assertProblem(await validateCompose(f.compose), /config: .*rediss/s);
  });

  it('invalid YAML', async () => {
    const f = brokenCopy([{ file: 'docker-compose.yml', from: 'services:\n', to: 'services:\n  - [\n' }]);
    assertProblem(await validateCompose(f.compose), /config: /);
  });

  it('a misspelt variable, a wrong port and a missing health check (project rules)', async () => {
    const f = brokenCopy([
      { file: 'docker-compose.yml', from: 'INVENTORY_URL: http://inventory:3002', to: 'INVENTROY_URL: http://inventory:3002' },
      { file: 'docker-compose.yml', from: '      PORT: 3000\n', to: '      PORT: 3010\n' },
      { file: 'docker-compose.yml', from: 'redis:7-alpine\n    restart: unless-stopped\n    command: ["redis-server", "--save", "", "--appendonly", "no"]\n    healthcheck:\n      test: ["CMD", "redis-cli", "ping"]\n', to: 'redis:7-alpine\n    restart: unless-stopped\n    command: ["redis-server", "--save", "", "--appendonly", "no"]\n    healthcheck:\n' },
    ]);
    const problems = await validateCompose(f.compose);
    assertProblem(problems, /order: sets INVENTROY_URL, which the service does not read/);
    assertProblem(problems, /gateway: environment PORT must be 3000/);
    assertProblem(problems, /redis: no healthcheck/);
  });

  it('a cluster profile that would lose acknowledged writes or run one replica (ADR 13)', async () => {
    const f = brokenCopy([
      { file: 'docker-compose.yml', from: 'KAFKA_MIN_INSYNC_REPLICAS: 2', to: 'KAFKA_MIN_INSYNC_REPLICAS: 1' },
      { file: 'docker-compose.yml', from: 'KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: "false"', to: 'KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: "true"' },
      { file: 'docker-compose.yml', from: '      deploy:\n        replicas: 2', to: '      deploy:\n        replicas: 1' },
    ]);
    const problems = await validateCompose(f.compose);
    assertProblem(problems, /cluster-kafka-1: KAFKA_MIN_INSYNC_REPLICAS must be 2/);
    assertProblem(problems, /cluster-kafka-2: KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE must be false/);
    assertProblem(problems, /cluster-order: needs deploy.replicas >= 2/);
  });
});

describe('broken Kubernetes manifests fail', () => {
  it('a wrong type (Kubernetes schema)', async () => {
    const f = brokenCopy([{ file: 'k8s/base/gateway.yaml', from: 'replicas: 2', to: 'replicas: two' }]);
    assertProblem(await validateKustomization(f.kustomizations[0]), /Deployment\/gateway: .*replicas must be integer/);
  });

  it('a container without a name (required by the schema)', async () => {
    const f = brokenCopy([{ file: 'k8s/infra/redis.yaml', from: '        - name: redis\n          image:', to: '        - image:' }]);
    assertProblem(await validateKustomization(f.kustomizations[1]), /Deployment\/redis: .*must have required property name/);
  });

  it('a missing resource file (kustomize)', async () => {
    const f = brokenCopy([{ file: 'k8s/base/kustomization.yaml', from: '  - wallet.yaml', to: '  - wallets.yaml' }]);
    assertProblem(await validateKustomization(f.kustomizations[0]), /kustomize .*wallets\.yaml/s);
  });

  it('a wrong readiness probe, a committed Secret (project rules)', async () => {
    const f = brokenCopy([
      { file: 'k8s/base/order.yaml', from: /readinessProbe:\n(\s+)httpGet: \{ path: \/health,/, to: 'readinessProbe:\n$1httpGet: { path: /healthz,' },
      { file: 'k8s/base/kustomization.yaml', from: '  - config.yaml\n', to: '  - config.yaml\n  - secret.yaml\n' },
    ]);
    writeFileSync(join(f.root, 'deploy/k8s/base/secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: saga-secrets\nstringData:\n  JWT_SECRET: committed-by-mistake-committed-by-mistake\n');
    const problems = await validateKustomization(f.kustomizations[0]);
    assertProblem(problems, /Deployment\/order container order: readinessProbe must be GET \/health/);
    assertProblem(problems, /a Secret is rendered/);
  });
});

describe('a broken Dockerfile fails', () => {
  it('an unknown instruction and a duration without unit (linter)', () => {
    const f = brokenCopy([
      { file: 'Dockerfile', from: 'FROM manifests AS build', to: 'FRM manifests AS build' },
      { file: 'Dockerfile', from: 'HEALTHCHECK --interval=10s', to: 'HEALTHCHECK --interval=10' },
    ]);
    const problems = lintDockerfile(f.dockerfile);
    assertProblem(problems, /Unknown instruction: FRM/);
    assertProblem(problems, /missing unit in duration/);
  });

  it('a runtime stage that runs as root, without HEALTHCHECK, on another base (shape)', () => {
    const f = brokenCopy([
      { file: 'Dockerfile', from: 'USER node\n', to: '' },
      { file: 'Dockerfile', from: /HEALTHCHECK [^\n]+\n/, to: '' },
      { file: 'Dockerfile', from: 'ARG NODE_IMAGE=node:24-bookworm-slim', to: 'ARG NODE_IMAGE=node:20-bookworm-slim' },
    ]);
    const problems = lintDockerfile(f.dockerfile);
    assertProblem(problems, /no USER/);
    assertProblem(problems, /no HEALTHCHECK/);
    assertProblem(problems, /FROM node:20-bookworm-slim: the base must be an official Node 24 image/);
  });
});

describe('broken monitoring files fail', () => {
  it('an invalid Prometheus config (promtool)', () => {
    const f = brokenCopy([{ file: 'prometheus/prometheus.yml', from: 'scrape_interval: 5s', to: 'scrape_interval: 5 parsecs' }]);
    assertProblem(validateMonitoring(f.monitoring), /promtool check config/);
  });

  it('a service that is not scraped', () => {
    const f = brokenCopy([{ file: 'prometheus/prometheus.yml', from: /  - job_name: order\n[^\n]+\n/, to: '' }]);
    assertProblem(validateMonitoring(f.monitoring), /no scrape job for order:3001/);
  });

  it('a dashboard query that is not PromQL, and an unknown datasource', () => {
    const f = brokenCopy([
      { file: 'grafana/dashboards/saga-platform.json', from: 'sum by (outcome) (rate(saga_ended_total[1m]))', to: 'sum by (outcome) (rate(saga_ended_total[1m])' },
      { file: 'grafana/provisioning/datasources/prometheus.yml', from: 'uid: prometheus', to: 'uid: prom' },
    ]);
    const problems = validateMonitoring(f.monitoring);
    assertProblem(problems, /dashboard queries \(promtool check rules\)/);
    assertProblem(problems, /uses datasource "prometheus", not a provisioned one/);
  });
});
