import type { SagaDefinition } from './saga-definition';
import type { OutgoingCommand, SagaInstance, SagaReply, TransitionResult } from './saga-instance';
import { cancel, onReply, onTimeout, retryCompensation, retryStep, start, type TransitionContext } from './saga-transitions';
import type { Clock } from './ports/clock';
import type { IdGenerator } from './ports/id-generator';
import type { RegisteredDefinition, SagaHistoryRecord, SagaStore, SagaUpdate } from './ports/saga-store';

/** Something that happens to a saga; the runner turns each into one transition. */
export type SagaEvent =
  | { readonly kind: 'start'; readonly sagaType: string; readonly sagaId: string; readonly data: unknown }
  | { readonly kind: 'reply'; readonly sagaId: string; readonly reply: SagaReply }
  | { readonly kind: 'timeout'; readonly sagaId: string }
  | { readonly kind: 'retryCompensation'; readonly sagaId: string }
  | { readonly kind: 'retryStep'; readonly sagaId: string }
  | { readonly kind: 'cancel'; readonly sagaId: string; readonly reason?: string };

/**
 * What one event did. `instance` is null only for an event about an unknown saga (then `ignored`
 * says so). When `parked` is set the event could not be applied because the saga's definition
 * version is not registered: nothing changed, and the caller must keep the event (not drop it) to
 * apply it again once that version is registered (see {@link SagaEngine}).
 */
export interface SagaEventOutcome {
  readonly event: SagaEvent;
  readonly instance: SagaInstance | null;
  /** The saga as it was before this event (null for a start, or an unknown saga). */
  readonly previous: SagaInstance | null;
  readonly commands: readonly OutgoingCommand[];
  readonly ignored?: string;
  /** Why the event waits: the saga's definition version is not registered. */
  readonly parked?: string;
}

export interface SagaEngineOptions<Tx> {
  store: SagaStore<Tx>;
  /**
   * Every registered definition, several versions of a type allowed (each type+version once):
   * new sagas start on a type's highest version, each instance advances on its own.
   */
  definitions: readonly SagaDefinition<any>[];
  clock: Clock;
  ids: IdGenerator;
}

/**
 * Applies events to sagas in batches through a {@link SagaStore}, inside the caller's unit of work:
 * one load for the whole batch, the pure transitions in event order (several events of one saga
 * see each other's result), then one insert, one update and one history append. The caller
 * publishes the returned commands in the same unit of work (outbox).
 *
 * Versions: the engine keeps every registered version of each saga type. `start` uses the type's
 * latest; every other event uses the instance's `definitionVersion`. An event for an instance whose
 * version is not registered is neither applied nor thrown on: its outcome is `parked` (the caller
 * keeps the event and applies it again when the version is back), its timers are not claimed, and
 * {@link SagaEngine.isRegistered} lets an operator view flag it.
 *
 * @example
 * const engine = new SagaEngine({ store, definitions: [placeOrderV1, placeOrderV2], clock: SYSTEM_CLOCK, ids: { newId: v7 } });
 * await db.transaction(async (tx) => {
 *   const outcomes = await engine.apply(tx, [{ kind: 'reply', sagaId, reply }]);
 *   await enqueueOutbox(tx, outcomes.flatMap((o) => o.commands.map(toMessage)));
 *   await keepForLater(tx, outcomes.filter((o) => o.parked).map((o) => o.event));
 * });
 */
export class SagaEngine<Tx> {
  /** type → version → definition. */
  private readonly definitions: ReadonlyMap<string, ReadonlyMap<number, SagaDefinition<any>>>;
  private readonly keys: readonly RegisteredDefinition[];

  constructor(private readonly o: SagaEngineOptions<Tx>) {
    const byType = new Map<string, Map<number, SagaDefinition<any>>>();
    for (const d of o.definitions) {
      const versions = byType.get(d.type) ?? new Map<number, SagaDefinition<any>>();
      if (versions.has(d.version)) throw new Error(`saga ${d.type} v${d.version} is registered twice`);
      byType.set(d.type, versions.set(d.version, d));
    }
    this.definitions = byType;
    this.keys = Object.freeze(o.definitions.map((d) => Object.freeze({ type: d.type, version: d.version })));
  }

