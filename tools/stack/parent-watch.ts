// Preloaded into every service the stack supervisor starts (`node --import`): when the supervisor
// dies, even by SIGKILL, its IPC channel closes and the service shuts itself down, so no orphans.
if (process.channel) {
  // The channel must not keep a service alive on its own.
  process.channel.unref();
  process.once('disconnect', () => {
    // SIGTERM runs the service's own graceful shutdown; the timer bounds it.
    setTimeout(() => process.exit(1), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
