// The faults of a chaos run: what each kind does, and the seeded plan of which ones run when.
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { TOPICS } from '@saga/contracts';
import fc from 'fast-check';
import { setTimeout as delay } from 'node:timers/promises';
import type { Stack } from '../stack/start.ts';
import type { PostgresCluster } from './postgres-cluster.ts';

/** Services with a Kafka consumer group (named after the service). */
export const CONSUMERS = ['order', 'inventory', 'payment', 'orchestrator'] as const;
/** Every process of the stack, the gateway included. */
export const PROCESSES = ['gateway', 'order', 'inventory', 'payment', 'wallet', 'orchestrator'] as const;
/** Topics a poison message goes to: every topic a service takes commands or replies from. */
const COMMAND_TOPICS = [TOPICS.orderCommands, TOPICS.inventoryCommands, TOPICS.paymentCommands, TOPICS.orchestratorReplies];

export type FaultKind = 'kill' | 'term' | 'pause' | 'broker-kill' | 'postgres-restart' | 'wallet-outage' | 'redeliver' | 'poison';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'term', 'pause', 'broker-kill', 'postgres-restart', 'wallet-outage', 'redeliver', 'poison'];

export interface Fault {
  kind: FaultKind;
  /** The process (kill, term, pause, redeliver), or what the fault hits (kafka, postgres, wallet, topics). */
  target: string;
}

/** How long each kind holds the system down on purpose (the rest is recovery). */
export const HOLD_MS: Record<FaultKind, number> = {
  kill: 0,
  term: 0,
  // Longer than the consumer session timeout (10 s): the group moves on without the stopped member.
  pause: 15_000,
  'broker-kill': 2_000,
  'postgres-restart': 2_000,
  // Longer than the payment service's bound on wallet calls (WALLET_TOTAL_TIMEOUT_MS, 3 s).
  'wallet-outage': 8_000,
  // Until the killed member leaves its group (session timeout), so the offsets can be moved back.
  redeliver: 0,
  poison: 0,
};

/** How far a redeliver fault moves a group's committed offsets back, per partition. */
const REWIND = 200;

/**
 * The seeded plan: every kind at least once (with `count` ≥ 22, every process killed and SIGTERMed
 * and every consumer paused), the rest drawn at random (kills most often), in a seeded order.
 *
 * @example
 * planFaults(10, 42) // [{ kind: 'pause', target: 'payment' }, { kind: 'kill', target: 'gateway' }, ...]
 */
export function planFaults(count: number, seed: number): Fault[] {
  const pick = <T,>(xs: readonly T[]) => fc.constantFrom(...xs);
  const process = pick(PROCESSES);
  const consumer = pick(CONSUMERS);
  const faultOf: Record<FaultKind, fc.Arbitrary<Fault>> = {
    kill: process.map((target) => ({ kind: 'kill', target })),
    term: process.map((target) => ({ kind: 'term', target })),
    pause: consumer.map((target) => ({ kind: 'pause', target })),
    'broker-kill': fc.constant({ kind: 'broker-kill', target: 'kafka' }),
    'postgres-restart': fc.constant({ kind: 'postgres-restart', target: 'postgres' }),
    'wallet-outage': fc.constant({ kind: 'wallet-outage', target: 'wallet' }),
    redeliver: consumer.map((target) => ({ kind: 'redeliver', target })),
    poison: fc.constant({ kind: 'poison', target: 'command topics' }),
  };
  const everyTarget: Fault[] = [
    ...PROCESSES.map((target): Fault => ({ kind: 'kill', target })),
    ...PROCESSES.map((target): Fault => ({ kind: 'term', target })),
    ...CONSUMERS.map((target): Fault => ({ kind: 'pause', target })),
  ];
  const weighted = fc.oneof(
    { weight: 5, arbitrary: faultOf.kill },
    { weight: 2, arbitrary: faultOf.term },
    ...(['pause', 'broker-kill', 'postgres-restart', 'wallet-outage', 'redeliver', 'poison'] as const).map((k) => ({ weight: 1, arbitrary: faultOf[k] })),
  );
  const plan = fc.tuple(fc.tuple(...FAULT_KINDS.map((k) => faultOf[k])), fc.array(weighted, { minLength: count, maxLength: count })).chain(([oneOfEach, extra]) => {
    // With room for it, every process and consumer is hit by its kinds, plus one of each other kind.
    const everyTargetAndTheRest = [...everyTarget, ...oneOfEach.filter((f) => !everyTarget.some((e) => e.kind === f.kind))];
    const base = count >= everyTargetAndTheRest.length ? everyTargetAndTheRest : oneOfEach;
    const all = [...base, ...extra].slice(0, Math.max(count, 0));
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });
  return count === 0 ? [] : fc.sample(plan, { seed, numRuns: 1 })[0];
}

