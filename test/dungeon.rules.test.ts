import { policy } from "../src/content/policy.js";
import assert from "node:assert/strict";
import { loadContent } from "../src/content/index.js";
import { RejectCode } from "../src/protocol/codes.js";
import { checkAttack, resolveAttack, rollDamage, type Combatant } from "../src/rules/combat.js";
import {
  addHero,
  applyCommand,
  createDungeon,
  stepDungeon,
  type DungeonCommand,
  type DungeonSim,
} from "../src/rules/dungeon.js";
import { rollLoot } from "../src/rules/loot.js";
import { levelForXp } from "../src/rules/progression.js";
import { createRng } from "../src/domain/rng.js";

const content = loadContent();
const ability = (id: string) => content.abilities.get(id)!;
const fighter = (over: Partial<Combatant> = {}): Combatant => ({
  x: 0,
  y: 0,
  hp: 100,
  mana: 60,
  alive: true,
  stats: content.combatStats.get("hero")!,
  readyAt: {},
  damageBonus: 1,
  ...over,
});

describe("rules: combat", () => {
  it("rolls damage from stats within ±10 %, with crits, less defense, at least 1", () => {
    const rng = createRng(1);
    const target = fighter({ stats: content.combatStats.get("skeleton")! });
    const rolls = Array.from({ length: 500 }, () => rollDamage(fighter(), target, ability("strike"), rng));
    const plain = rolls.filter((r) => !r.crit).map((r) => r.damage);
    const crits = rolls.filter((r) => r.crit).map((r) => r.damage);
    assert.ok(Math.min(...plain) >= Math.round(14 * 0.9 - 1) && Math.max(...plain) <= Math.round(14 * 1.1 - 1));
    assert.ok(crits.length > 40 && crits.length < 110, `about 15 % crits, got ${crits.length}`);
    assert.ok(Math.min(...crits) > Math.max(...plain));
    const weak = fighter({ stats: { ...content.combatStats.get("dummy")!, attack: 1 } });
    assert.equal(rollDamage(weak, fighter(), ability("strike"), rng).damage, 1);
  });

  it("checks a dead attacker, a bad target, cooldown, mana and range, in that order", () => {
    const strike = ability("strike");
    const code = (v: { ok: boolean; code?: string }) => (v.ok ? "ok" : v.code);
    assert.equal(code(checkAttack(fighter({ alive: false }), fighter(), strike, 0)), RejectCode.ActorDead);
    assert.equal(code(checkAttack(fighter(), undefined, strike, 0)), RejectCode.AttackBadTarget);
    assert.equal(code(checkAttack(fighter(), fighter({ alive: false }), strike, 0)), RejectCode.AttackBadTarget);
    assert.equal(
      code(checkAttack(fighter({ readyAt: { strike: 100 } }), fighter(), strike, 99)),
      RejectCode.AttackCooldown,
    );
    assert.equal(code(checkAttack(fighter({ mana: 14 }), fighter(), ability("firebolt"), 0)), RejectCode.AttackNoMana);
    assert.equal(code(checkAttack(fighter(), fighter({ x: 49 }), strike, 0)), RejectCode.AttackOutOfRange);
    assert.equal(code(checkAttack(fighter(), fighter({ x: 48 }), strike, 0)), "ok");
  });

  it("resolves a hit: mana, cooldown, hp, death", () => {
    const attacker = fighter();
    const target = fighter({ hp: 5 });
    const hit = resolveAttack(attacker, target, ability("firebolt"), 1000, createRng(3));
    assert.equal(attacker.mana, 45);
    assert.equal(attacker.readyAt.firebolt, 2500);
    assert.equal(target.hp, 0);
    assert.deepEqual([hit.killed, target.alive], [true, false]);
  });
});

