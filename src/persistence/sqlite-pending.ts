/**
 * Pending profile changes in SQLite (src/cluster/profile-changes.ts): plain functions over a
 * `DatabaseSync`, served by the store's worker (src/persistence/sqlite.worker.ts).
 */
import type { DatabaseSync } from "node:sqlite";
import type { PendingChange } from "./store.js";

export const PENDING_MIGRATION = `
  CREATE TABLE pending_changes (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    change  TEXT NOT NULL,
    at      INTEGER NOT NULL
  );
  CREATE INDEX pending_changes_at ON pending_changes (at);`;

interface Row {
  id: string;
  user_id: string;
  name: string;
  change: string;
  at: number;
}

export const PENDING_OPS = {
  save(db: DatabaseSync, p: PendingChange): void {
    db.prepare(
      "INSERT INTO pending_changes (id, user_id, name, change, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    ).run(p.id, p.userId, p.name, JSON.stringify(p.change), p.at);
  },
  list(db: DatabaseSync, before: number, limit: number): PendingChange[] {
    const rows = db
      .prepare("SELECT * FROM pending_changes WHERE at < ? ORDER BY at, id LIMIT ?")
      .all(before, limit) as unknown as Row[];
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      name: r.name,
      change: JSON.parse(r.change) as Record<string, unknown>,
      at: r.at,
    }));
  },
  delete(db: DatabaseSync, id: string): void {
    db.prepare("DELETE FROM pending_changes WHERE id = ?").run(id);
  },
};
