/**
 * The client kit (`client/`): its hand-written types against the server's schema, message tables
 * and welcome; its helpers over real SDK clients against a real server; and the README's quick
 * start, which is `examples/quickstart.ts` verbatim, run as a user would run it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import type { Metadata } from "@colyseus/schema";
import type { Point } from "../client/path.js";
import {
  fetchMap,
  findPath,
  joinDungeon,
  joinWorld,
  RefusedError,
  TileGrid,
  travel,
  Walker,
  type ClientMessages,
  type DungeonState as KitDungeonState,
  type DungeonWelcome,
  type MapInfo,
  type Door as KitDoor,
  type Enemy as KitEnemy,
  type Hero as KitHero,
  type Loot as KitLoot,
  type Player as KitPlayer,
  type Portal as KitPortal,
  type Resource as KitResource,
  type WorldState as KitWorldState,
  type WorldWelcome,
} from "../client/index.js";
import { worlds } from "../src/content/worlds.js";
import { dungeonKind } from "../src/kinds/dungeon.js";
import { worldKind } from "../src/kinds/world.js";
import { Door, DungeonState, Enemy, Hero, Loot } from "../src/schema/DungeonState.js";
import { Player, Portal, Resource, WorldState } from "../src/schema/WorldState.js";
import type { Attack, Chat, Gather, Move, Pickup, Ping, Travel } from "../src/validators/messages.js";
import { guest, sdk, startApp, type TestApp } from "./helpers.js";

const root = join(import.meta.dirname, "..");

// ---- types: fails to compile when a payload type drifts from the server's zod shape ----
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const payloadTypes: Array<true> = [
  true satisfies Same<ClientMessages["world"]["move"], z.input<typeof Move>>,
  true satisfies Same<ClientMessages["world"]["chat"], z.input<typeof Chat>>,
  true satisfies Same<ClientMessages["world"]["gather"], z.input<typeof Gather>>,
  true satisfies Same<ClientMessages["world"]["travel"], z.input<typeof Travel>>,
  true satisfies Same<ClientMessages["world"]["ping"], z.input<typeof Ping>>,
  true satisfies Same<ClientMessages["dungeon"]["move"], z.input<typeof Move>>,
  true satisfies Same<ClientMessages["dungeon"]["attack"], z.input<typeof Attack>>,
  true satisfies Same<ClientMessages["dungeon"]["pickup"], z.input<typeof Pickup>>,
  true satisfies Same<ClientMessages["dungeon"]["ping"], z.input<typeof Ping>>,
];

// ...and when a state field's type drifts from the schema's (names are checked below, at run time).
const leafTypes: Array<true> = [
  true satisfies Same<Pick<Player, keyof KitPlayer>, KitPlayer>,
  true satisfies Same<Pick<Portal, keyof KitPortal>, KitPortal>,
  true satisfies Same<Pick<Resource, keyof KitResource>, KitResource>,
  true satisfies Same<Pick<Hero, keyof KitHero>, KitHero>,
  true satisfies Same<Pick<Enemy, keyof KitEnemy>, KitEnemy>,
  true satisfies Same<Pick<Loot, keyof KitLoot>, KitLoot>,
  true satisfies Same<Pick<Door, keyof KitDoor>, KitDoor>,
  true satisfies Same<Pick<WorldState, "world" | "tick">, Pick<KitWorldState, "world" | "tick">>,
  true satisfies Same<
    Pick<DungeonState, "dungeon" | "status" | "tick" | "bossPhase">,
    Pick<KitDungeonState, "dungeon" | "status" | "tick" | "bossPhase">
  >,
];

/** The kit's field names, checked complete and exact by the compiler (`satisfies` an exact record). */
const fields = <T>(names: Record<keyof T, true>) => Object.keys(names).sort();
const stateTypes: Array<[string, object, string[]]> = [
  [
    "WorldState",
    WorldState,
    fields<KitWorldState>({ world: true, tick: true, players: true, portals: true, resources: true }),
  ],
  [
    "Player",
    Player,
    fields<KitPlayer>({
      sessionId: true,
      userId: true,
      name: true,
      x: true,
      y: true,
      hp: true,
      maxHp: true,
      level: true,
    }),
  ],
  ["Portal", Portal, fields<KitPortal>({ id: true, x: true, y: true, to: true })],
  ["Resource", Resource, fields<KitResource>({ id: true, kind: true, x: true, y: true, amount: true })],
  [
    "DungeonState",
    DungeonState,
    fields<KitDungeonState>({
      dungeon: true,
      status: true,
      tick: true,
      bossPhase: true,
      heroes: true,
      enemies: true,
      loot: true,
      doors: true,
    }),
  ],
  [
    "Hero",
    Hero,
    fields<KitHero>({
      sessionId: true,
      userId: true,
      name: true,
      x: true,
      y: true,
      hp: true,
      maxHp: true,
      mana: true,
      maxMana: true,
      alive: true,
    }),
  ],
  ["Enemy", Enemy, fields<KitEnemy>({ id: true, kind: true, x: true, y: true, hp: true, maxHp: true, alive: true })],
  ["Loot", Loot, fields<KitLoot>({ id: true, item: true, qty: true, x: true, y: true })],
  ["Door", Door, fields<KitDoor>({ id: true, open: true })],
];

