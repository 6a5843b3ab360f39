import { Admin } from '@platformatic/kafka';
import { KAFKA_BROKERS, randomSuffix } from './test-support';

/** Private topics for one test file (`it-messaging-<random>-<name>`), deleted by cleanup(). */
export class TestTopics {
  private readonly admin = new Admin({ clientId: 'it-messaging-admin', bootstrapBrokers: KAFKA_BROKERS });
  private readonly prefix = `it-messaging-${randomSuffix()}`;
  private readonly created: string[] = [];
  private readonly groups: string[] = [];

  /** Creates `<prefix>-<name>` with `partitions` and its `.dlq` with one; returns the main name. */
  async create(name: string, partitions: number): Promise<string> {
    const topic = `${this.prefix}-${name}`;
    await this.admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    await this.admin.createTopics({ topics: [`${topic}.dlq`], partitions: 1, replicas: 1 });
    this.created.push(topic, `${topic}.dlq`);
    // Wait until every partition has a leader, or the first produce may fail.
    for (let i = 0; ; i++) {
      try {
        const md = await this.admin.metadata({ topics: [topic, `${topic}.dlq`], forceUpdate: true });
        const ok = [topic, `${topic}.dlq`].every((t) => md.topics.get(t)?.partitions.every((p) => p.leader >= 0));
        if (ok) break;
      } catch (err) {
        if (i > 100) throw err;
      }
      if (i > 100) throw new Error(`topic ${topic} has no leader`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return topic;
  }

  /** Group id unique to this run. */
  group(name: string): string {
    const id = `${this.prefix}-${name}`;
    this.groups.push(id);
    return id;
  }

  async cleanup(): Promise<void> {
    try {
      if (this.created.length > 0) await this.admin.deleteTopics({ topics: this.created });
      // Groups still joined (a leaked consumer) cannot be deleted; that must not hide the result.
      if (this.groups.length > 0) await this.admin.deleteGroups({ groups: this.groups }).catch(() => undefined);
    } finally {
      await this.admin.close();
    }
  }
}
