// HEALTHCHECK of the service images: exit 0 when GET http://127.0.0.1:$PORT$HEALTH_PATH answers 2xx.
// The images have no curl; Node's fetch does the same job. HEALTH_PATH defaults to /health (readiness).
// Plain JavaScript on purpose: it runs every few seconds, with no type stripping in the way.
const port = process.env.PORT ?? '3000';
const path = process.env.HEALTH_PATH ?? '/health';

try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_500) });
  if (!res.ok) console.error(`GET ${path}: ${res.status} ${await res.text()}`);
  process.exitCode = res.ok ? 0 : 1;
} catch (err) {
  console.error(`GET ${path}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
