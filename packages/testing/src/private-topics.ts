import { Admin } from '@platformatic/kafka';

/** Creates private topics for one test run (random names) and deletes them afterwards. */
export async function createPrivateTopics(brokers: string[], names: readonly string[], partitions = 4): Promise<() => Promise<void>> {
  const admin = new Admin({ clientId: `it-admin-${process.pid}`, bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [...names], partitions, replicas: 1 });
  } finally {
    await admin.close().catch(() => undefined);
  }
  return async () => {
    const cleanup = new Admin({ clientId: `it-admin-${process.pid}`, bootstrapBrokers: brokers });
    try {
      await cleanup.deleteTopics({ topics: [...names] });
    } finally {
      await cleanup.close().catch(() => undefined);
    }
  };
}
