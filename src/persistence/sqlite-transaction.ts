/**
 * One SQLite transaction over a `DatabaseSync`, for the store's worker thread and the modules it
 * runs (src/persistence/sqlite-*.ts): `BEGIN IMMEDIATE` takes the write lock first, so a read and
 * the conditional write after it never interleave with another writer.
 */
import type { DatabaseSync } from "node:sqlite";

/** Runs `work` in one transaction and answers what it answers; any failure rolls it all back. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}