describe("rules: loot and progression", () => {
  it("drops by chance and weight, with quantities in range", () => {
    const table = content.lootTables.get("crypt-common")!;
    const rng = createRng(5);
    const drops = Array.from({ length: 1000 }, () => rollLoot(table, rng));
    const dropped = drops.filter((d) => d !== null);
    assert.ok(dropped.length > 540 && dropped.length < 660, `about 60 %, got ${dropped.length}`);
    for (const d of dropped) {
      const entry = table.entries.find((e) => e.item === d.item)!;
      assert.ok(d.qty >= entry.minQty && d.qty <= entry.maxQty);
    }
    const training = content.lootTables.get("training")!;
    assert.ok(
      Array.from({ length: 100 }, () => rollLoot(training, rng)).every((d) => d !== null),
      "training always drops",
    );
  });

  it("levels up with xp", () => {
    assert.deepEqual([0, 99, 100, 399, 400, 900].map(levelForXp), [1, 1, 2, 2, 3, 4]);
  });
});

/** Plays a scripted crypt run: two heroes walk in and fight whatever comes near. */
function scriptedRun(seed: number): DungeonSim {
  const rng = createRng(seed);
  const crypt = content.dungeons.get("crypt")!;
  const sim = createDungeon(crypt, content, "p");
  const ctx = (now: number) => ({ now, rng, content });
  addHero(sim, { sessionId: "a", userId: "u-a", name: "a" }, ctx(0));
  addHero(sim, { sessionId: "b", userId: "u-b", name: "b" }, ctx(0));
  for (let now = 100; now <= 60_000; now += 100) {
    for (const id of ["a", "b"]) {
      const hero = sim.heroes.get(id)!;
      if (!hero.alive) continue;
      const target = [...sim.enemies.values()]
        .filter((e) => e.alive)
        .sort((p, q) => Math.hypot(p.x - hero.x, p.y - hero.y) - Math.hypot(q.x - hero.x, q.y - hero.y))[0];
      if (!target) break;
      const d = Math.hypot(target.x - hero.x, target.y - hero.y);
      const command: DungeonCommand =
        d <= 45
          ? { type: "attack", target: target.id, ability: "strike" }
          : {
              type: "move",
              x: hero.x + ((target.x - hero.x) / d) * Math.min(14, d - 40),
              y: hero.y + ((target.y - hero.y) / d) * Math.min(14, d - 40),
            };
      applyCommand(sim, id, command, ctx(now));
    }
    stepDungeon(sim, { ...ctx(now), dtMs: 100 });
    if (sim.status === "cleared" || sim.status === "failed") break;
  }
  return sim;
}

const snapshot = (sim: DungeonSim) =>
  JSON.stringify({
    status: sim.status,
    bossPhase: sim.bossPhase,
    heroes: [...sim.heroes.values()].map(({ stats: _, ...h }) => h),
    enemies: [...sim.enemies.values()].map(({ stats: _, type, ...e }) => ({ ...e, type: type.id })),
    loot: [...sim.loot.values()],
  });