  /**
   * The definition of a saga type: its latest version, or the given one. Throws for an unknown
   * type or version (see {@link SagaEngine.isRegistered} to ask first).
   *
   * @example
   * engine.definition('PlaceOrder').version;                     // the latest, which new sagas start on
   * engine.definition(instance.type, instance.definitionVersion); // the one an instance runs on
   */
  definition(type: string, version?: number): SagaDefinition<any> {
    const versions = this.definitions.get(type);
    if (!versions) throw new Error(`no saga definition for type ${type}`);
    if (version === undefined) return versions.get(Math.max(...versions.keys()))!;
    const def = versions.get(version);
    if (!def) throw new Error(`saga ${type} v${version} is not registered (registered: ${[...versions.keys()].sort((a, b) => a - b).map((v) => `v${v}`).join(', ')})`);
    return def;
  }

  /** Whether the definition `type` v`version` is registered. @example engine.isRegistered('PlaceOrder', 1) */
  isRegistered(type: string, version: number): boolean {
    return this.definitions.get(type)?.has(version) ?? false;
  }

  /** Every registered type and version. @example engine.registered() // [{ type: 'PlaceOrder', version: 1 }, …] */
  registered(): readonly RegisteredDefinition[] {
    return this.keys;
  }

  async apply(tx: Tx, events: readonly SagaEvent[]): Promise<SagaEventOutcome[]> {
    if (events.length === 0) return [];
    const ids = [...new Set(events.map((e) => e.sagaId))];
    const loaded = await this.o.store.loadForUpdate(tx, ids);
    return this.applyTo(tx, loaded, events);
  }

  /** Claims up to `limit` sagas whose timer is due and fires their timers (see {@link onTimeout}). */
  async fireDueTimers(tx: Tx, limit = 100): Promise<SagaEventOutcome[]> {
    const due = await this.o.store.claimDue(tx, this.o.clock.now(), limit, this.keys);
    return this.applyTo(tx, due, due.map((i) => ({ kind: 'timeout', sagaId: i.id }) as const));
  }

  private async applyTo(tx: Tx, loaded: readonly SagaInstance[], events: readonly SagaEvent[]): Promise<SagaEventOutcome[]> {
    const ctx: TransitionContext = { now: this.o.clock.now(), ids: this.o.ids };
    const loadedVersion = new Map(loaded.map((i) => [i.id, i.version]));
    const current = new Map(loaded.map((i) => [i.id, i]));
    const history: SagaHistoryRecord[] = [];
    const outcomes: SagaEventOutcome[] = [];

    for (const event of events) {
      const instance = current.get(event.sagaId) ?? null;
      if (instance && event.kind !== 'start' && !this.isRegistered(instance.type, instance.definitionVersion)) {
        const parked = `saga ${instance.id} is ${instance.type} v${instance.definitionVersion}, a version that is not registered: the ${event.kind} waits for it`;
        outcomes.push({ event, instance, previous: instance, commands: [], parked });
        continue;
      }
      const r = this.transition(event, instance, ctx);
      if (r === null) {
        outcomes.push({ event, instance: null, previous: null, commands: [], ignored: `unknown saga ${event.sagaId}` });
        continue;
      }
      if (!r.ignored) {
        current.set(event.sagaId, r.instance);
        for (const h of r.history) history.push({ sagaId: event.sagaId, ...h });
      }
      outcomes.push({ event, instance: r.instance, previous: instance, commands: r.commands, ignored: r.ignored });
    }

    const inserts: SagaInstance[] = [];
    const updates: SagaUpdate[] = [];
    for (const [id, instance] of current) {
      const expectedVersion = loadedVersion.get(id);
      if (expectedVersion === undefined) inserts.push(instance);
      else if (instance.version !== expectedVersion) updates.push({ instance, expectedVersion });
    }
    if (inserts.length > 0 || updates.length > 0 || history.length > 0) await this.o.store.save(tx, { inserts, updates, history });
    return outcomes;
  }

  /** null = the event is about a saga that does not exist. */
  private transition(event: SagaEvent, instance: SagaInstance | null, ctx: TransitionContext): TransitionResult | null {
    if (event.kind === 'start') {
      if (instance) return { instance, commands: [], history: [], ignored: `saga ${event.sagaId} already exists` };
      // A new saga starts on the latest registered version of its type.
      return start(this.definition(event.sagaType), { sagaId: event.sagaId, data: event.data, ...ctx });
    }
    if (!instance) return null;
    const def = this.definition(instance.type, instance.definitionVersion);
    switch (event.kind) {
      case 'reply':
        return onReply(def, instance, event.reply, ctx);
      case 'timeout':
        return onTimeout(def, instance, ctx);
      case 'retryCompensation':
        return retryCompensation(def, instance, ctx);
      case 'retryStep':
        return retryStep(def, instance, ctx);
      case 'cancel':
        return cancel(def, instance, ctx, event.reason);
    }
  }
}
