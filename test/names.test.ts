/**
 * Look-alike names (src/auth/names.ts): the skeleton, its SQL twin that the migrations use on
 * stored usernames (run in a real SQLite), and the rules over HTTP: a guest may not take or mimic
 * a registered username, a username may not mimic another, and guests are marked.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "mocha";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skeleton, skeletonSql } from "../src/auth/names.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { UsernameTakenError } from "../src/persistence/store.js";
import { http, startApp, type TestApp } from "./helpers.js";

type Failure = { error: { code: string; message: string } };

describe("names: skeletons", () => {
  it("folds case, accents, compatibility forms, separators and common homoglyphs", () => {
    const admin = skeleton("admin");
    for (const lookalike of [
      "Admin",
      "ADMIN",
      "Adm1n",
      "AdmIn",
      "Admln",
      "Аdmin", // Cyrillic А
      "аdmіn", // Cyrillic а and і
      "Ádmín",
      "Ａｄｍｉｎ", // fullwidth
      "ad_min",
      "Ad.Min",
      "ad min",
      "adrnin", // rn for m
    ])
      assert.equal(skeleton(lookalike), admin, lookalike);
    assert.equal(skeleton("B0b"), skeleton("bob"));
    assert.equal(skeleton("Βοb"), skeleton("bob")); // Greek capital beta, omicron
    assert.equal(skeleton("рос"), skeleton("poc")); // Cyrillic р, о, с
    assert.equal(skeleton("хеу"), skeleton("xey")); // Cyrillic х, е, у
    for (const [a, b] of [
      ["admin", "adman"],
      ["bob", "rob"],
      ["ann", "anna"],
    ])
      assert.notEqual(skeleton(a), skeleton(b), `${a} / ${b}`);
  });

  it("computes the same skeleton in SQL as in code for every username character", () => {
    const db = new DatabaseSync(":memory:");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
    const names = [
      "admin",
      "Adm1n_",
      "RN_rn_Rn",
      "r_n",
      "I1il0Oo",
      "frank_1",
      ...[...alphabet].map((c) => `x${c}${c}y`),
      alphabet,
    ];
    const sql = db.prepare(`SELECT ${skeletonSql("?")} AS s`);
    for (const name of names) assert.equal((sql.get(name) as { s: string }).s, skeleton(name), name);
    db.close();
  });
});

describe("names: the SQLite migration", () => {
  it("gives usernames stored before it their skeleton", async () => {
    const dir = mkdtempSync(join(tmpdir(), "realmgate-names-"));
    const file = join(dir, "realmgate.db");
    try {
      let store = new SqliteStore(file);
      await store.createAccount({ userId: "u1", username: "Old_T1mer", name: "Old_T1mer", passwordHash: null });
      await store.close();
      // Back to the schema before the skeleton migrations, every later one undone too: no skeleton
      // column, no unique index, no pending changes.
      const db = new DatabaseSync(file);
      const version = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
      db.exec(`DROP TABLE pending_changes;
               DROP INDEX accounts_skeleton_key; ALTER TABLE accounts DROP COLUMN skeleton;
               PRAGMA user_version = ${version - 3};`);
      db.close();
      store = new SqliteStore(file);
      assert.equal((await store.findAccountBySkeleton(skeleton("oldtimer")))?.userId, "u1");
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("names: the SQLite migration to one account per skeleton", () => {
  it("keeps the oldest look-alike's skeleton, clears the later ones', then refuses new look-alikes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "realmgate-names-"));
    const file = join(dir, "realmgate.db");
    try {
      let store = new SqliteStore(file);
      assert.equal(await store.findAccountBySkeleton("paul"), null); // opens the file and migrates
      await store.close();
      // Back to the schema before the unique index (and the migration after it), with two
      // look-alikes stored under it.
      const db = new DatabaseSync(file);
      const version = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
      db.exec(`DROP TABLE pending_changes;
               DROP INDEX accounts_skeleton_key; CREATE INDEX accounts_skeleton ON accounts (skeleton);
               INSERT INTO accounts (user_id, username, name, created_at, skeleton) VALUES
                 ('later', 'Pau1', 'Pau1', 2000, 'paul'), ('older', 'paul', 'paul', 1000, 'paul');
               PRAGMA user_version = ${version - 2};`);
      db.close();
      store = new SqliteStore(file);
      assert.equal((await store.findAccountBySkeleton("paul"))?.userId, "older");
      assert.equal((await store.getAccount("later"))?.username, "Pau1"); // the account stays
      const racer = await store
        .createAccount({ userId: "new", username: "PAUI", name: "PAUI", passwordHash: null, skeleton: "paul" })
        .catch((err: unknown) => err);
      assert.ok(racer instanceof UsernameTakenError && racer.lookalike);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("names: guests and registrations", function () {
  this.timeout(60_000);
  let app: TestApp;
  before(async () => {
    app = await startApp({ ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" });
  });
  after(() => app.stop());

  it("refuses a guest name that is, or looks like, a registered username, and marks guests", async () => {
    const reg = await http(app, "POST", "/auth/register", { username: "Moderator", password: "password-1" });
    assert.equal(reg.status, 201);
    for (const name of ["Moderator", "moderator", "M0derator", "Моderatоr", "Mod erator", "Moderatоr"]) {
      const res = await http<Failure>(app, "POST", "/auth/guest", { name });
      assert.equal(res.status, 409, name);
      assert.equal(res.body.error.code, "auth/name_reserved", name);
    }
    const ok = await http<{ name: string; guest?: boolean; userId: string }>(app, "POST", "/auth/guest", {
      name: "Moderna",
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.name, "Moderna");
    assert.equal(ok.body.guest, true);
    const seen = await fetch(`${app.url}/api/admin/users/${ok.body.userId}`, {
      headers: { authorization: "Basic " + Buffer.from("admin:correct-horse-battery").toString("base64") },
    });
    assert.equal(((await seen.json()) as { guest: boolean }).guest, true);
  });

  it("refuses a username that looks like an existing one, or like a guest's default name", async () => {
    assert.equal(
      (await http(app, "POST", "/auth/register", { username: "lily_w", password: "password-1" })).status,
      201,
    );
    for (const username of ["LILY_W", "l1ly_w", "Lilyw", "IiIy_w"]) {
      const res = await http<Failure>(app, "POST", "/auth/register", { username, password: "password-1" });
      assert.equal(res.status, 409, username);
      assert.equal(res.body.error.code, "auth/username_taken", username);
    }
    const guestLike = await http<Failure>(app, "POST", "/auth/register", {
      username: "Guest_1234",
      password: "password-1",
    });
    assert.equal(guestLike.status, 409);
    assert.equal(guestLike.body.error.code, "auth/name_reserved");
  });

  it("of two look-alikes registered at once, exactly one gets in; the other is told the name looks taken", async () => {
    // Both pass the lookup before either is stored: the password hash (about half a second) sits between.
    const [a, b] = await Promise.all(
      ["race_m0nk", "Race_Monk"].map((username) =>
        http<Failure | { userId: string }>(app, "POST", "/auth/register", { username, password: "password-1" }),
      ),
    );
    assert.deepEqual([a.status, b.status].sort(), [201, 409]);
    const refused = (a.status === 409 ? a : b).body as Failure;
    assert.equal(refused.error.code, "auth/username_taken");
    assert.match(refused.error.message, /looks like a username that exists/);
  });
});
