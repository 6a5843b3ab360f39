import { InMemorySagaStore } from '../in-memory/in-memory-saga-store';
import type { SagaDefinition } from '../saga-definition';
import type { SagaEvent, SagaEventOutcome } from '../saga-engine';
import type { OutgoingCommand, SagaStatus } from '../saga-instance';
import type { IdGenerator } from '../ports/id-generator';
import { CRASH_POINTS, CrashingSagaStore, SimulatedCrash, describeCrashPoint } from './crashing-saga-store';
import { EngineInvariants, formatTime, type InvariantRule, type StoreSnapshot } from './engine-invariants';
import { SeededRandom } from './seeded-random';
import type { EngineFactory, SimulatedEngine } from './simulated-engine';
import { SimulatedParticipants, type ParticipantBehaviour } from './simulated-participants';
import { SIM_SAGAS, type SimData } from './simulated-sagas';

/** How hostile one seed's world is; drawn from the seed, so seeds differ in kind, not only in order. */
export interface FaultProfile {
  readonly sagaCount: number;
  /** Random actions before the drain phase. */
  readonly chaosActions: number;
  /** Probability that a unit of work dies at a random point (and rolls back). */
  readonly crashInUnitOfWork: number;
  /** Weight of "the process restarts between two units of work" among the random actions. */
  readonly restartWeight: number;
  /** Probability that a command or a reply is lost (the participant was down). */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (relay or broker redelivery). */
  readonly duplicateRate: number;
  readonly failureRate: number;
  readonly unexpectedRate: number;
  /** Replies take up to this long: beyond a step's timeout they arrive after its re-send (late). */
  readonly maxReplyDelayMs: number;
  /** Weight of operator actions (retry step, retry compensation, cancel) among the random actions. */
  readonly operatorWeight: number;
}

/** Counters of one seed, summed over a run to show what the simulation exercised. */
export interface SeedStats {
  sagas: number;
  unitsOfWork: number;
  crashes: number;
  restarts: number;
  transitions: number;
  ignored: number;
  lateOrDuplicateReplies: number;
  timeouts: number;
  operatorActions: number;
  cancels: number;
  compensationFailed: number;
  commands: number;
  completed: number;
  compensated: number;
}

/** A zeroed {@link SeedStats}. */
export function emptyStats(): SeedStats {
  return {
    sagas: 0,
    unitsOfWork: 0,
    crashes: 0,
    restarts: 0,
    transitions: 0,
    ignored: 0,
    lateOrDuplicateReplies: 0,
    timeouts: 0,
    operatorActions: 0,
    cancels: 0,
    compensationFailed: 0,
    commands: 0,
    completed: 0,
    compensated: 0,
  };
}

/** A message on its way, deliverable from `availableAt` (virtual ms) on, in any order. */
interface Envelope<T> {
  readonly availableAt: number;
  readonly message: T;
}

type ChaosAction = 'relay' | 'deliver' | 'consume' | 'timers' | 'advance' | 'operator' | 'restart';
type OperatorAction = Extract<SagaEvent['kind'], 'retryStep' | 'retryCompensation' | 'cancel'>;

const OPERATOR_ACTIONS: readonly OperatorAction[] = ['retryStep', 'retryCompensation', 'cancel'];
const ENDED: readonly SagaStatus[] = ['COMPLETED', 'COMPENSATED'];
/** Drain replies come well within every step's and compensation's timeout, so sagas progress. */
const DRAIN_MAX_REPLY_DELAY_MS = 1_000;
const MAX_DRAIN_ROUNDS = 5_000;
/** A seed stops early once it has this many violations (the first ones are what matters). */
const MAX_VIOLATIONS = 20;

/** What the world needs to run one seed. */
export interface WorldOptions {
  readonly engineFactory: EngineFactory;
  readonly trace: boolean;
  /** Rules whose violations do not count towards stopping the seed early. */
  readonly tolerate: ReadonlySet<InvariantRule>;
}