/** A schema class's fields as its metadata declares them (what the server encodes). */
const schemaFields = (cls: object) =>
  Object.values((cls as { [Symbol.metadata]: Metadata })[Symbol.metadata])
    .map((f) => (f as { name: string }).name)
    .sort();

describe("client kit: types", () => {
  it("state types have exactly the fields of the server's schema, for every room kind", () => {
    for (const [name, cls, kit] of stateTypes) assert.deepEqual(kit, schemaFields(cls), name);
  });

  it("client messages are exactly the message tables (plus ping), with the tables' fields", () => {
    type W = ClientMessages["world"];
    type D = ClientMessages["dungeon"];
    const kit: Record<string, Record<string, string[]>> = {
      world: {
        move: fields<W["move"]>({ seq: true, x: true, y: true }),
        chat: fields<W["chat"]>({ seq: true, text: true }),
        gather: fields<W["gather"]>({ seq: true, resource: true }),
        travel: fields<W["travel"]>({ seq: true, portal: true }),
        trade: fields<W["trade"]>({ seq: true, to: true, give: true, gold: true, want: true, wantGold: true }),
        trade_accept: fields<W["trade_accept"]>({ seq: true, tradeId: true }),
        trade_decline: fields<W["trade_decline"]>({ seq: true, tradeId: true }),
        trade_cancel: fields<W["trade_cancel"]>({ seq: true, tradeId: true }),
      },
      dungeon: {
        move: fields<D["move"]>({ seq: true, x: true, y: true }),
        attack: fields<D["attack"]>({ seq: true, target: true, ability: true }),
        pickup: fields<D["pickup"]>({ seq: true, loot: true }),
      },
    };
    const kitTypes = {
      world: fields<W>({
        move: true,
        chat: true,
        gather: true,
        travel: true,
        trade: true,
        trade_accept: true,
        trade_decline: true,
        trade_cancel: true,
        ping: true,
        whisper: true,
      }),
      dungeon: fields<D>({ move: true, attack: true, pickup: true, ping: true, whisper: true }),
    };
    for (const kind of [worldKind, dungeonKind]) {
      const table: Record<string, { schema: z.ZodType }> = kind.messages;
      // `ping` and `whisper` are common to every kind, taken by the room rather than the table.
      assert.deepEqual(kitTypes[kind.name as "world" | "dungeon"], [...Object.keys(table), "ping", "whisper"].sort());
      for (const [type, spec] of Object.entries(table))
        assert.deepEqual(Object.keys((spec.schema as z.ZodObject).shape).sort(), kit[kind.name][type], type);
    }
    assert.equal(payloadTypes.length + leafTypes.length, 18);
  });
});