/** What a fault needs to act on. */
export interface FaultTargets {
  stack: Stack;
  postgres: PostgresCluster;
  kafka: { brokers: string; kill(): Promise<void>; start(): Promise<void> };
}

/** Runs one fault to its end (the system is left to heal itself after it); returns what was done. */
export async function inject(fault: Fault, t: FaultTargets): Promise<string> {
  const { stack } = t;
  switch (fault.kind) {
    case 'kill': {
      const exit = await stack.stopService(fault.target, 'SIGKILL');
      await stack.startService(fault.target);
      return `kill -9 ${fault.target} (${exit}), restarted`;
    }
    case 'term': {
      const exit = await stack.stopService(fault.target, 'SIGTERM');
      await stack.startService(fault.target);
      return `SIGTERM ${fault.target} (${exit}), restarted`;
    }
    case 'pause': {
      const pid = stack.pidOf(fault.target);
      process.kill(pid, 'SIGSTOP');
      await delay(HOLD_MS.pause);
      process.kill(pid, 'SIGCONT');
      return `SIGSTOP ${fault.target} (pid ${pid}) for ${HOLD_MS.pause / 1000} s, then SIGCONT`;
    }
    case 'broker-kill': {
      await t.kafka.kill();
      await delay(HOLD_MS['broker-kill']);
      await t.kafka.start();
      return 'kill -9 of the Kafka broker, restarted';
    }
    case 'postgres-restart': {
      t.postgres.crash();
      await delay(HOLD_MS['postgres-restart']);
      t.postgres.start();
      return 'PostgreSQL stopped -m immediate (a crash), restarted';
    }
    case 'wallet-outage': {
      await stack.stopService('wallet', 'SIGKILL');
      await delay(HOLD_MS['wallet-outage']);
      await stack.startService('wallet');
      return `wallet unreachable for ${HOLD_MS['wallet-outage'] / 1000} s`;
    }
    case 'redeliver':
      return redeliver(fault.target, t);
    case 'poison':
      return poison(t.kafka.brokers);
  }
}

/** Kill -9 a consumer, wait until its group is empty, move its offsets back by REWIND, restart: it sees handled messages again. */
async function redeliver(service: string, t: FaultTargets): Promise<string> {
  await t.stack.stopService(service, 'SIGKILL');
  const admin = new Admin({ clientId: 'chaos-rewind', bootstrapBrokers: t.kafka.brokers.split(',') });
  let moved = 0;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = String((await admin.describeGroups({ groups: [service] })).get(service)?.state ?? 'DEAD').toUpperCase();
      if (state === 'EMPTY' || state === 'DEAD') break;
      if (Date.now() > deadline) throw new Error(`group ${service} still ${state} after 30 s`);
      await delay(250);
    }
    const [committed] = await admin.listConsumerGroupOffsets({ groups: [service] });
    const topics = (committed?.topics ?? []).map((topic) => ({
      name: topic.name,
      partitionOffsets: topic.partitions
        .filter((p) => p.committedOffset > 0n)
        .map((p) => {
          const offset = p.committedOffset > BigInt(REWIND) ? p.committedOffset - BigInt(REWIND) : 0n;
          moved += Number(p.committedOffset - offset);
          return { partition: p.partitionIndex, offset };
        }),
    }));
    await admin.alterConsumerGroupOffsets({ groupId: service, topics: topics.filter((x) => x.partitionOffsets.length > 0) });
  } finally {
    await admin.close().catch(() => {});
    await t.stack.startService(service);
  }
  return `kill -9 ${service}, its group's offsets moved back by up to ${REWIND} per partition (${moved} messages to see again), restarted`;
}

/** One message on each command topic that no service can read. */
async function poison(brokers: string): Promise<string> {
  const producer = new Producer({ clientId: 'chaos-poison', bootstrapBrokers: brokers.split(','), serializers: stringSerializers });
  try {
    const key = `chaos-poison-${Date.now()}`;
    await producer.send({ messages: COMMAND_TOPICS.map((topic) => ({ topic, key, value: '{"not": "an envelope"' })) });
  } finally {
    await producer.close().catch(() => {});
  }
  return `a poison message on ${COMMAND_TOPICS.join(', ')}`;
}