/**
 * One seed's world: sagas started by inbound events, a virtual clock, an outbox relayed to
 * participants over a network that delays, reorders, duplicates and (in the chaos phase) loses
 * messages, participants that answer success, failure or nonsense, an operator who retries and
 * cancels, and an orchestrator process that crashes inside units of work and restarts between them.
 * The engine runs through the real {@link InMemorySagaStore}; only committed work is observed.
 *
 * Two phases: chaos (random actions), then drain (no losses or crashes, participants answer
 * promptly, retriable steps succeed, the operator retries every COMPENSATION_FAILED saga) until every
 * saga has ended; then the remaining messages are delivered (they must all be ignored).
 *
 * @example
 * const world = new SimulatedWorld(42, { engineFactory: SAGA_ENGINE_FACTORY, trace: true });
 * await world.run();
 * world.invariants.violations; world.trace;
 */
export class SimulatedWorld {
  /** Virtual time in ms (the epoch is 1970-01-01: times read as offsets from the seed's start). */
  now = 0;
  readonly trace: string[] = [];
  readonly stats: SeedStats = emptyStats();
  readonly profile: FaultProfile;
  readonly invariants: EngineInvariants;

  private readonly rng: SeededRandom;
  private readonly store = new InMemorySagaStore();
  private readonly crashing = new CrashingSagaStore(this.store);
  private readonly definitions: ReadonlyMap<string, SagaDefinition<SimData>>;
  private readonly plans = new Map<string, SagaDefinition<SimData>>();
  private readonly participants: SimulatedParticipants;
  private readonly inbound: Envelope<SagaEvent>[] = [];
  private readonly network: Envelope<OutgoingCommand>[] = [];
  private readonly outbox: OutgoingCommand[] = [];
  private engine: SimulatedEngine;
  private phase: 'chaos' | 'drain' = 'chaos';
  private messageIds = 0;
  private aborted = false;

  constructor(
    readonly seed: number,
    private readonly o: WorldOptions,
  ) {
    this.rng = new SeededRandom(seed);
    this.definitions = new Map(SIM_SAGAS.map((d) => [d.type, d]));
    this.invariants = new EngineInvariants((type) => this.definition(type));
    this.participants = new SimulatedParticipants(this.rng, (sagaId) => this.plans.get(sagaId)!);
    this.profile = drawProfile(this.rng);
    this.engine = this.newEngine();
  }

  /** Runs the seed to its end; violations are in {@link invariants}. */
  async run(): Promise<void> {
    this.log(`seed ${this.seed}: ${JSON.stringify(this.profile)}`);
    for (let i = 0; i < this.profile.sagaCount; i++) this.plan(`s${i + 1}`);
    for (let i = 0; i < this.profile.chaosActions && !this.stopped(); i++) await this.chaosAction();
    this.phase = 'drain';
    this.log('drain: no more losses or crashes; participants answer, the operator retries stuck compensations');
    await this.drain();
    await this.flush();
    // a seed stopped early proves nothing more about termination
    if (!this.stopped()) this.invariants.finished(this.store, [...this.plans.keys()], this.now);
    else this.log('stopped early: the engine threw or broke too many invariants');
    for (const instance of this.store.all()) {
      if (instance.status === 'COMPLETED') this.stats.completed++;
      if (instance.status === 'COMPENSATED') this.stats.compensated++;
    }
  }

  private plan(sagaId: string): void {
    const def = this.rng.pick(SIM_SAGAS);
    this.plans.set(sagaId, def);
    this.stats.sagas++;
    const start: SagaEvent = { kind: 'start', sagaType: def.type, sagaId, data: { sagaId, doneSteps: [] } satisfies SimData };
    this.inbound.push({ availableAt: this.rng.int(3_000), message: start });
    if (this.rng.chance(this.profile.duplicateRate)) this.inbound.push({ availableAt: this.rng.int(6_000), message: start });
    this.log(`plan ${sagaId}: ${def.type}`);
  }

