// A Kafka cluster of several KRaft nodes on this machine (each broker + controller), started from the
// same Maven Central jars as the single node of kafka.ts (DESIGN §5; ADR 13). Used by
// `npm run start:cluster` and the cluster e2e test; `npm run start:kafka` and the tests keep one node.
//
// Every node is supervised: one that exits unexpectedly is started again with backoff, unless it was
// killed on purpose with killNode() (a failover drill), which waits for startNode().
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { allTopics } from '@saga/contracts';
import { REPO_ROOT, ensureKafkaLibs, ensureTopics, isAlive, launchKafkaNode, portInUse, waitForKafka } from './kafka.ts';
import type { LaunchedNode } from './kafka.ts';

const HOST = '127.0.0.1';
/** Node i (1-based) listens on BASE + NODE_PORT_STEP × (i − 1), its controller one port up. */
const NODE_PORT_STEP = 10;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/**
 * Broker settings of the cluster beyond the single node's (ADR 13): three copies of everything, an
 * acknowledged write on at least two, never a leader that missed acknowledged writes; and a dead
 * broker fenced (its partitions' leadership moved) after 3 s without a heartbeat instead of 9 s.
 */
export function clusterProperties(nodes: number, brokerSessionTimeoutMs = 3_000): string[] {
  const rf = Math.min(3, nodes);
  const minIsr = Math.max(1, rf - 1);
  return [
    `offsets.topic.replication.factor=${rf}`,
    // Group coordinators spread over the brokers: one broker's death moves a third of the groups.
    `offsets.topic.num.partitions=${nodes}`,
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    'unclean.leader.election.enable=false',
    `broker.session.timeout.ms=${brokerSessionTimeoutMs}`,
    // Group members may ask for sessions down to 1 s (the services run with 3 s: KAFKA_SESSION_TIMEOUT_MS).
    'group.min.session.timeout.ms=1000',
    `broker.heartbeat.interval.ms=${Math.max(100, Math.min(2_000, Math.floor(brokerSessionTimeoutMs / 6)))}`,
  ];
}

export interface KafkaClusterOptions {
  /** Nodes (each broker + controller). Default 3. */
  nodes?: number;
  /** Parent of the nodes' data dirs (`<dataDir>/kafka-<id>`). Default CLUSTER_DATA_DIR or `.data/cluster`. */
  dataDir?: string;
  /** Broker port of node 1 (node i: + 10 × (i − 1); controllers one port up). Default CLUSTER_KAFKA_PORT or 29092. */
  basePort?: number;
  /** How long a broker without heartbeat keeps its leaderships (broker.session.timeout.ms). Default CLUSTER_BROKER_SESSION_TIMEOUT_MS or 3000. */
  brokerSessionTimeoutMs?: number;
  /** Restart a node that exits unexpectedly (not one killed by killNode). Default true. */
  restart?: boolean;
  /** Bound for "every node serving + topics created". Default 120 s. */
  startTimeoutMs?: number;
  /** Status lines (`[cluster] ...`). Default console.log. */
  say?: (line: string) => void;
}

export interface ClusterNode {
  id: number;
  port: number;
  controllerPort: number;
  dataDir: string;
}

