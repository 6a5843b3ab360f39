/** A record as a log store keeps it: serialized like on Kafka, so consumers get fresh objects each delivery. */
export interface StoredRecord {
  offset: number;
  key: string;
  headers: Record<string, string>;
  value: string | undefined;
}

/** A record to append to one partition. */
export interface NewRecord {
  topic: string;
  partition: number;
  key: string;
  headers: Record<string, string>;
  value: string | undefined;
}

/**
 * Where a {@link LogBroker} keeps its partitioned logs and its groups' committed offsets. Reads of
 * positions are synchronous (kept in memory); writes resolve once durable. Offsets of a partition
 * increase with every append; a consumer group's position is the offset it reads next.
 */
export interface LogStore {
  /** The offset the next record appended to the partition gets. */
  end(topic: string, partition: number): number;
  /**
   * The group's position on the partition; a group new to it starts at the oldest retained record,
   * and that position is recorded so no record is trimmed before the group has read it.
   */
  register(group: string, topic: string, partition: number): Promise<number>;
  /** Appends in the order given; resolves once every record is stored (and `end` moved past it). */
  append(records: readonly NewRecord[]): Promise<void>;
  /** Up to `limit` records of the partition from offset `from` on, in offset order. */
  read(topic: string, partition: number, from: number, limit: number): Promise<StoredRecord[]>;
  /** Records the group's position (the offset after the last record it handled) and may drop records every group has passed. */
  commit(group: string, topic: string, partition: number, next: number): Promise<void>;
}