  private async chaosAction(): Promise<void> {
    const commandsReady = this.available(this.network).length > 0;
    const inboundReady = this.available(this.inbound).length > 0;
    const known = [...this.plans.keys()].filter((id) => this.invariants.knows(id));
    const action = this.rng.weighted<ChaosAction>([
      ['relay', this.outbox.length > 0 ? 3 : 0],
      ['deliver', commandsReady ? 4 : 0],
      ['consume', inboundReady ? 4 : 0],
      ['timers', this.dueCount() > 0 ? 3 : 0.2],
      ['advance', 2],
      ['operator', known.length > 0 ? this.profile.operatorWeight : 0],
      ['restart', this.profile.restartWeight],
    ]);
    switch (action) {
      case 'relay':
        return this.relay(this.rng.between(1, this.outbox.length));
      case 'deliver':
        return this.deliver(this.takeAvailable(this.network));
      case 'consume':
        return void (await this.consume());
      case 'timers':
        return void (await this.fireTimers());
      case 'advance':
        return this.advance();
      case 'operator':
        return void (await this.operate(this.rng.pick(known), this.rng.pick(OPERATOR_ACTIONS)));
      case 'restart':
        this.engine = this.newEngine();
        this.stats.restarts++;
        return this.log('orchestrator restarts (engine rebuilt, state reloaded from the store)');
    }
  }

  private async drain(): Promise<void> {
    for (let round = 0; round < MAX_DRAIN_ROUNDS && !this.stopped(); round++) {
      if (this.ended()) return;
      let acted = false;
      if (this.outbox.length > 0) {
        this.relay(this.outbox.length);
        acted = true;
      }
      while (this.available(this.network).length > 0) {
        this.deliver(this.takeAvailable(this.network));
        acted = true;
      }
      while (this.available(this.inbound).length > 0 && !this.stopped()) {
        await this.consume();
        acted = true;
      }
      for (let i = 0; i < 100 && this.dueCount() > 0 && !this.stopped(); i++) {
        await this.fireTimers();
        acted = true;
      }
      for (const stuck of this.store.all().filter((s) => s.status === 'COMPENSATION_FAILED')) {
        await this.operate(stuck.id, 'retryCompensation');
        acted = true;
      }
      if (!acted) {
        const next = this.nextTime();
        if (next === null) return;
        this.now = next;
      }
    }
  }

  /** After every saga ended: deliver what is still on its way (late and duplicate replies). */
  private async flush(): Promise<void> {
    for (let round = 0; round < MAX_DRAIN_ROUNDS && !this.stopped(); round++) {
      if (this.outbox.length > 0) this.relay(this.outbox.length);
      while (this.available(this.network).length > 0) this.deliver(this.takeAvailable(this.network));
      while (this.available(this.inbound).length > 0 && !this.stopped()) await this.consume();
      const next = this.nextTime();
      if (next === null) return;
      this.now = next;
    }
  }

  /** The relay publishes the first `n` outbox rows; a relay that died after publishing publishes again. */
  private relay(n: number): void {
    for (const command of this.outbox.splice(0, n)) {
      this.network.push({ availableAt: this.now + this.rng.int(200), message: command });
      if (this.phase === 'chaos' && this.rng.chance(this.profile.duplicateRate)) {
        this.network.push({ availableAt: this.now + this.rng.int(2_000), message: command });
      }
    }
  }

  /** A participant gets a command and answers it (or, in the chaos phase, never does). */
  private deliver(envelope: Envelope<OutgoingCommand>): void {
    const command = envelope.message;
    if (this.phase === 'chaos' && this.rng.chance(this.profile.dropRate)) {
      return this.log(`${command.sagaId} ✗ ${command.type} ${command.messageId} lost`);
    }
    const behaviour: ParticipantBehaviour =
      this.phase === 'chaos'
        ? { failureRate: this.profile.failureRate, unexpectedRate: this.profile.unexpectedRate, retriableStepsFail: true }
        : { failureRate: this.profile.failureRate, unexpectedRate: 0, retriableStepsFail: false };
    const reply = this.participants.answer(command, behaviour);
    const maxDelay = this.phase === 'chaos' ? this.profile.maxReplyDelayMs : DRAIN_MAX_REPLY_DELAY_MS;
    const copies = 1 + (this.rng.chance(this.profile.duplicateRate) ? 1 : 0);
    const lost = this.phase === 'chaos' && this.rng.chance(this.profile.dropRate);
    if (!lost) {
      for (let i = 0; i < copies; i++) {
        this.inbound.push({ availableAt: this.now + this.rng.int(maxDelay + 1), message: { kind: 'reply', sagaId: command.sagaId, reply } });
      }
    }
    this.log(`${command.sagaId} → ${command.type} ${command.messageId} answered ${reply.type}${lost ? ' (reply lost)' : copies > 1 ? ' (twice)' : ''}`);
  }

