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

  it("ping fails once closed", async () => {
    const store = new SqliteStore(freshFile());
    await store.close();
    await assert.rejects(store.ping());
  });
});
