/**
 * Debian packages a test or tool drives (Prometheus, Chromium, the PostgreSQL server of a chaos run,
 * ...): installed with apt when missing, so a fresh machine of this kind runs unattended (CI runs as
 * root). A missing package that cannot be installed fails loudly; a test is never skipped for it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

/**
 * Path of `binary` (absolute, looked up under /usr/bin and /usr/sbin, or found by a function),
 * installing `pkg` first when absent.
 *
 * @example
 * ensureDebianPackage('chromium', 'chromium') // '/usr/bin/chromium'
 */
export function ensureDebianPackage(binary: string | (() => string | undefined), pkg: string): string {
  const locate = typeof binary === 'function' ? binary : () => locateBinary(binary);
  const found = locate();
  if (found) return found;
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  if (!updated) {
    apt(['update', '-qq']);
    updated = true;
  }
  apt(['install', '-y', '-qq', '--no-install-recommends', pkg]);
  const installed = locate();
  if (!installed) throw new Error(`installed Debian package ${pkg} but ${typeof binary === 'function' ? 'what it provides' : binary} is still missing`);
  return installed;
}

function locateBinary(binary: string): string | undefined {
  const candidates = binary.startsWith('/') ? [binary] : [`/usr/bin/${binary}`, `/usr/sbin/${binary}`, `/usr/local/bin/${binary}`];
  return candidates.find((p) => existsSync(p));
}