export interface RunningKafkaCluster {
  /** Bootstrap list of every node, e.g. `127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112`. */
  brokers: string;
  nodes: ClusterNode[];
  /** The java pid of a running node. */
  pidOf(id: number): number;
  /** Sends `signal` (default SIGKILL) to one node and waits for it to exit; it stays down until startNode. */
  killNode(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a node that is down and resolves once it answers and every partition has all its replicas in sync. */
  startNode(id: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every partition of every topic has all its replicas in its ISR. */
  waitInSync(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, bounded, then SIGKILL). */
  stop(): Promise<void>;
}

interface NodeState {
  node: ClusterNode;
  launched: LaunchedNode | undefined;
  pid: number | undefined;
  wanted: boolean;
  failures: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** The data dir of a cluster (for `npm run reset`). */
export function clusterDataDir(dataDir?: string): string {
  return resolve(dataDir ?? process.env.CLUSTER_DATA_DIR ?? join(REPO_ROOT, '.data/cluster'));
}

/** Node pids recorded under a cluster data dir whose process is alive. */
export function runningClusterPids(dataDir?: string): number[] {
  const root = clusterDataDir(dataDir);
  const pids: number[] = [];
  for (let id = 1; id <= 9; id++) {
    const file = join(root, `kafka-${id}`, 'kafka.pid');
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) pids.push(pid);
  }
  return pids;
}

/** Whether every partition of every topic has `replicas` replicas in sync (true also when there are none to check). */
async function inSync(brokers: string): Promise<string[]> {
  const admin = new Admin({ clientId: 'kafka-cluster-isr', bootstrapBrokers: brokers.split(','), retries: 0, timeout: 3000 });
  try {
    const topics = allTopics().map((t) => t.name);
    const meta = await admin.metadata({ topics, forceUpdate: true });
    const lagging: string[] = [];
    for (const name of topics) {
      const t = meta.topics.get(name);
      if (!t) {
        lagging.push(`${name} (no metadata)`);
        continue;
      }
      t.partitions.forEach((p, i) => {
        if (p === undefined || p.leader < 0 || p.isr.length < p.replicas.length) lagging.push(`${name}-${i}`);
      });
    }
    return lagging;
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * Starts `nodes` KRaft nodes (broker + controller each; one quorum), creates every topic with
 * replication factor 3 and `min.insync.replicas=2`, and supervises the nodes.
 *
 * @example
 * const cluster = await startKafkaCluster({ basePort: 39092, dataDir: '.data/e2e-cluster' });
 * await cluster.killNode(2);          // kill -9
 * await cluster.startNode(2);         // rejoins; resolves once replicas caught up
 * await cluster.stop();
 */
export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<RunningKafkaCluster> {
  const t0 = Date.now();
  const say = opts.say ?? ((line: string) => console.log(line));
  const count = opts.nodes ?? 3;
  const root = clusterDataDir(opts.dataDir);
  const basePort = opts.basePort ?? intEnv('CLUSTER_KAFKA_PORT', 29092);
  const sessionTimeout = opts.brokerSessionTimeoutMs ?? intEnv('CLUSTER_BROKER_SESSION_TIMEOUT_MS', 3_000);
  const restart = opts.restart ?? true;
  const startTimeoutMs = opts.startTimeoutMs ?? 120_000;
  const nodes: ClusterNode[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    port: basePort + NODE_PORT_STEP * i,
    controllerPort: basePort + NODE_PORT_STEP * i + 1,
    dataDir: join(root, `kafka-${i + 1}`),
  }));
  const brokers = nodes.map((n) => `${HOST}:${n.port}`).join(',');
  const voters = nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(',');
  const extra = clusterProperties(count, sessionTimeout);

  const stale = runningClusterPids(root);
  if (stale.length > 0) throw new Error(`a cluster of ${root} is already running (pids ${stale.join(', ')}); stop it first`);
  const busy: string[] = [];
  for (const n of nodes) for (const port of [n.port, n.controllerPort]) if (await portInUse(port)) busy.push(`${HOST}:${port}`);
  if (busy.length > 0) throw new Error(`port(s) already in use: ${busy.join(', ')} (set CLUSTER_KAFKA_PORT)`);

  ensureKafkaLibs();
  mkdirSync(root, { recursive: true });
  // One cluster id for every node, kept with the cluster's data.
  const idFile = join(root, 'cluster.id');
  const clusterId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : randomBytes(16).toString('base64url');
  writeFileSync(idFile, `${clusterId}\n`);

  let stopping = false;
  const states = new Map<number, NodeState>(nodes.map((node) => [node.id, { node, launched: undefined, pid: undefined, wanted: false, failures: 0, startedAt: 0, restartTimer: undefined }]));

  const launch = async (s: NodeState): Promise<void> => {
    const launched = launchKafkaNode({
      config: { nodeId: s.node.id, port: s.node.port, controllerPort: s.node.controllerPort, dataDir: s.node.dataDir, voters, extraProperties: extra },
      logFile: join(s.node.dataDir, 'server.log'),
      detached: false,
      clusterId,
      heap: ['-Xms128m', '-Xmx256m'],
    });
    s.launched = launched;
    s.startedAt = Date.now();
    s.pid = await launched.pid;
    void launched.exited.then((reason) => {
      if (s.launched !== launched) return;
      s.pid = undefined;
      if (stopping || !s.wanted) return;
      if (!restart) {
        say(`[cluster] kafka-${s.node.id} exited unexpectedly; not restarting\n${reason}`);
        return;
      }
      if (Date.now() - s.startedAt >= 30_000) s.failures = 0;
      const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** s.failures);
      s.failures++;
      say(`[cluster] kafka-${s.node.id} exited unexpectedly; restart #${s.failures} in ${(wait / 1000).toFixed(1)} s`);
      s.restartTimer = setTimeout(() => {
        s.restartTimer = undefined;
        if (!stopping && s.wanted) void launch(s).catch((err: unknown) => say(`[cluster] kafka-${s.node.id} restart failed: ${(err as Error).message}`));
      }, wait);
    });
  };

  const stopNode = async (s: NodeState, signal: NodeJS.Signals): Promise<void> => {
    s.wanted = false;
    if (s.restartTimer) clearTimeout(s.restartTimer);
    s.restartTimer = undefined;
    const launched = s.launched;
    if (launched === undefined || launched.exitReason() !== undefined) return;
    if (signal === 'SIGTERM') {
      await launched.stop();
    } else {
      const pid = await launched.pid;
      if (pid !== undefined) process.kill(pid, signal);
    }
    await launched.exited;
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    // Brokers first, controllers' quorum last would need roles apart; all at once is fine for a shutdown.
    await Promise.all([...states.values()].map((s) => stopNode(s, 'SIGTERM')));
  };

  const waitInSync = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let lagging: string[] = ['(not asked yet)'];
    while (Date.now() < deadline) {
      lagging = await inSync(brokers).catch((err: unknown) => [`(${(err as Error).message})`]);
      if (lagging.length === 0) return;
      await delay(250);
    }
    throw new Error(`replicas not in sync after ${timeoutMs} ms: ${lagging.slice(0, 10).join(', ')}${lagging.length > 10 ? ', ...' : ''}`);
  };