describe("client kit: paths", () => {
  const room: MapInfo = {
    id: "room",
    width: 200,
    height: 100,
    tileSize: 20,
    speed: 100,
    spawn: { x: 30, y: 50, radius: 0 },
    blocked: [{ x: 5, y: 0, w: 1, h: 4 }], // a wall at x 100-120 with a gap at the bottom row
    doors: [{ id: "gate", x: 5, y: 4, w: 1, h: 1 }], // ...that a door closes
  };
  /** Every tile a route's straight legs touch, sampled finely. */
  const touched = (grid: TileGrid, from: Point, route: Point[]) =>
    [from, ...route].slice(0, -1).flatMap((a, i) => {
      const b = route[i];
      return Array.from({ length: 201 }, (_, k) =>
        grid.tileOf({ x: a.x + ((b.x - a.x) * k) / 200, y: a.y + ((b.y - a.y) * k) / 200 }),
      );
    });

  it("goes through the gap in a wall, never over a blocked tile", () => {
    const grid = new TileGrid(room, { doorsOpen: true });
    const from = { x: 30, y: 30 };
    const route = findPath(grid, from, { x: 170, y: 30 })!;
    assert.deepEqual(route.at(-1), { x: 170, y: 30 });
    assert.ok(
      route.some((p) => p.y >= 80),
      "down through the gap",
    );
    for (const [tx, ty] of touched(grid, from, route)) assert.ok(!grid.blocked(tx, ty), `tile ${tx},${ty}`);
  });

  it("finds no way while the door is closed", () => {
    assert.equal(findPath(new TileGrid(room), { x: 30, y: 30 }, { x: 170, y: 30 }), null);
  });
});

describe("client kit: against a live server", function () {
  this.timeout(60_000);
  let app: TestApp;
  // The meadow's spawn moved beside its east gate, so that travel needs no long walk.
  const gate = worlds.find((w) => w.id === "meadow")!.portals[0];
  before(async () => {
    app = await startApp(
      {},
      worlds.map((w) => (w.id === "meadow" ? { ...w, spawn: { x: gate.x - 20, y: gate.y, radius: 5 } } : w)),
    );
  });
  after(() => app.stop());

  const client = async () => sdk(app, (await guest(app)).token);

  it("joinWorld resolves with the welcome (every documented field) and the own body in the state", async () => {
    const world = await joinWorld(await client(), { world: "dunes" });
    try {
      const expected = fields<WorldWelcome>({
        sessionId: true,
        serverTime: true,
        tickRate: true,
        speed: true,
        bounds: true,
        moveBankMs: true,
        moveTolerance: true,
        world: true,
        aoiRadius: true,
        gatherRange: true,
        gatherCooldownMs: true,
        travelRange: true,
        travelCooldownMs: true,
      });
      assert.deepEqual(Object.keys(world.welcome).sort(), expected);
      assert.equal(world.welcome.world, "dunes");
      assert.ok(world.room.state.players.get(world.room.sessionId), "own body present");
    } finally {
      await world.room.leave();
    }
  });

  it("joinDungeon's welcome has every documented field", async () => {
    const dungeon = await joinDungeon(await client(), { dungeon: "training" });
    try {
      const expected = fields<DungeonWelcome>({
        sessionId: true,
        serverTime: true,
        tickRate: true,
        speed: true,
        bounds: true,
        moveBankMs: true,
        moveTolerance: true,
        dungeon: true,
        party: true,
        pickupRange: true,
      });
      assert.deepEqual(Object.keys(dungeon.welcome).sort(), expected);
      assert.equal(dungeon.room.state.bossPhase, 0, "no boss in training");
      assert.ok(dungeon.room.state.heroes.get(dungeon.room.sessionId)?.alive);
    } finally {
      await dungeon.room.leave();
    }
  });

  it("the walker goes around a wall, step by step, without a refusal", async () => {
    const map = await fetchMap(app.url, "world", "dunes");
    const grid = new TileGrid(map);
    const world = await joinWorld(await client(), { world: "dunes" });
    const refusals: string[] = [];
    world.on("reject", (r) => refusals.push(r.code));
    try {
      const walker = new Walker(world, map);
      // A target whose straight line from here crosses blocked tiles, so the route must bend.
      const target = pickBlockedLine(grid, walker.position);
      const route = findPath(grid, walker.position, target)!;
      assert.ok(route.length > 1, "the route turns");
      await walker.walkTo(target.x, target.y);
      const me = world.room.state.players.get(world.room.sessionId)!;
      assert.deepEqual([me.x, me.y], [target.x, target.y]);
      assert.deepEqual(walker.position, target);
      assert.deepEqual(refusals, []);
    } finally {
      await world.room.leave();
    }
  });

  it("a refused step rejects with its code and snaps the prediction back to the server's position", async () => {
    const world = await joinWorld(await client(), { world: "dunes" });
    try {
      const walker = new Walker(world); // no map: it walks straight, off the edge
      const start = { ...walker.position };
      await assert.rejects(walker.walkTo(walker.position.x, -40), (err: RefusedError) => {
        assert.equal(err.code, "move/out_of_bounds");
        return true;
      });
      const me = world.room.state.players.get(world.room.sessionId)!;
      assert.deepEqual(walker.position, { x: me.x, y: me.y });
      assert.ok(me.y < start.y, "the steps before the edge were applied");
    } finally {
      await world.room.leave();
    }
  });

  it("travel hands the player to the other world, with its welcome", async () => {
    const c = await client();
    const meadow = await joinWorld(c, { world: "meadow" });
    const dunes = await travel(c, meadow, gate.id);
    try {
      assert.equal(dunes.welcome.world, "dunes");
      assert.equal(dunes.room.state.world, "dunes");
      assert.ok(dunes.room.state.players.get(dunes.room.sessionId));
      // Straight back is refused by the arrival cooldown, and the player stays.
      const back = worlds.find((w) => w.id === "dunes")!.portals[0].id;
      await assert.rejects(travel(c, dunes, back), (err: RefusedError) => err.code.startsWith("travel/"));
      assert.ok(dunes.room.connection.isOpen);
    } finally {
      await dunes.room.leave();
    }
  });
});