  /** The orchestrator consumes a batch of inbound events; a crash leaves them unacknowledged (redelivered). */
  private async consume(): Promise<SagaEventOutcome[] | null> {
    const size = this.rng.between(1, Math.min(4, this.available(this.inbound).length));
    const batch: Envelope<SagaEvent>[] = [];
    for (let n = size; n > 0; n--) batch.push(this.takeAvailable(this.inbound));
    const outcomes = await this.unitOfWork(`consume ${batch.length}`, (tx) => this.engine.apply(tx, batch.map((e) => e.message)));
    if (outcomes === null) this.inbound.push(...batch);
    return outcomes;
  }

  private async fireTimers(): Promise<SagaEventOutcome[] | null> {
    const limit = this.rng.between(1, 3);
    return this.unitOfWork(`timers (limit ${limit})`, (tx) => this.engine.fireDueTimers(tx, limit));
  }

  /** An operator action (an HTTP call: lost if the orchestrator crashes under it). */
  private async operate(sagaId: string, kind: OperatorAction): Promise<SagaEventOutcome[] | null> {
    const event: SagaEvent = kind === 'cancel' ? { kind, sagaId, reason: 'simulated operator' } : { kind, sagaId };
    return this.unitOfWork(`operator ${kind}`, (tx) => this.engine.apply(tx, [event]));
  }

  private advance(): void {
    const next = this.nextTime();
    this.now = next !== null && this.rng.chance(0.6) ? next + this.rng.int(50) : this.now + this.rng.between(1, 3_000);
  }

