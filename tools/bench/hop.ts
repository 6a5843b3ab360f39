/**
 * What one Kafka hop of the messaging layer costs on this machine: `--batch` messages are sent by the
 * services' producer (idempotent, acks=all) to one topic and taken by a KafkaSubscription, in lock
 * step, `--rounds` times. Prints CPU microseconds per message of this process (the producer and
 * consumer side of the hop) and of the broker, and the wall time per round.
 *
 *   npm run start:kafka (or: node tools/kafka/kafka.ts start), then
 *   npm run bench:hop                        one message per hop: what a lightly loaded stage pays
 *   npm run bench:hop -- --batch 64          64 per hop: what a stage pays at the bench's c=64
 *
 * The broker JIT-compiles for its first ~40 s under load (ADR 10, fifth addendum): run it twice on a
 * fresh broker and read the second. The last line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { KafkaBroker, newEnvelope } from '@saga/messaging';
import pino from 'pino';
import { ensureTopics, runningPid } from '../kafka/kafka.ts';
import { cpuTicksOf, HZ } from './profile.ts';

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3000' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092' },
  },
});
const batch = Number(args.batch);
const rounds = Number(args.rounds);
if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--batch and --rounds take positive integers');

const brokerPid = runningPid();
if (brokerPid === undefined) throw new Error('no Kafka of this checkout is running: npm run start:kafka, or node tools/kafka/kafka.ts start');
const broker = new KafkaBroker({ brokers: args.brokers.split(','), clientId: 'bench-hop', logger: pino({ level: 'warn' }) });
const producer = broker.producer();
// A topic of its own (no service consumes it, so a running stack is not disturbed), partitioned like
// the services' topics; a fresh group reads only what this run sends.
const topic = 'bench.hop';
await ensureTopics(args.brokers, 30_000, 1, [{ name: topic, partitions: 8 }]);
let waiting = 0;
let arrived: (() => void) | undefined;
const sub = await broker.subscribe({
  groupId: `bench-hop-${Date.now().toString(36)}`,
  topics: [topic],
  handler: async (messages) => {
    waiting -= messages.length;
    if (waiting <= 0) arrived?.();
  },
});
await sub.ready;

let sent = 0;
async function round(): Promise<void> {
  const done = new Promise<void>((resolve) => (arrived = resolve));
  waiting = batch;
  const messages = Array.from({ length: batch }, () => {
    const sagaId = `hop-${sent++}`;
    return { topic, key: sagaId, envelope: newEnvelope('CommitStock', { orderId: sagaId }, { sagaId }) };
  });
  await producer.send(messages);
  await done;
}

for (let i = 0; i < Math.min(200, rounds); i++) await round(); // connections, metadata, the JIT of this process
const cpu0 = process.cpuUsage();
const broker0 = cpuTicksOf(brokerPid);
const t0 = performance.now();
for (let i = 0; i < rounds; i++) await round();
const wallUs = (performance.now() - t0) * 1000;
const cpu = process.cpuUsage(cpu0);
const brokerUs = ((cpuTicksOf(brokerPid) - broker0) * 1e6) / HZ;
await sub.close();
await broker.close();

const messages = rounds * batch;
const result = {
  date: new Date().toISOString(),
  batch,
  rounds,
  client_cpu_us_per_message: Math.round((cpu.user + cpu.system) / messages),
  broker_cpu_us_per_message: Math.round(brokerUs / messages),
  wall_us_per_round: Math.round(wallUs / rounds),
};
console.error(`${messages} messages in ${rounds} rounds of ${batch}: client ${result.client_cpu_us_per_message} µs, broker ${result.broker_cpu_us_per_message} µs of CPU per message; ${result.wall_us_per_round} µs per round`);
console.log(JSON.stringify(result));