describe("README quick start", function () {
  this.timeout(60_000);

  it("prints examples/quickstart.ts verbatim", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const file = readFileSync(join(root, "examples/quickstart.ts"), "utf8");
    assert.ok(readme.includes("```ts\n" + file + "```\n"), "README.md shows examples/quickstart.ts as it is");
  });

  it("runs against a live server: joins, walks, arrives, with no refusal", async () => {
    const app = await startApp();
    try {
      const child = spawn(process.execPath, ["--import", "tsx", join(root, "examples/quickstart.ts")], {
        env: { PATH: process.env.PATH, REALMGATE_URL: app.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      assert.equal(err, "", "nothing on stderr (no refusal, no error)");
      assert.equal(code, 0);
      assert.match(out, /^speed 200 aoi 300\narrived at \d+ \d+\n$/);
    } finally {
      await app.stop();
    }
  });
});

/** A reachable open point whose straight line from `from` crosses a blocked tile. */
function pickBlockedLine(grid: TileGrid, from: { x: number; y: number }): { x: number; y: number } {
  const s = grid.tileSize;
  for (let r = 4; r < 40; r++)
    for (let a = 0; a < 16; a++) {
      const x = Math.round(from.x + Math.cos((a * Math.PI) / 8) * r * s);
      const y = Math.round(from.y + Math.sin((a * Math.PI) / 8) * r * s);
      const [tx, ty] = grid.tileOf({ x, y });
      if (grid.blocked(tx, ty)) continue;
      const crosses = Array.from({ length: 100 }, (_, i) => i / 100).some((t) => {
        const [cx, cy] = grid.tileOf({ x: from.x + (x - from.x) * t, y: from.y + (y - from.y) * t });
        return grid.blocked(cx, cy);
      });
      if (crosses && findPath(grid, from, { x, y })) return { x, y };
    }
  throw new Error("no blocked line near the spawn");
}
