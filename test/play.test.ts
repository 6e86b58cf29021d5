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
import type { Snapshot } from "../web/snapshot.js";
import { startApp, type TestApp } from "./helpers.js";

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
  realmgate: { state(): Snapshot; actions: Record<string, (...args: unknown[]) => unknown> };
}

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
});
