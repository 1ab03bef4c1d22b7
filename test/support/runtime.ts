import { Database, PostgresEventStore } from '@authz/event-store';
import { ENTITIES, MIGRATIONS } from '@authz/runtime';
import { createDatabase } from './infra';

/** A migrated, empty event store on the real PostgreSQL, in a database of its own. */
export async function realStore(nodeId = 'test-node'): Promise<{ db: Database; store: PostgresEventStore; url: string; close: () => Promise<void> }> {
  const database = await createDatabase();
  const db = await Database.open({ url: database.url, migrations: MIGRATIONS, entities: ENTITIES, poolSize: 20 });
  return {
    db,
    store: new PostgresEventStore(db, nodeId),
    url: database.url,
    close: async () => {
      await db.close();
      await database.drop();
    },
  };
}

export const context = { actor: 'user:test', correlationId: 'corr-1' };
export const event = (n: number, type = 'TestHappened') => ({ type, schemaVersion: 1, data: { n } });
