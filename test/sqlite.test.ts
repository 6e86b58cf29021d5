import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { storeContract } from "./store.contract.js";

const freshFile = () => join(mkdtempSync(join(tmpdir(), "realmgate-sqlite-")), "realmgate.db");

storeContract("sqlite", () => Promise.resolve(new SqliteStore(freshFile())));

describe("sqlite store", () => {
  it("uses WAL mode and survives reopening", async () => {
    const file = freshFile();
    const store = new SqliteStore(file);
    const a = await store.createAccount({ userId: "u1", username: "erin", name: "erin", passwordHash: null });
    await store.close();
    const again = new SqliteStore(file);
    assert.deepEqual(await again.getAccount("u1"), a);
    await again.close();
    const raw = new DatabaseSync(file);
    assert.equal((raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    raw.close();
  });

  it("lets several processes open one new file at once: each migrates it or finds it migrated", async () => {
    const file = freshFile();
    // Four workers open the same new file together, as processes of a cluster starting at once.
    for (let round = 0; round < 5; round++) {
      const each = `${file}-${round}`;
      const stores = Array.from({ length: 4 }, () => new SqliteStore(each));
      const created = await Promise.allSettled(
        stores.map((store, i) =>
          store.createAccount({ userId: `u${i}`, username: `user${i}`, name: `user${i}`, passwordHash: null }),
        ),
      );
      await Promise.all(stores.map((store) => store.close()));
      assert.deepEqual(
        created.filter((r) => r.status === "rejected").map((r) => String(r.reason)),
        [],
      );
      const raw = new DatabaseSync(each);
      const { user_version: version } = raw.prepare("PRAGMA user_version").get() as { user_version: number };
      const { n } = raw.prepare("SELECT count(*) AS n FROM accounts").get() as { n: number };
      raw.close();
      assert.equal(n, 4);
      assert.ok(version > 0);
    }
  });

  it("ping fails once closed", async () => {
    const store = new SqliteStore(freshFile());
    await store.close();
    await assert.rejects(store.ping());
  });
});
