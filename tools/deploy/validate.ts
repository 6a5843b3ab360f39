// Validates everything under deploy/ with real tools (no Docker engine needed):
//
//   npm run deploy:validate        (after `npm run build`: the service config schemas are read from dist)
//
// - deploy/docker-compose.yml: `docker compose config` or Debian's docker-compose, then the stack's rules
// - deploy/k8s/{base,overlays/local}: kustomize build + the Kubernetes schema (kubernetes-models) + rules
// - deploy/Dockerfile: dockerfile-utils lint + the image's shape (multi-stage, non-root, HEALTHCHECK)
// - deploy/prometheus, deploy/grafana: promtool check config / rules, every service scraped
// Missing tools are installed from Debian's packages (as root); exit 1 on any problem.
import { join } from 'node:path';
import { REPO_ROOT } from '../kafka/kafka.ts';
import { lintDockerfile } from './lint-dockerfile.ts';
import { validateCompose } from './validate-compose.ts';
import { validateKustomization } from './validate-kubernetes.ts';
import { validateMonitoring } from './validate-monitoring.ts';

/** The deploy files, under `root` (the repository by default; tests pass a broken copy). */
export function deployFiles(root = REPO_ROOT) {
  const deploy = join(root, 'deploy');
  return {
    compose: join(deploy, 'docker-compose.yml'),
    kustomizations: [join(deploy, 'k8s/base'), join(deploy, 'k8s/overlays/local')],
    dockerfile: join(deploy, 'Dockerfile'),
    monitoring: {
      prometheusConfig: join(deploy, 'prometheus/prometheus.yml'),
      datasourcesDir: join(deploy, 'grafana/provisioning/datasources'),
      dashboardsDir: join(deploy, 'grafana/dashboards'),
    },
  };
}

/**
 * Runs every check; one entry per check with its problems (empty = passed).
 *
 * @example
 * const results = await validateDeploy(); results.every((r) => r.problems.length === 0);
 */
export async function validateDeploy(root = REPO_ROOT): Promise<{ check: string; problems: string[] }[]> {
  const f = deployFiles(root);
  const results = [{ check: 'compose', problems: await validateCompose(f.compose) }];
  for (const dir of f.kustomizations) results.push({ check: `kubernetes ${dir.slice(join(root, 'deploy').length + 1)}`, problems: await validateKustomization(dir) });
  results.push({ check: 'dockerfile', problems: lintDockerfile(f.dockerfile) });
  results.push({ check: 'monitoring', problems: validateMonitoring(f.monitoring) });
  return results;
}

if (import.meta.main) {
  validateDeploy().then(
    (results) => {
      for (const r of results) {
        console.log(`[deploy] ${r.check}: ${r.problems.length === 0 ? 'ok' : `${r.problems.length} problem(s)`}`);
        for (const p of r.problems) console.log(`  - ${p}`);
      }
      process.exitCode = results.every((r) => r.problems.length === 0) ? 0 : 1;
    },
    (err: unknown) => {
      console.error(`[deploy] ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
