/**
 * The dungeon as a pure simulation: plain data in, plain data and events out. Time and
 * randomness are passed in (`ctx.now`, `ctx.rng`), so one run can be replayed exactly from its
 * seed and its commands. The room only translates messages into commands, events into
 * broadcasts, and the simulation into synchronized state.
 */
import type { Ability, EnemyType } from "../content/combat.js";
import type { Content, Dungeon } from "../content/index.js";
import { policy } from "../content/policy.js";
import { RejectCode } from "../protocol/codes.js";
import { checkAttack, freshCombatant, resolveAttack, type Combatant } from "./combat.js";
import { distance, within, type Point } from "../domain/geometry.js";
import { rollLoot } from "./loot.js";
import { checkMove } from "./movement.js";
import { refuse, type Verdict } from "../domain/result.js";
import type { Rng } from "../domain/rng.js";
import { segmentBlocked, spawnPoint, type TileMap } from "../domain/tilemap.js";

export type DungeonStatus = "waiting" | "active" | "cleared" | "failed";

export interface HeroSim extends Combatant {
  /** The hero's session id. */
  id: string;
  userId: string;
  name: string;
  moveBudget: number;
  lastMoveAt: number;
  diedAt: number | null;
}

export interface EnemySim extends Combatant {
  id: string;
  type: EnemyType;
  /** Whether it has noticed a hero; an engaged enemy chases a little farther. */
  engaged: boolean;
}

export interface LootSim extends Point {
  id: string;
  item: string;
  qty: number;
}

export interface DungeonSim {
  dungeon: Dungeon;
  /** Heroes of one party share an instance. */
  party: string;
  /** Walls and closed doors; walls only once cleared. */
  map: TileMap;
  status: DungeonStatus;
  /** When the run became `active` (epoch ms); null while waiting. */
  activeAt: number | null;
  bossPhase: number;
  doorsOpen: boolean;
  heroes: Map<string, HeroSim>;
  enemies: Map<string, EnemySim>;
  loot: Map<string, LootSim>;
  nextLootId: number;
}

export type DungeonEvent =
  | { type: "combat"; source: string; target: string; ability: string; damage: number; crit: boolean; killed: boolean }
  | { type: "phase"; bossPhase: number }
  /** `heroes`: every hero of the party at the clear; `ms`: the run's time from `active` to `cleared`. */
  | { type: "cleared"; xp: number; heroes: string[]; ms: number }
  | { type: "failed" }
  | { type: "dropped"; loot: string; item: string; qty: number; x: number; y: number; enemy: string }
  | { type: "picked"; hero: string; loot: string; item: string; qty: number }
  | { type: "died"; hero: string }
  | { type: "revived"; hero: string };

export type DungeonCommand =
  | { type: "move"; x: number; y: number }
  | { type: "attack"; target: string; ability: string }
  | { type: "pickup"; loot: string };

export interface DungeonCtx {
  now: number;
  rng: Rng;
  content: Pick<Content, "abilities" | "combatStats" | "lootTables">;
}

const { pickupRange, reviveFraction, leash } = policy.dungeon;

export function createDungeon(
  dungeon: Dungeon,
  content: Pick<Content, "enemyTypes" | "combatStats">,
  party: string,
): DungeonSim {
  const enemies = new Map<string, EnemySim>();
  for (const e of dungeon.template.enemies) {
    const type = content.enemyTypes.get(e.type)!;
    const stats = content.combatStats.get(type.stats)!;
    enemies.set(e.id, { ...freshCombatant(stats, e), id: e.id, type, engaged: false });
  }
  const hasBoss = [...enemies.values()].some((e) => e.type.phases?.length);
  return {
    dungeon,
    party,
    map: dungeon.map,
    status: "waiting",
    activeAt: null,
    bossPhase: hasBoss ? 1 : 0,
    doorsOpen: false,
    heroes: new Map(),
    enemies,
    loot: new Map(),
    nextLootId: 1,
  };
}

export function addHero(
  sim: DungeonSim,
  actor: { sessionId: string; userId: string; name: string },
  ctx: Pick<DungeonCtx, "now" | "rng" | "content">,
): HeroSim {
  const id = actor.sessionId;
  const stats = ctx.content.combatStats.get("hero")!;
  const at = spawnPoint(sim.map, sim.dungeon.template.spawn, ctx.rng);
  const hero: HeroSim = {
    ...freshCombatant(stats, at),
    id,
    userId: actor.userId,
    name: actor.name,
    moveBudget: 0,
    lastMoveAt: ctx.now,
    diedAt: null,
  };
  sim.heroes.set(id, hero);
  return hero;
}