describe("rules: dungeon simulation", () => {
  it("replays a run exactly from its seed and commands", () => {
    const first = snapshot(scriptedRun(1234));
    assert.equal(snapshot(scriptedRun(1234)), first);
    assert.notEqual(snapshot(scriptedRun(4321)), first, "another seed, another run");
  });

  it("a scripted crypt run is won by two heroes: boss phases, doors, loot", () => {
    const sim = scriptedRun(1234);
    assert.equal(sim.status, "cleared");
    assert.equal(sim.bossPhase, 3);
    assert.equal(sim.doorsOpen, true);
    assert.equal(sim.map, sim.dungeon.openMap);
    assert.ok(
      [...sim.loot.values()].some((l) => l.item === "lich-crown" || l.item === "gold-coin"),
      "the boss always drops",
    );
    // Enemies that chased stand between whole units; their loot lies on whole units.
    assert.ok([...sim.enemies.values()].some((e) => !Number.isInteger(e.x) || !Number.isInteger(e.y)));
    for (const l of sim.loot.values())
      assert.ok(Number.isInteger(l.x) && Number.isInteger(l.y), `${l.id} at whole units`);
  });

  it("starts waiting and becomes active with the first move or attack", () => {
    const rng = createRng(9);
    const sim = createDungeon(content.dungeons.get("training")!, content, "p");
    const hero = addHero(sim, { sessionId: "a", userId: "u-a", name: "a" }, { now: 0, rng, content });
    assert.equal(sim.status, "waiting");
    assert.deepEqual(stepDungeon(sim, { now: 100, rng, content, dtMs: 100 }), []);
    applyCommand(sim, "a", { type: "move", x: hero.x + 5, y: hero.y }, { now: 500, rng, content });
    assert.equal(sim.status, "active");
  });

  it("gives loot to the first valid pickup only", () => {
    const rng = createRng(11);
    const sim = createDungeon(content.dungeons.get("training")!, content, "p");
    const ctx = { now: 0, rng, content };
    const a = addHero(sim, { sessionId: "a", userId: "u-a", name: "a" }, ctx);
    addHero(sim, { sessionId: "b", userId: "u-b", name: "b" }, ctx);
    sim.loot.set("loot-1", { id: "loot-1", item: "bone", qty: 2, x: a.x + 10, y: a.y });
    sim.heroes.get("b")!.x = a.x + 10 + policy.dungeon.pickupRange + 1;
    const far = applyCommand(sim, "b", { type: "pickup", loot: "loot-1" }, ctx);
    assert.equal(far.verdict.ok ? "ok" : far.verdict.code, RejectCode.LootOutOfRange);
    sim.heroes.get("b")!.x = a.x;
    const first = applyCommand(sim, "a", { type: "pickup", loot: "loot-1" }, ctx);
    const second = applyCommand(sim, "b", { type: "pickup", loot: "loot-1" }, ctx);
    assert.deepEqual(first.events, [{ type: "picked", hero: "a", loot: "loot-1", item: "bone", qty: 2 }]);
    assert.equal(second.verdict.ok ? "ok" : second.verdict.code, RejectCode.LootGone);
    assert.deepEqual(second.events, []);
  });

  it("revives a dead hero while another lives, and fails the run when all are dead", () => {
    const rng = createRng(13);
    const sim = createDungeon(content.dungeons.get("crypt")!, content, "p");
    const ctx = (now: number) => ({ now, rng, content, dtMs: 100 });
    const a = addHero(sim, { sessionId: "a", userId: "u-a", name: "a" }, ctx(0));
    const b = addHero(sim, { sessionId: "b", userId: "u-b", name: "b" }, ctx(0));
    sim.status = "active";
    Object.assign(a, { alive: false, hp: 0, diedAt: 0 });
    assert.deepEqual(stepDungeon(sim, ctx(7900)), []);
    assert.deepEqual(stepDungeon(sim, ctx(8000)), [{ type: "revived", hero: "a" }]);
    assert.deepEqual([a.alive, a.hp], [true, 50]);
    Object.assign(a, { alive: false, hp: 0, diedAt: 9000 });
    Object.assign(b, { alive: false, hp: 0, diedAt: 9000 });
    assert.deepEqual(stepDungeon(sim, ctx(9100)), [{ type: "failed" }]);
    assert.equal(sim.status, "failed");
  });

  it("training enemies never move or attack", () => {
    const rng = createRng(17);
    const sim = createDungeon(content.dungeons.get("training")!, content, "p");
    const hero = addHero(sim, { sessionId: "a", userId: "u-a", name: "a" }, { now: 0, rng, content });
    sim.status = "active";
    Object.assign(hero, { x: 250, y: 170 });
    const before = JSON.stringify([...sim.enemies.values()].map((e) => [e.x, e.y]));
    for (let now = 100; now < 5000; now += 100)
      assert.deepEqual(stepDungeon(sim, { now, rng, content, dtMs: 100 }), []);
    assert.equal(JSON.stringify([...sim.enemies.values()].map((e) => [e.x, e.y])), before);
    assert.equal(hero.hp, 100);
  });
});
