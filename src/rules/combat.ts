import type { Ability, CombatStats } from "../content/combat.js";
import { RejectCode } from "../protocol/codes.js";
import { within, type Point } from "../domain/geometry.js";
import { refuse, type Verdict } from "../domain/result.js";
import type { Rng } from "../domain/rng.js";

/** Anything that fights: a hero or an enemy. */
export interface Combatant extends Point {
  hp: number;
  mana: number;
  alive: boolean;
  stats: CombatStats;
  /** Room time (ms) each ability is ready again. */
  readyAt: Record<string, number>;
  /** Damage multiplier on top of stats (boss phases). */
  damageBonus: number;
}

/** A fresh combatant at `at`: full hp and mana, every ability ready. */
export const freshCombatant = (stats: CombatStats, at: Point): Combatant => ({
  x: at.x,
  y: at.y,
  hp: stats.maxHp,
  mana: stats.maxMana,
  alive: true,
  stats,
  readyAt: {},
  damageBonus: 1,
});

export interface Hit {
  damage: number;
  crit: boolean;
  killed: boolean;
}

/**
 * Damage of one hit: attack × power × a ±10 % roll, × the crit multiplier on a crit, less the
 * target's defense; at least 1.
 */
export function rollDamage(
  attacker: Combatant,
  target: Combatant,
  ability: Ability,
  rng: Rng,
): { damage: number; crit: boolean } {
  const spread = 0.9 + rng.next() * 0.2;
  const crit = rng.next() < attacker.stats.critChance;
  const raw =
    attacker.stats.attack * ability.power * attacker.damageBonus * spread * (crit ? attacker.stats.critMultiplier : 1);
  return { damage: Math.max(1, Math.round(raw - target.stats.defense)), crit };
}

/** The checks of an attack, in the order a player would want to hear about them. */
export function checkAttack(
  attacker: Combatant,
  target: Combatant | undefined,
  ability: Ability,
  now: number,
): Verdict {
  if (!attacker.alive) return refuse(RejectCode.ActorDead, "you are dead");
  if (!target || !target.alive)
    return refuse(RejectCode.AttackBadTarget, "the target does not exist or is already dead");
  const readyAt = attacker.readyAt[ability.id] ?? 0;
  if (now < readyAt)
    return refuse(RejectCode.AttackCooldown, `${ability.id} is ready in ${Math.ceil(readyAt - now)} ms`);
  if (attacker.mana < ability.manaCost)
    return refuse(RejectCode.AttackNoMana, `${ability.id} needs ${ability.manaCost} mana`);
  if (!within(attacker, target, ability.range))
    return refuse(RejectCode.AttackOutOfRange, `the target is more than ${ability.range} away`);
  return { ok: true };
}

/** Applies a checked attack: spends mana, starts the cooldown, rolls and deals the damage. */
export function resolveAttack(attacker: Combatant, target: Combatant, ability: Ability, now: number, rng: Rng): Hit {
  attacker.mana -= ability.manaCost;
  attacker.readyAt[ability.id] = now + ability.cooldownMs;
  const { damage, crit } = rollDamage(attacker, target, ability, rng);
  target.hp = Math.max(0, target.hp - damage);
  const killed = target.hp === 0;
  if (killed) target.alive = false;
  return { damage, crit, killed };
}