export function removeHero(sim: DungeonSim, id: string): DungeonEvent[] {
  sim.heroes.delete(id);
  return checkFailed(sim);
}

/** Applies one hero's command. A refusal changes nothing. */
export function applyCommand(
  sim: DungeonSim,
  heroId: string,
  command: DungeonCommand,
  ctx: DungeonCtx,
): { verdict: Verdict; events: DungeonEvent[] } {
  const hero = sim.heroes.get(heroId);
  if (!hero) return { verdict: refuse(RejectCode.ActorDead, "you have no body here"), events: [] };
  const result = (() => {
    switch (command.type) {
      case "move":
        return move(sim, hero, command, ctx);
      case "attack":
        return attack(sim, hero, command, ctx);
      case "pickup":
        return pickup(sim, hero, command);
    }
  })();
  if (result.verdict.ok && sim.status === "waiting" && command.type !== "pickup") {
    sim.status = "active";
    sim.activeAt = ctx.now;
  }
  return result;
}

function move(sim: DungeonSim, hero: HeroSim, { x, y }: { x: number; y: number }, ctx: DungeonCtx) {
  if (!hero.alive) return { verdict: refuse(RejectCode.ActorDead, "you are dead"), events: [] };
  const verdict = checkMove(
    hero,
    { x, y },
    { now: ctx.now, map: sim.map, policy: { speed: sim.dungeon.template.speed, ...policy.move } },
  );
  if (verdict.ok)
    Object.assign(hero, { x: verdict.x, y: verdict.y, moveBudget: verdict.moveBudget, lastMoveAt: verdict.lastMoveAt });
  return { verdict, events: [] };
}

function attack(
  sim: DungeonSim,
  hero: HeroSim,
  { target, ability: abilityId }: { target: string; ability: string },
  ctx: DungeonCtx,
) {
  const ability = ctx.content.abilities.get(abilityId);
  if (!ability?.heroes)
    return { verdict: refuse(RejectCode.InputInvalid, `no hero ability "${abilityId}"`), events: [] };
  const enemy = sim.enemies.get(target);
  const verdict = checkAttack(hero, enemy, ability, ctx.now);
  if (!verdict.ok) return { verdict, events: [] };
  return { verdict, events: hit(sim, hero, enemy!, ability, ctx) };
}

function pickup(sim: DungeonSim, hero: HeroSim, { loot: lootId }: { loot: string }) {
  if (!hero.alive) return { verdict: refuse(RejectCode.ActorDead, "you are dead"), events: [] };
  const loot = sim.loot.get(lootId);
  if (!loot) return { verdict: refuse(RejectCode.LootGone, "someone took it already, or it never was"), events: [] };
  if (!within(hero, loot, pickupRange))
    return { verdict: refuse(RejectCode.LootOutOfRange, `the loot is more than ${pickupRange} away`), events: [] };
  // Removing it here, in the same synchronous step as the check, is what makes the first valid pickup win.
  sim.loot.delete(lootId);
  return {
    verdict: { ok: true } as const,
    events: [{ type: "picked", hero: hero.id, loot: lootId, item: loot.item, qty: loot.qty } as DungeonEvent],
  };
}

/** One hit by a hero on an enemy, and all that follows from it: phases, loot, the clear. */
function hit(sim: DungeonSim, hero: HeroSim, enemy: EnemySim, ability: Ability, ctx: DungeonCtx): DungeonEvent[] {
  const result = resolveAttack(hero, enemy, ability, ctx.now, ctx.rng);
  enemy.engaged = true;
  const events: DungeonEvent[] = [
    { type: "combat", source: hero.id, target: enemy.id, ability: ability.id, ...result },
  ];
  const phases = enemy.type.phases;
  if (phases?.length) {
    const phase = 1 + phases.filter((threshold) => enemy.hp / enemy.stats.maxHp < threshold).length;
    if (phase > sim.bossPhase && enemy.alive) {
      sim.bossPhase = phase;
      enemy.damageBonus = 1 + (enemy.type.phaseDamageBonus ?? 0) * (phase - 1);
      events.push({ type: "phase", bossPhase: phase });
    }
  }
  if (result.killed) {
    const drop = rollLoot(ctx.content.lootTables.get(enemy.type.lootTable)!, ctx.rng);
    if (drop) {
      const id = `loot-${sim.nextLootId++}`;
      // Loot lies on whole units, like every position a client sends (an enemy may stand between them).
      const at = { x: Math.round(enemy.x), y: Math.round(enemy.y) };
      sim.loot.set(id, { id, ...at, ...drop });
      events.push({ type: "dropped", loot: id, ...drop, ...at, enemy: enemy.id });
    }
    if ([...sim.enemies.values()].every((e) => !e.alive)) {
      sim.status = "cleared";
      sim.doorsOpen = true;
      sim.map = sim.dungeon.openMap;
      const xp = sim.dungeon.template.clearXp + [...sim.enemies.values()].reduce((sum, e) => sum + e.type.xp, 0);
      const heroes = [...sim.heroes.keys()];
      events.push({ type: "cleared", xp, heroes, ms: ctx.now - (sim.activeAt ?? ctx.now) });
    }
  }
  return events;
}

