/**
 * The browser client at /play, driven in Debian's Chromium through playwright-core: the page is
 * built with the same function `npm run build` uses, the server is the real app, and two pages
 * play together. Each step waits on the page's own state (`window.realmgate.state()`), never on
 * a sleep. Screenshots go to test/screenshots/ (ignored by git).
 *
 * Without /usr/bin/chromium the suite tries `apt-get install chromium` once, when it runs as root
 * in CI (or with no terminal); otherwise it prints one SKIPPED line with the reason.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strict as assert } from "node:assert";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { buildWeb } from "../web/build.js";
import type { MatchSnapshot, Snapshot } from "../web/snapshot.js";
import { matchModes } from "../src/content/matches.js";
import { matchPublicKey, verifyChain } from "../src/rules/match-chain.js";
import type { MatchRecord, StoredMatch, Tx } from "../src/domain/match.js";
import type { JsonWebKey } from "node:crypto";
import { http, startApp, type TestApp } from "./helpers.js";

/** Debian's Chromium; CHROMIUM_PATH points elsewhere (another build, or a missing one to see the skip). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];
const SHOTS = join(import.meta.dirname, "screenshots");

/** Makes sure Chromium is there; returns why not when it cannot be had. */
function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const root = process.getuid?.() === 0;
  const ciLike = Boolean(process.env.CI) || !process.stdin.isTTY;
  if (!root || !ciLike)
    return `${CHROMIUM} is missing and this run may not install it (needs root in CI): apt-get install chromium`;
  const apt = (...args: string[]) =>
    spawnSync("apt-get", args, {
      stdio: "ignore",
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  if (apt("install", "-y", "chromium").status !== 0) {
    apt("update");
    apt("install", "-y", "chromium");
  }
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is still missing after apt-get install chromium`;
}

/** What web/main.ts puts on `window` (the page runs with DOM types; this test does not). */
interface PageGlobals {
  realmgate: {
    state(): Snapshot;
    actions: Record<string, (...args: unknown[]) => unknown>;
  };
}

/** GET /api/matches/:matchId. */
type History = Omit<MatchRecord, "roomId"> & Pick<StoredMatch, "chain" | "rolledBack">;

const state = (page: Page): Promise<Snapshot> =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).realmgate.state());

/** Calls `window.realmgate.actions[name](...args)` in the page. */
const act = (page: Page, name: string, ...args: unknown[]): Promise<unknown> =>
  page.evaluate(([n, a]) => (globalThis as unknown as PageGlobals).realmgate.actions[n](...a), [name, args] as const);

/**
 * Waits until `predicate(snapshot, arg)` holds in the page (evaluated there on every animation
 * frame). The predicate is serialized into the page, so it may use nothing but its arguments.
 */
async function until<A>(
  page: Page,
  predicate: (s: Snapshot, arg: A) => boolean,
  arg: A,
  what: string,
  ms = 15_000,
): Promise<Snapshot> {
  try {
    await page.waitForFunction(
      ([src, a]) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
        const check = new Function(`return (${src})`)() as (s: Snapshot, arg: unknown) => boolean;
        return check((globalThis as unknown as PageGlobals).realmgate.state(), a);
      },
      [predicate.toString(), arg] as const,
      { timeout: ms },
    );
  } catch (err) {
    const s = await state(page).catch(() => undefined);
    throw new Error(
      `${what}: not reached within ${ms} ms (${String(err)}); page state: ${JSON.stringify(s && { ...s, welcome: undefined })}`,
      { cause: err },
    );
  }
  return state(page);
}

describe("browser client at /play, in Chromium", function () {
  this.timeout(60_000);
  let app: TestApp;
  let context: BrowserContext;
  let profileDir: string;
  let alice: Page;
  let bob: Page;
  const errors: string[] = [];

  before(async function () {
    this.timeout(900_000);
    const missing = ensureChromium();
    if (missing) {
      console.log(`SKIPPED browser tests: ${missing}`);
      this.skip();
    }
    const built = await buildWeb();
    assert.ok(built.bytes > 10_000, "the bundle was built");
    mkdirSync(SHOTS, { recursive: true });
    app = await startApp();
    profileDir = mkdtempSync(join(tmpdir(), "realmgate-chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1340, height: 720 },
    });
    const open = async (name: string) => {
      const page = await context.newPage();
      page.on("pageerror", (err) => errors.push(`${name}: ${err.message}`));
      await page.goto(`${app.url}/play`);
      return page;
    };
    [alice, bob] = [await open("alice"), await open("bob")];
  });

  after(async () => {
    await context?.close();
    await app?.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  afterEach(function () {
    assert.deepEqual(errors, [], "no uncaught errors in the pages");
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

  it("serves the page at /play and logs a guest in from the form", async () => {
    const res = await fetch(`${app.url}/play/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<canvas id="canvas"/);
    await alice.fill("#guest-name", "Alice");
    await alice.click("#guest");
    const s = await until(
      alice,
      (s) => s.screen === "world" && s.me !== null && s.welcome !== null,
      null,
      "Alice in the world",
    );
    assert.equal(s.world, "meadow");
    assert.equal(s.me!.name, "Alice");
    await act(bob, "guest", "Bob");
    await until(bob, (s) => s.screen === "world" && s.me !== null && s.welcome !== null, null, "Bob in the world");
    await shot(alice, "01-login");
  });

  it("pins the login to this browser: a device id kept in localStorage goes with the login, the joins and every call", async () => {
    const kept = await alice.evaluate(() => ({
      device: localStorage.getItem("realmgate.device"),
      session: sessionStorage.getItem("realmgate.session"),
    }));
    assert.ok(kept.device && kept.device.length >= 8, `device id ${kept.device}`);
    const { token } = JSON.parse(kept.session!) as { token: string };
    const me = (headers: Record<string, string>) =>
      fetch(`${app.url}/api/me`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    // Alice got into the world (a join and Bearer calls) with a token that works only with the id.
    const bare = await me({});
    assert.equal(bare.status, 403);
    assert.equal(((await bare.json()) as { error: { code: string } }).error.code, "auth/fingerprint_mismatch");
    assert.equal((await me({ "x-device-fingerprint": "another-browser-01" })).status, 403);
    assert.equal((await me({ "x-device-fingerprint": kept.device })).status, 200);
    // One browser, one device: the other page of the same profile keeps the same id.
    assert.equal(await bob.evaluate(() => localStorage.getItem("realmgate.device")), kept.device);
  });

  it("registers, logs out and logs in again from the forms", async () => {
    const page = await context.newPage();
    page.on("pageerror", (err) => errors.push(`carol: ${err.message}`));
    try {
      await page.goto(`${app.url}/play/`);
      const username = `carol_${Date.now() % 1e6}`;
      await page.fill("#reg-user", username);
      await page.fill("#reg-pass", "correct horse");
      await page.click("#register");
      const first = await until(page, (s) => s.screen === "world" && s.me !== null, null, "Carol registered and in");
      assert.equal(first.user!.name, username);
      await page.click("#logout");
      await until(page, (s) => s.screen === "login" && s.user === null, null, "Carol logged out");
      await page.fill("#login-user", username);
      await page.fill("#login-pass", "wrong password");
      await page.click("#login-btn");
      await page.locator("#login-error", { hasText: "auth/invalid_credentials" }).waitFor({ timeout: 5000 });
      await page.fill("#login-pass", "correct horse");
      await page.click("#login-btn");
      const again = await until(page, (s) => s.screen === "world" && s.me !== null, null, "Carol logged in");
      assert.equal(again.user!.userId, first.user!.userId);
      await shot(page, "02-registered-user");
    } finally {
      await page.close();
    }
  });

  it("a guest walks; the second page sees it within view and loses it out of view", async () => {
    const a = await state(alice);
    const b = await until(bob, (s, id) => s.others.some((o) => o.sessionId === id), a.sessionId, "Bob sees Alice");
    const seen = b.others.find((o) => o.sessionId === a.sessionId);

    // A person's way first: hold S until Alice is 60 units further south; Bob sees her move.
    await alice.keyboard.down("KeyS");
    await until(alice, (s, y0) => s.me!.y >= y0 + 60, a.me!.y, "Alice walks south with the keyboard");
    await alice.keyboard.up("KeyS");
    await until(
      bob,
      (s, [id, y0]) => s.others.some((o) => o.sessionId === id && o.y >= y0 + 40),
      [a.sessionId, seen!.y] as const,
      "Bob sees Alice walk",
    );
    await shot(bob, "03-bob-sees-alice");

    // Then click-to-move, far enough north to leave Bob's view.
    const aoi = b.welcome!.aoiRadius!;
    const target = { x: b.me!.x, y: Math.round(b.me!.y - aoi - 100) };
    await act(alice, "moveTo", target.x, target.y);
    await until(
      bob,
      (s, [id, y]) => s.others.some((o) => o.sessionId === id && o.y <= y),
      [a.sessionId, Math.round(b.me!.y - aoi / 2)] as const,
      "Bob sees Alice walk away",
    );
    await shot(bob, "04-bob-sees-alice-walk-away");
    await until(bob, (s, id) => !s.others.some((o) => o.sessionId === id), a.sessionId, "Alice leaves Bob's view");
    const far = await until(
      alice,
      (s, t) => Math.hypot(s.me!.x - t.x, s.me!.y - t.y) < 1,
      target,
      "Alice arrives",
      20_000,
    );
    assert.ok(Math.hypot(far.me!.x - b.me!.x, far.me!.y - b.me!.y) > aoi);
    const moveRefusals = far.refusals.filter((r) => r.action === "move");
    assert.deepEqual(moveRefusals, [], "the client paces its moves: none refused");
    assert.ok(far.debug.movesSent > 10 && far.debug.bytesPerSec >= 0 && far.debug.tick > 0);
    await shot(alice, "05-alice-out-of-view");
  });

  it("a chat crosses from one page to the other", async () => {
    await alice.keyboard.press("Enter");
    await alice.keyboard.type("hello from Alice");
    await alice.keyboard.press("Enter");
    await until(
      bob,
      (s) => s.chat.some((c) => c.name === "Alice" && c.text === "hello from Alice"),
      null,
      "Bob reads Alice's chat",
    );
    await bob.locator("#chatlog", { hasText: "Alice: hello from Alice" }).waitFor({ timeout: 5000 });
    await shot(bob, "06-chat");
  });

  it("gathers a resource, and shows a dropped connection and its reconnection", async () => {
    const before = await state(bob);
    await act(bob, "gather");
    const after = await until(bob, (s) => s.gathered.length === 1, null, "Bob gathers", 20_000);
    const gathered = after.gathered[0];
    const full = before.resources.find((r) => r.id === gathered.resource)!.amount;
    await until(
      bob,
      (s, [id, amount]) => s.resources.some((r) => r.id === id && r.amount === amount),
      [gathered.resource, full - gathered.qty] as const,
      "the resource's amount drops",
    );

    // The SDK reconnects by itself only rooms joined at least 5 s ago; the page says when.
    await until(bob, (s) => s.connection.reconnectable, null, "the room reconnectable", 10_000);
    await bob.click("#drop");
    await until(bob, (s) => s.connection.state === "reconnecting", null, "the indicator shows the drop", 5000);
    await until(bob, (s) => s.connection.state === "connected" && s.me !== null, null, "reconnected", 15_000);
    await bob.locator("#conn", { hasText: "connected" }).waitFor({ timeout: 5000 });
    const again = await state(bob);
    assert.equal(again.sessionId, before.sessionId, "the same session resumed");
    await shot(bob, "07-gathered-and-reconnected");
  });

  it("shows a refusal with its code, then a portal travel lands in dunes", async () => {
    const seq = (await act(alice, "send", "travel", { portal: "meadow-east-gate" })) as number;
    await until(
      alice,
      (s, q) => s.refusals.some((r) => r.seq === q && r.code === "travel/out_of_range"),
      seq,
      "travel from afar refused",
    );
    // The side panel and the debug overlay show it with its code.
    await alice.locator("#refusals", { hasText: "travel/out_of_range" }).waitFor({ timeout: 5000 });
    await alice.locator("#debug", { hasText: "travel/out_of_range" }).waitFor({ timeout: 5000 });

    await act(alice, "travel", "meadow-east-gate");
    const s = await until(
      alice,
      (s) => s.world === "dunes" && s.screen === "world" && s.me !== null && s.connection.state === "connected",
      null,
      "Alice arrives in dunes",
      40_000,
    );
    assert.equal(s.welcome!.world, "dunes");
    const gate = s.portals.find((p) => p.id === "dunes-west-gate");
    assert.ok(Math.hypot(s.me!.x - gate!.x, s.me!.y - gate!.y) < 100, "she stands by the portal she came through");
    await alice.locator("#place", { hasText: "(dunes)" }).waitFor({ timeout: 5000 }); // the side panel follows
    await shot(alice, "08-dunes");
  });

  it("two pages clear the training dungeon together and one picks the loot", async () => {
    const party = `party-${Date.now()}`;
    await Promise.all([act(alice, "enterDungeon", "training", party), act(bob, "enterDungeon", "training", party)]);
    for (const page of [alice, bob])
      await until(
        page,
        (s) => s.screen === "dungeon" && s.me !== null && s.others.length === 1,
        null,
        "both heroes inside",
      );
    const start = await state(alice);
    assert.equal(start.world, "training");
    assert.ok(start.dungeon!.enemies.length > 0 && start.dungeon!.doors.every((d) => !d.open));

    await Promise.all([act(alice, "fight"), act(bob, "fight")]);
    await until(alice, (s) => s.dungeon!.enemies.some((e) => e.hp < e.maxHp), null, "a hit lands");
    await shot(alice, "09-dungeon-fight");
    const cleared = await until(
      alice,
      (s) => s.dungeon!.status === "cleared" && s.cleared !== null,
      null,
      "cleared",
      40_000,
    );
    await until(bob, (s) => s.dungeon!.status === "cleared" && s.cleared !== null, null, "Bob sees the clear");
    assert.ok(
      cleared.dungeon!.doors.every((d) => d.open),
      "the doors open",
    );
    assert.ok(cleared.dungeon!.loot.length > 0, "the dummies dropped loot");

    const loot = cleared.dungeon!.loot[0];
    await act(alice, "pickup", loot.id);
    const picked = await until(alice, (s, id) => s.picked.some((p) => p.loot === id), loot.id, "Alice picks the loot");
    assert.equal(picked.picked[0].item, loot.item);
    await until(bob, (s, id) => !s.dungeon!.loot.some((l) => l.id === id), loot.id, "the loot is gone for Bob");
    const seq = (await act(bob, "send", "pickup", { loot: loot.id })) as number;
    await until(
      bob,
      (s, q) => s.refusals.some((r) => r.seq === q && r.code === "loot/gone"),
      seq,
      "Bob's late pickup refused",
    );
    await shot(alice, "10-dungeon-cleared");
    await shot(bob, "11-dungeon-cleared-bob");
  });
  describe("matches", () => {
    let dave: Page;
    let erin: Page;
    let watcher: Page;
    let matchId = "";
    const duel = matchModes.find((m) => m.id === "duel")!;
    const match = (s: Snapshot): MatchSnapshot => s.match!;

    /** The server's own verifier, in Node, over the same chain the page checked. */
    async function serverCheck(chain: Tx[], players: string[]) {
      const key = await http<{ kid: string; jwk: JsonWebKey }>(app, "GET", "/api/matches/key");
      return verifyChain(chain, { mode: duel, players, key: matchPublicKey(key.body) });
    }

    before(async () => {
      const open = async (name: string) => {
        const page = await context.newPage();
        page.on("pageerror", (err) => errors.push(`${name}: ${err.message}`));
        await page.goto(`${app.url}/play`);
        await act(page, "guest", name);
        await until(page, (s) => s.screen === "world" && s.me !== null, null, `${name} logged in`);
        await page.click("#tab-matches");
        await page.locator("#m-mode option[value=duel]").waitFor({ state: "attached", timeout: 5000 });
        return page;
      };
      [dave, erin, watcher] = [await open("Dave"), await open("Erin"), await open("Watcher")];
    });

    it("two pages play a duel to the end from the lobby, a third spectates, every transaction ✓", async function () {
      this.timeout(120_000); // three pages and a dozen steps, on a shared two-core machine
      // Dave opens a duel lobby; Erin joins it by its roomId; both press Ready.
      await dave.selectOption("#m-mode", "duel");
      await dave.click("#m-play");
      const lobby = match(await until(dave, (s) => s.match?.status === "lobby", null, "Dave in a duel lobby"));
      assert.equal(lobby.mode, "duel");
      await erin.fill("#m-room", lobby.roomId!);
      await erin.click("#m-join");
      for (const page of [dave, erin])
        await until(page, (s) => s.match?.players.length === 2, null, "both seated in the lobby");
      await dave.click("#m-ready");
      await until(
        erin,
        (s) => s.match!.players.some((p) => p.name === "Dave" && p.ready),
        null,
        "Erin sees Dave ready",
      );
      await shot(erin, "12-match-lobby");
      await erin.click("#m-ready");
      const started = match(await until(dave, (s) => s.match?.status === "playing", null, "the duel starts"));
      matchId = started.matchId!;
      assert.equal(started.round, 1);
      assert.deepEqual(
        started.players.map((p) => [p.name, p.gold]),
        [
          ["Dave", duel.startGold],
          ["Erin", duel.startGold],
        ],
      );

      // The watcher spectates it from the list of matches on the server.
      await watcher.click("#m-refresh");
      await watcher.locator(`#m-list [data-room-id="${lobby.roomId}"] button`, { hasText: "Spectate" }).click();
      await until(watcher, (s) => s.match?.spectator === true && s.match.status === "playing", null, "spectating");
      await until(dave, (s) => s.match!.spectators === 1, null, "the players see one spectator");

      // The turn timer counts down (by the server's clock as the page estimates it).
      const first = match(await state(dave));
      assert.ok(first.myTurn && first.msLeft > 0 && first.msLeft <= duel.turnSeconds * 1000);
      await until(dave, (s, ms) => s.match!.msLeft < ms - 300, first.msLeft, "the timer counts down");
      await dave.locator("#m-timer", { hasText: /Your turn · \d+\.\d s left/ }).waitFor({ timeout: 5000 });

      // Dave's turn, the way a person plays it: pick the tent, click two tiles, end the turn.
      await dave.click('#m-palette [data-building="tent"]');
      await dave.click('#m-board [data-x="0"][data-y="0"]');
      await dave.click('#m-board [data-x="1"][data-y="0"]');
      await until(dave, (s) => s.match!.queued.length === 2, null, "two tents queued");
      await shot(dave, "13-match-turn");
      await dave.click("#m-end-turn");
      await until(erin, (s) => s.match!.myTurn && s.match!.chainLength === 1, null, "Erin's turn");

      // Out of turn, the server refuses, and the page shows the code.
      const seq = (await act(dave, "matchSend", "turn", { prev: "", actions: [] })) as number;
      await until(
        dave,
        (s, q) => s.match!.refusals.some((r) => r.seq === q && r.code === "turn/not_yours"),
        seq,
        "refused",
      );
      await dave.locator("#m-refusals", { hasText: "turn/not_yours" }).waitFor({ timeout: 5000 });

      // Erin: a tower she cannot afford is held back by the rules run in the page; a tent is fine.
      assert.equal(await act(erin, "queue", 5, 5, "tent"), true);
      assert.equal(await act(erin, "queue", 4, 4, "tower"), false);
      assert.match(match(await state(erin)).hint, /not enough gold for a tower/);
      await erin.locator("#m-hint", { hasText: "not enough gold" }).waitFor({ timeout: 5000 });
      await until(erin, (s) => s.match!.chain?.txs.length === 1, null, "Erin's page checked transaction 1");
      await shot(erin, "14-match-erin-turn");
      await erin.click("#m-end-turn");

      // The remaining turns pass, whoever is due, until the end.
      for (let n = 2; n < duel.rounds * 2; n++) {
        const due = (await until(dave, (s, c) => s.match!.chainLength === c, n, `transaction ${n}`)).match!;
        const page = due.myTurn ? dave : erin;
        await until(page, (s) => s.match!.myTurn, null, "the page sees its turn");
        await page.click("#m-end-turn");
      }

      // The end: finished with ratings on every page; the spectator saw the board.
      for (const page of [dave, erin, watcher]) {
        const end = match(
          await until(
            page,
            (s, n) => s.match?.status === "finished" && s.match.finished !== null && s.match.txs.length === n,
            duel.rounds * 2,
            "finished",
          ),
        );
        assert.equal(end.finished!.ratings.length, 2);
        await page.locator("#m-finished", { hasText: "→" }).waitFor({ timeout: 5000 });
      }
      const seen = match(await state(watcher));
      assert.deepEqual(seen.tiles.map((t) => `${t.building}@${t.x},${t.y}`).sort(), [
        "tent@0,0",
        "tent@1,0",
        "tent@5,5",
      ]);
      assert.equal(seen.finished!.winner, seen.players.find((p) => p.name === "Dave")!.userId, "two tents beat one");

      // Each page checked the chain from history: a ✓ per transaction, and the server's verifier agrees.
      const history = (await http<History>(app, "GET", `/api/matches/${matchId}`)).body;
      const expected = await serverCheck(
        history.chain,
        history.players.map((p) => p.userId),
      );
      assert.equal(expected.ok, true);
      for (const page of [dave, erin, watcher]) {
        const s = match(
          await until(
            page,
            (s, n) => s.match!.chain?.source === "history" && s.match!.chain.txs.length === n && !s.match!.verifying,
            duel.rounds * 2,
            "the chain checked from history",
          ),
        );
        assert.deepEqual(s.chain!.result, expected);
        assert.deepEqual(
          s.chain!.txs.map((t) => t.mark),
          history.chain.map(() => "✓"),
        );
        assert.equal(await page.locator('#m-chain [data-mark="✓"]').count(), duel.rounds * 2);
        assert.deepEqual(
          s.txs.map((t) => t.hash),
          history.chain.map((t) => t.hash),
          "the live transactions are the history's",
        );
      }
      await shot(dave, "15-match-finished");
      await shot(watcher, "16-match-spectator");
    });

    it("a tampered chain shows ✗ at the altered transaction, with the server verifier's reason", async () => {
      assert.ok(matchId, "the duel above was played");
      const history = (await http<History>(app, "GET", `/api/matches/${matchId}`)).body;
      const players = history.players.map((p) => p.userId);
      // The history as a man in the middle would serve it: transaction 2 now builds a tower.
      const tampered: History = structuredClone(history);
      tampered.chain[1].actions = [{ type: "build", building: "tower", x: 3, y: 3 }];
      const expected = await serverCheck(tampered.chain, players);
      assert.deepEqual(expected, { ok: false, index: 2, reason: "hash does not match the transaction" });

      const pattern = `**/api/matches/${matchId}`;
      await watcher.route(pattern, (route) => route.fulfill({ json: tampered }));
      try {
        await watcher.click("#m-verify");
        const s = match(
          await until(
            watcher,
            (s) => s.match!.chain?.source === "history" && s.match!.chain.result.ok === false && !s.match!.verifying,
            null,
            "the tampered chain checked",
          ),
        );
        assert.deepEqual(s.chain!.result, expected);
        assert.deepEqual(
          s.chain!.txs.map((t) => t.mark),
          ["✓", "✗", "·", "·", "·", "·"],
        );
        assert.equal(s.chain!.txs[1].reason, expected.reason);
        await watcher
          .locator('#m-chain [data-mark="✗"]', { hasText: "hash does not match" })
          .waitFor({ timeout: 5000 });
        await watcher.locator("#m-chain-status", { hasText: "✗ at #2" }).waitFor({ timeout: 5000 });
        await shot(watcher, "17-match-tampered-chain");
      } finally {
        await watcher.unroute(pattern);
      }

      // A forged signature on an untouched body is caught by the Ed25519 check.
      const forged: History = structuredClone(history);
      const other = history.chain[0].sig;
      forged.chain[3].sig = other;
      const expectedSig = await serverCheck(forged.chain, players);
      assert.deepEqual(expectedSig, { ok: false, index: 4, reason: "bad signature" });
      await watcher.route(pattern, (route) => route.fulfill({ json: forged }));
      try {
        await watcher.click("#m-verify");
        const s = match(
          await until(
            watcher,
            (s) => s.match!.chain?.result.ok === false && (s.match!.chain.result as { index: number }).index === 4,
            null,
            "the forged signature caught",
          ),
        );
        assert.deepEqual(s.chain!.result, expectedSig);
      } finally {
        await watcher.unroute(pattern);
      }

      // Served as it is, the same page checks it whole again.
      await watcher.click("#m-verify");
      await until(
        watcher,
        (s) => s.match!.chain?.result.ok === true && s.match!.chain.txs.every((t) => t.mark === "✓"),
        null,
        "the real chain ✓ again",
      );
    });
  });
});
