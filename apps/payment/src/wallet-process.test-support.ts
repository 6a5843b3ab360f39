import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = resolve(__dirname, '../../..');

/**
 * Runs the real wallet service (its built main.js) as a child process on a free port with its own
 * database: the payment tests talk to it over HTTP like production, without importing another app.
 */
export async function startWalletProcess(dbName: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [resolve(REPO, 'apps/wallet/dist/main.js')], {
    env: { ...process.env, PORT: '0', DB_NAME: dbName, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error('wallet did not start within 20 s')), 20_000);
    child.once('exit', (code) => fail(new Error(`wallet exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'wallet service ready' && entry.port) {
          clearTimeout(timer);
          ok(entry.port);
        }
      } catch {
        /* not a log line */
      }
    });
  });
  child.stdout!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export type ProxyMode = 'pass' | 'refuse' | 'drop-response';

/**
 * An HTTP proxy in front of the wallet that can fail on demand: `refuse` closes connections,
 * `drop-response` forwards the call (the wallet acts) but loses the answer, `failNext(n)` answers
 * 503 to the next n requests, `holdWhere(text)` keeps every request whose body contains `text`
 * unanswered (not forwarded) until `release()`.
 */
export async function startFaultyProxy(target: string): Promise<{
  url: string;
  setMode: (mode: ProxyMode) => void;
  failNext: (n: number) => void;
  requests: () => number;
  holdWhere: (text: string) => void;
  held: () => number;
  release: () => void;
  close: () => Promise<void>;
}> {
  let mode: ProxyMode = 'pass';
  let failures = 0;
  let count = 0;
  let holdText: string | null = null;
  let heldRequests: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    count++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (holdText !== null && Buffer.concat(chunks).toString().includes(holdText)) return void heldRequests.push(() => forward());
      forward();
    });
    const forward = () => {
      if (mode === 'refuse') return void req.socket.destroy();
      if (failures > 0) {
        failures--;
        return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"UNAVAILABLE","message":"injected"}');
      }
      fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          const body = await answer.text();
          if (mode === 'drop-response') return void req.socket.destroy();
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
        })
        .catch(() => req.socket.destroy());
    };
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode: (m) => void (mode = m),
    failNext: (n) => void (failures = n),
    requests: () => count,
    holdWhere: (text) => void (holdText = text),
    held: () => heldRequests.length,
    release: () => {
      holdText = null;
      for (const go of heldRequests.splice(0)) go();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}