function checkFailed(sim: DungeonSim): DungeonEvent[] {
  if (sim.status !== "active" || sim.heroes.size === 0) return [];
  if ([...sim.heroes.values()].some((h) => h.alive)) return [];
  sim.status = "failed";
  return [{ type: "failed" }];
}

/** Advances the dungeon by `dtMs`: mana, revivals, and (in a dungeon whose enemies fight) the AI. */
export function stepDungeon(sim: DungeonSim, ctx: DungeonCtx & { dtMs: number }): DungeonEvent[] {
  if (sim.status !== "active") return [];
  const events: DungeonEvent[] = [];
  const dt = ctx.dtMs / 1000;
  const anyAlive = [...sim.heroes.values()].some((h) => h.alive);
  for (const hero of sim.heroes.values()) {
    if (hero.alive) {
      hero.mana = Math.min(hero.stats.maxMana, hero.mana + hero.stats.manaRegenPerSec * dt);
    } else if (anyAlive && hero.diedAt !== null && ctx.now - hero.diedAt >= sim.dungeon.template.reviveMs) {
      Object.assign(hero, spawnPoint(sim.map, sim.dungeon.template.spawn, ctx.rng), {
        alive: true,
        hp: Math.round(hero.stats.maxHp * reviveFraction),
        mana: Math.round(hero.stats.maxMana * reviveFraction),
        diedAt: null,
        moveBudget: 0,
        lastMoveAt: ctx.now,
      });
      events.push({ type: "revived", hero: hero.id });
    }
  }
  if (sim.dungeon.template.enemiesAttack) {
    for (const enemy of sim.enemies.values()) if (enemy.alive) events.push(...enemyStep(sim, enemy, ctx, dt));
  }
  events.push(...checkFailed(sim));
  return events;
}

/** One enemy's turn: pick the nearest living hero in reach, close in, hit when in range. */
function enemyStep(sim: DungeonSim, enemy: EnemySim, ctx: DungeonCtx, dt: number): DungeonEvent[] {
  const reach = enemy.type.aggroRadius * (enemy.engaged ? leash : 1);
  let target: HeroSim | undefined;
  let best = Infinity;
  for (const hero of sim.heroes.values()) {
    const d = distance(enemy, hero);
    if (hero.alive && d <= reach && d < best) [target, best] = [hero, d];
  }
  enemy.engaged = target !== undefined;
  if (!target || !enemy.type.ability) return [];
  const ability = ctx.content.abilities.get(enemy.type.ability)!;
  if (best > ability.range) {
    chase(sim.map, enemy, target, Math.min(enemy.type.speed * dt, best - ability.range * 0.8));
    return [];
  }
  if (checkAttack(enemy, target, ability, ctx.now).ok) {
    const result = resolveAttack(enemy, target, ability, ctx.now, ctx.rng);
    if (result.killed) target.diedAt = ctx.now;
    const events: DungeonEvent[] = [
      { type: "combat", source: enemy.id, target: target.id, ability: ability.id, ...result },
    ];
    if (result.killed) events.push({ type: "died", hero: target.id });
    return events;
  }
  return [];
}

/** Moves `enemy` up to `step` toward `target`, sliding along a wall when the straight way is blocked. */
function chase(map: TileMap, enemy: EnemySim, target: Point, step: number): void {
  if (step <= 0) return;
  const d = distance(enemy, target);
  const dx = ((target.x - enemy.x) / d) * step;
  const dy = ((target.y - enemy.y) / d) * step;
  for (const [mx, my] of [
    [dx, dy],
    [Math.sign(dx) * step, 0],
    [0, Math.sign(dy) * step],
  ]) {
    const next = { x: enemy.x + mx, y: enemy.y + my };
    if ((mx !== 0 || my !== 0) && !segmentBlocked(map, enemy, next)) {
      enemy.x = next.x;
      enemy.y = next.y;
      return;
    }
  }
}
