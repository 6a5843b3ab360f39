// `npm run start:cluster` (after `npm run build`): the scale-out rig on this machine — three Kafka
// nodes (KRaft, each broker + controller, replication factor 3, min.insync.replicas=2) and two
// instances of every service (one consumer group per service, the partitions spread over both), the
// gateway on :3000 balancing over the instances. Every process is supervised (restarted with backoff
// when it dies); Ctrl-C stops everything, services first, Kafka last. ADR 13.
//
//   node tools/cluster/start.ts [service ...]
//
// Env: CLUSTER_INSTANCES (instances of every service, default 2; STACK_INSTANCES=order=3,... wins per
// service), CLUSTER_KAFKA_PORT (29092: node i on + 10 × (i − 1)), CLUSTER_DATA_DIR (.data/cluster),
// CLUSTER_BROKER_SESSION_TIMEOUT_MS (3000), STACK_PORT_OFFSET, STACK_DB_PREFIX, DATABASE_URL, plus
// anything the services read.
import { parseArgs } from 'node:util';
import { startKafkaCluster } from '../kafka/cluster.ts';
import type { RunningKafkaCluster } from '../kafka/cluster.ts';
import { parseInstances, runCli, SERVICES, startStack, stopOnSignals } from '../stack/start.ts';
import type { Stack } from '../stack/start.ts';

function instancesOf(perService: number, overrides: string | undefined): Record<string, number> {
  const defaults = Object.fromEntries(SERVICES.map((s) => [s.name, s.name === 'gateway' ? 1 : perService]));
  return { ...defaults, ...parseInstances(overrides) };
}

async function cli(): Promise<number> {
  const { positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true });
  const perService = Number(process.env.CLUSTER_INSTANCES ?? 2);
  if (!Number.isInteger(perService) || perService < 1) throw new Error(`CLUSTER_INSTANCES must be a positive integer, got "${process.env.CLUSTER_INSTANCES}"`);
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset)) throw new Error(`STACK_PORT_OFFSET must be an integer, got "${process.env.STACK_PORT_OFFSET}"`);
  const abort = new AbortController();
  let cluster: RunningKafkaCluster | undefined;
  let stack: Stack | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      await stack?.stop();
      if (cluster !== undefined) {
        console.log('[cluster] stopping Kafka nodes ...');
        await cluster.stop();
        console.log('[cluster] stopped');
      }
    })();
    return stopping;
  };
  const { finished, release } = stopOnSignals('cluster', abort, stopAll);
  try {
    cluster = await startKafkaCluster();
    if (abort.signal.aborted) {
      // The signal came while the nodes started (stopAll saw no cluster yet).
      await cluster.stop();
      release();
      return 0;
    }
    stack = await startStack({
      services: positionals.length > 0 ? positionals : undefined,
      instances: instancesOf(perService, process.env.STACK_INSTANCES),
      brokers: cluster.brokers,
      portOffset: offset,
      dbNamePrefix: process.env.STACK_DB_PREFIX || undefined,
      signal: abort.signal,
    });
  } catch (err) {
    if (!abort.signal.aborted) console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    release();
    return abort.signal.aborted ? 0 : 1;
  }
  if (abort.signal.aborted) {
    await stopAll();
    release();
    return 0;
  }
  for (const s of stack.services) console.log(`[cluster]   ${s.name.padEnd(14)} ${s.url}`);
  for (const n of cluster.nodes) console.log(`[cluster]   kafka-${n.id}        127.0.0.1:${n.port} (pid ${cluster.pidOf(n.id)}, data ${n.dataDir})`);
  console.log('[cluster] Ctrl-C stops everything');
  const code = await finished;
  release();
  return code;
}

runCli(import.meta, 'cluster', cli);
