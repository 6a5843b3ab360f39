/**
 * Every Kafka topic of the platform with its partition count (DESIGN §4).
 * Message key is always the saga id, so one saga's messages stay in order.
 *
 * @example
 * producer.send([{ topic: TOPICS.inventoryCommands, key: sagaId, envelope }]);
 */
export const TOPICS = {
  orderCommands: 'order.commands',
  inventoryCommands: 'inventory.commands',
  paymentCommands: 'payment.commands',
  orchestratorReplies: 'orchestrator.replies',
  orderEvents: 'order.events',
  paymentEvents: 'payment.events',
  inventoryEvents: 'inventory.events',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Partitions per main topic: enough for the orchestrator and participants to work several at once. */
export const TOPIC_PARTITIONS = 8;
/** Partitions per dead-letter topic. */
export const DLQ_PARTITIONS = 1;

/** Name of the dead-letter topic of a consumed topic. @example dlqTopic('inventory.commands') === 'inventory.commands.dlq' */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Every topic to create, with its partition count: each main topic and its DLQ. */
export function allTopics(): { name: string; partitions: number }[] {
  return Object.values(TOPICS).flatMap((name) => [
    { name, partitions: TOPIC_PARTITIONS },
    { name: dlqTopic(name), partitions: DLQ_PARTITIONS },
  ]);
}
