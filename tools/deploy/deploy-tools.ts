// The real tools the deploy validation runs, found on PATH or installed from Debian's packages when
// missing (idempotent: an installed tool is used as it is). Never skips: a tool that cannot be had
// is an error naming what was tried.
import { spawnSync } from 'node:child_process';

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell) and captures its output; a missing binary is status 127. */
export function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CommandResult {
  const r = spawnSync(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.error) return { status: 127, stdout: '', stderr: r.error.message };
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function onPath(command: string): boolean {
  return run('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', command]).status === 0;
}

let aptUpdated = false;

/** `apt-get install` of Debian packages (as root; `apt-get update` once per process first). */
function aptInstall(packages: string[]): void {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) throw new Error(`cannot install ${packages.join(', ')}: not root (install them with apt-get, or run as root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run on the machine holds the lock for a while: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!aptUpdated) {
    const update = run('apt-get', [...lock, 'update', '-qq'], { env });
    if (update.status !== 0) throw new Error(`apt-get update failed (exit ${update.status}): ${update.stderr.trim()}`);
    aptUpdated = true;
  }
  console.error(`[deploy] installing ${packages.join(', ')} with apt-get ...`);
  const install = run('apt-get', [...lock, 'install', '-y', '-q', '--no-install-recommends', ...packages], { env });
  if (install.status !== 0) {
    throw new Error(`apt-get install ${packages.join(' ')} failed (exit ${install.status}):\n${install.stdout.slice(-2000)}${install.stderr.slice(-2000)}`);
  }
}

/** Makes sure `command` is on PATH, installing the Debian package that ships it when it is not. */
export function ensureCommand(command: string, debianPackage: string): string {
  if (onPath(command)) return command;
  aptInstall([debianPackage]);
  if (!onPath(command)) throw new Error(`${command} is still not on PATH after installing the Debian package ${debianPackage}`);
  return command;
}

/**
 * How to run Compose: the docker CLI's compose plugin when present, else Debian's `docker-compose`
 * (installed when missing). Neither needs a Docker engine for `config`.
 *
 * @example
 * const compose = composeCommand(); run(compose.command, [...compose.args, '-f', file, 'config']);
 */
export function composeCommand(): { command: string; args: string[]; name: string } {
  if (onPath('docker') && run('docker', ['compose', 'version']).status === 0) return { command: 'docker', args: ['compose'], name: 'docker compose' };
  ensureCommand('docker-compose', 'docker-compose');
  return { command: 'docker-compose', args: [], name: 'docker-compose' };
}

/**
 * How to run kustomize: a `kustomize` binary, else `kubectl kustomize` (kubectl ships kustomize).
 * Debian's own kubectl (kubernetes-client 1.20) bundles kustomize 2.0, too old for these manifests,
 * so there is nothing to install from the registries reached here: a missing one is an error.
 */
export function kustomizeCommand(): { command: string; args: string[]; name: string } {
  if (onPath('kustomize')) return { command: 'kustomize', args: ['build'], name: 'kustomize build' };
  if (onPath('kubectl')) {
    const version = run('kubectl', ['version', '--client']);
    const m = /Kustomize Version: v(\d+)/.exec(version.stdout);
    if (m && Number(m[1]) >= 4) return { command: 'kubectl', args: ['kustomize'], name: 'kubectl kustomize' };
    throw new Error(`kubectl's bundled kustomize is too old (need v4+): ${version.stdout.trim() || version.stderr.trim()}`);
  }
  throw new Error('neither kustomize nor kubectl (>= 1.21) is on PATH; install kubectl (it bundles kustomize) to validate deploy/k8s');
}

/** Debian's promtool (package prometheus), installed when missing. */
export function promtoolCommand(): string {
  return ensureCommand('promtool', 'prometheus');
}