  try {
    for (const s of states.values()) {
      s.wanted = true;
      await launch(s);
    }
    const deadline = t0 + startTimeoutMs;
    const failed = (): string | undefined => [...states.values()].map((s) => s.launched?.exitReason()).find((r) => r !== undefined);
    // Each node on its own: the bootstrap list would be satisfied by the first one up.
    for (const n of nodes) await waitForKafka(`${HOST}:${n.port}`, Math.max(1000, deadline - Date.now()), restart ? undefined : failed);
    await ensureTopics(brokers, Math.max(5000, deadline - Date.now()), Math.min(3, count));
    say(`[cluster] ${count} Kafka nodes ready at ${brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s (data ${root})`);
  } catch (err) {
    await stop();
    throw err;
  }

  const stateOf = (id: number): NodeState => {
    const s = states.get(id);
    if (s === undefined) throw new Error(`no Kafka node ${id} (nodes 1..${count})`);
    return s;
  };
  return {
    brokers,
    nodes,
    pidOf: (id) => {
      const pid = stateOf(id).pid;
      if (pid === undefined) throw new Error(`kafka-${id} is not running`);
      return pid;
    },
    killNode: (id, signal = 'SIGKILL') => stopNode(stateOf(id), signal),
    startNode: async (id, timeoutMs = 60_000) => {
      const s = stateOf(id);
      if (stopping) throw new Error('the cluster is stopping');
      const deadline = Date.now() + timeoutMs;
      if (s.launched === undefined || s.launched.exitReason() !== undefined) {
        s.wanted = true;
        s.failures = 0;
        await launch(s);
      }
      s.wanted = true;
      await waitForKafka(`${HOST}:${s.node.port}`, Math.max(1000, deadline - Date.now()));
      await waitInSync(Math.max(1000, deadline - Date.now()));
    },
    waitInSync,
    stop,
  };
}
