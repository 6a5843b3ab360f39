/**
 * Debian packages a test drives (Prometheus, Chromium, ...): installed with apt when missing, so a
 * fresh machine of this kind runs the suite unattended (CI runs as root). A missing package that
 * cannot be installed fails the test loudly; it is never skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

/** Path of `binary` (absolute, or looked up under /usr/bin and /usr/sbin), installing `pkg` first when absent. */
export function ensureDebianPackage(binary: string, pkg: string): string {
  const found = locate(binary);
  if (found) return found;
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  if (!updated) {
    apt(['update', '-qq']);
    updated = true;
  }
  apt(['install', '-y', '-qq', '--no-install-recommends', pkg]);
  const installed = locate(binary);
  if (!installed) throw new Error(`installed Debian package ${pkg} but ${binary} is still missing`);
  return installed;
}

function locate(binary: string): string | undefined {
  const candidates = binary.startsWith('/') ? [binary] : [`/usr/bin/${binary}`, `/usr/sbin/${binary}`, `/usr/local/bin/${binary}`];
  return candidates.find((p) => existsSync(p));
}
