// Preloaded into every service the stack supervisor starts (`node --import`): when the supervisor
// dies, even by SIGKILL, its IPC channel closes and the service shuts itself down, so no orphans.
import { Worker } from 'node:worker_threads';

/** How long a graceful shutdown may take once the supervisor is gone. */
const GRACE_MS = 5_000;

if (process.channel) {
  // The channel must not keep a service alive on its own.
  process.channel.unref();
  process.once('disconnect', () => {
    // The deadline runs on its own thread: with the supervisor gone, stdout is a broken pipe and a
    // synchronous logger (pino/sonic-boom) can spin on EPIPE forever, so the main thread may never
    // get to run a timer again.
    new Worker(`setTimeout(() => process.kill(${process.pid}, 'SIGKILL'), ${GRACE_MS});`, { eval: true });
    // SIGTERM runs the service's own graceful shutdown, when its logging lets it.
    process.kill(process.pid, 'SIGTERM');
  });
}