  /**
   * One unit of work: maybe dies at a random point (chaos phase), which must roll back everything;
   * on commit its commands enter the outbox (same transaction) and the invariants see its outcomes.
   */
  private async unitOfWork(
    label: string,
    work: (tx: Parameters<SimulatedEngine['apply']>[0]) => Promise<SagaEventOutcome[]>,
  ): Promise<SagaEventOutcome[] | null> {
    const crashAt = this.phase === 'chaos' && this.rng.chance(this.profile.crashInUnitOfWork) ? this.rng.pick(CRASH_POINTS) : null;
    const before = this.snapshot();
    this.stats.unitsOfWork++;
    let outcomes: SagaEventOutcome[];
    try {
      outcomes = await this.crashing.unitOfWork(crashAt, work);
    } catch (error) {
      if (error instanceof SimulatedCrash) {
        this.invariants.rolledBack(before, this.snapshot(), this.now, label);
        this.stats.crashes++;
        this.engine = this.newEngine();
        this.log(`${label}: crash ${describeCrashPoint(error.point)}, rolled back; orchestrator restarts`);
        return null;
      }
      this.invariants.violations.push({
        rule: 'engine-error',
        text: `@${formatTime(this.now)}: the engine threw during ${label}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      });
      this.aborted = true;
      return null;
    }
    if (crashAt !== null) this.log(`${label}: crash point ${describeCrashPoint(crashAt)} not reached`);
    for (const o of outcomes) this.outbox.push(...o.commands);
    this.invariants.committed(outcomes, this.now);
    this.count(outcomes);
    if (this.o.trace) for (const o of outcomes) this.log(`${label}: ${describeOutcome(o)}`);
    return outcomes;
  }

  private count(outcomes: readonly SagaEventOutcome[]): void {
    for (const o of outcomes) {
      this.stats.commands += o.commands.length;
      if (o.ignored !== undefined) {
        this.stats.ignored++;
        if (/late or duplicate/.test(o.ignored)) this.stats.lateOrDuplicateReplies++;
        continue;
      }
      this.stats.transitions++;
      if (o.event.kind === 'timeout') this.stats.timeouts++;
      if (o.event.kind === 'cancel') this.stats.cancels++;
      if (o.event.kind === 'retryStep' || o.event.kind === 'retryCompensation' || o.event.kind === 'cancel') this.stats.operatorActions++;
      if (o.instance?.status === 'COMPENSATION_FAILED' && o.previous?.status !== 'COMPENSATION_FAILED') this.stats.compensationFailed++;
    }
  }

  private newEngine(): SimulatedEngine {
    const ids: IdGenerator = { newId: () => `m-${++this.messageIds}` };
    return this.o.engineFactory({ store: this.crashing, definitions: SIM_SAGAS, clock: { now: () => new Date(this.now) }, ids });
  }

  private definition(type: string): SagaDefinition<SimData> {
    const def = this.definitions.get(type);
    if (!def) throw new Error(`no simulated saga ${type}`);
    return def;
  }

  private snapshot(): StoreSnapshot {
    return new Map(this.store.all().map((instance) => [instance.id, { instance, historySize: this.store.history(instance.id).length }]));
  }

  private available<T>(queue: readonly Envelope<T>[]): Envelope<T>[] {
    return queue.filter((e) => e.availableAt <= this.now);
  }

  /** Removes and returns a random envelope that has arrived (there must be one): delivery in any order. */
  private takeAvailable<T>(queue: Envelope<T>[]): Envelope<T> {
    const envelope = this.rng.pick(this.available(queue));
    queue.splice(queue.indexOf(envelope), 1);
    return envelope;
  }

  private dueCount(): number {
    return this.store.all().filter((i) => i.deadlineAt !== null && i.deadlineAt.getTime() <= this.now).length;
  }

  /** The next time something happens on its own: a message arrives or a timer is due. */
  private nextTime(): number | null {
    const times = [
      ...this.inbound.map((e) => e.availableAt),
      ...this.network.map((e) => e.availableAt),
      ...this.store.all().flatMap((i) => (i.deadlineAt === null ? [] : [i.deadlineAt.getTime()])),
    ].filter((t) => t > this.now);
    return times.length === 0 ? null : Math.min(...times);
  }

  private ended(): boolean {
    return [...this.plans.keys()].every((id) => {
      const status = this.store.get(id)?.status;
      return status !== undefined && ENDED.includes(status);
    });
  }

  private stopped(): boolean {
    return this.aborted || this.invariants.violations.filter((v) => !this.o.tolerate.has(v.rule)).length >= MAX_VIOLATIONS;
  }

  private log(line: string): void {
    if (this.o.trace) this.trace.push(`${formatTime(this.now)} ${line}`);
  }
}

function drawProfile(rng: SeededRandom): FaultProfile {
  return {
    sagaCount: rng.between(1, 4),
    chaosActions: rng.between(30, 250),
    crashInUnitOfWork: rng.pick([0, 0.03, 0.1, 0.25]),
    restartWeight: rng.pick([0, 0.2, 0.6]),
    dropRate: rng.pick([0, 0.05, 0.15]),
    duplicateRate: rng.pick([0, 0.1, 0.3]),
    failureRate: rng.pick([0.02, 0.1, 0.3]),
    unexpectedRate: rng.pick([0, 0.03]),
    maxReplyDelayMs: rng.pick([500, 5_000, 15_000, 40_000]),
    operatorWeight: rng.pick([0, 0.3, 1.5]),
  };
}

/** `s1 ← Done.reserveStock re m-3 → v4 RUNNING processPayment#1 REPLY@+30.000s sends Do.processPayment m-7`. */
function describeOutcome(o: SagaEventOutcome): string {
  const e = o.event;
  const what =
    e.kind === 'start'
      ? `${e.sagaId} start ${e.sagaType}`
      : e.kind === 'reply'
        ? `${e.sagaId} ← ${e.reply.type} re ${e.reply.causationId}`
        : e.kind === 'timeout'
          ? `${e.sagaId} timer`
          : `${e.sagaId} operator ${e.kind}`;
  if (o.ignored !== undefined) return `${what} → ignored (${o.ignored})`;
  const i = o.instance;
  if (i === null) return `${what} → no instance`;
  const timer = i.deadlineAt === null ? '' : ` ${i.deadlineKind}@${formatTime(i.deadlineAt.getTime())}`;
  const sends = o.commands.length === 0 ? '' : ` sends ${o.commands.map((c) => `${c.type} ${c.messageId}`).join(', ')}`;
  return `${what} → v${i.version} ${i.status} ${i.currentStep}#${i.attempt}${timer}${sends}`;
}
