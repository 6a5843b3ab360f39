import type { SagaDefinition } from '../saga-definition';
import type { OutgoingCommand, SagaReply } from '../saga-instance';
import type { SeededRandom } from './seeded-random';
import {
  DONE,
  FAILED,
  FAILURE_CODE,
  UNDONE,
  UNEXPECTED_REPLY,
  parseMessageType,
  type SimData,
  type SimPayload,
} from './simulated-sagas';

/** How participants behave in a phase of the run. */
export interface ParticipantBehaviour {
  /** Probability that a step command is answered with its failure reply. */
  readonly failureRate: number;
  /** Probability that a command is answered with a reply type no step expects. */
  readonly unexpectedRate: number;
  /**
   * Whether retriable steps may fail. The drain phase sets it false: such steps must
   * eventually succeed, or the saga could never end.
   */
  readonly retriableStepsFail: boolean;
}

/**
 * Every participant of every simulated saga, idempotent like the real ones (an inbox): a command
 * delivered again gets the answer it got the first time. A new attempt (a new message id) is a new
 * decision. Compensations always succeed.
 *
 * @example
 * const reply = participants.answer(command, { failureRate: 0.2, unexpectedRate: 0, retriableStepsFail: true });
 */
export class SimulatedParticipants {
  private readonly answered = new Map<string, string>();
  private replies = 0;

  constructor(
    private readonly rng: SeededRandom,
    private readonly definitionOf: (sagaId: string) => SagaDefinition<SimData>,
  ) {}

  answer(command: OutgoingCommand, behaviour: ParticipantBehaviour): SagaReply {
    const type = this.answered.get(command.messageId) ?? this.decide(command, behaviour);
    this.answered.set(command.messageId, type);
    const parsed = parseMessageType(type);
    const payload: SimPayload =
      parsed?.role === 'failed'
        ? { sagaId: command.sagaId, code: FAILURE_CODE(parsed.step), reason: `${parsed.step} rejected by the simulation` }
        : { sagaId: command.sagaId };
    return { type, causationId: command.messageId, payload, messageId: `r-${++this.replies}` };
  }

  private decide(command: OutgoingCommand, behaviour: ParticipantBehaviour): string {
    const parsed = parseMessageType(command.type);
    if (!parsed) return UNEXPECTED_REPLY;
    if (this.rng.chance(behaviour.unexpectedRate)) return UNEXPECTED_REPLY;
    if (parsed.role === 'undo') return UNDONE(parsed.step);
    const step = this.definitionOf(command.sagaId).step(parsed.step);
    const mayFail = behaviour.retriableStepsFail || step.kind !== 'retriable';
    return mayFail && this.rng.chance(behaviour.failureRate) ? FAILED(parsed.step) : DONE(parsed.step);
  }
}
