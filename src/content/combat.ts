/**
 * Combat content: stats, abilities, enemy types, loot tables. Served read-only over HTTP
 * (/api/combat-stats, /api/abilities, /api/enemy-types, /api/loot-tables) and checked for
 * dangling references by content/index.ts.
 */

export interface CombatStats {
  id: string;
  maxHp: number;
  maxMana: number;
  manaRegenPerSec: number;
  /** Base damage of an ability with power 1. */
  attack: number;
  /** Subtracted from every hit taken. */
  defense: number;
  /** Chance in [0, 1] that a hit is critical. */
  critChance: number;
  critMultiplier: number;
}

export interface Ability {
  id: string;
  name: string;
  /** Most distance between attacker and target. */
  range: number;
  cooldownMs: number;
  manaCost: number;
  /** Multiplier of the attacker's `attack`. */
  power: number;
  /** Whether heroes may use it (enemies use the others). */
  heroes: boolean;
}

export interface EnemyType {
  id: string;
  name: string;
  stats: string;
  /** Ability the enemy attacks with; null for one that never attacks. */
  ability: string | null;
  /** Units per second; 0 stands still. */
  speed: number;
  /** Distance at which it notices a hero and gives chase. */
  aggroRadius: number;
  /** Xp shared by the heroes when the dungeon is cleared. */
  xp: number;
  lootTable: string;
  /** Boss phases: hp fractions at which the next phase starts, highest first. */
  phases?: number[];
  /** Damage multiplier gained with each boss phase. */
  phaseDamageBonus?: number;
}

export interface LootTable {
  id: string;
  /** Chance in [0, 1] that a kill drops anything. */
  dropChance: number;
  entries: Array<{ item: string; minQty: number; maxQty: number; weight: number }>;
}

export const combatStats: CombatStats[] = [
  {
    id: "hero",
    maxHp: 100,
    maxMana: 60,
    manaRegenPerSec: 4,
    attack: 14,
    defense: 3,
    critChance: 0.15,
    critMultiplier: 1.75,
  },
  { id: "dummy", maxHp: 30, maxMana: 0, manaRegenPerSec: 0, attack: 0, defense: 0, critChance: 0, critMultiplier: 1 },
  {
    id: "skeleton",
    maxHp: 45,
    maxMana: 0,
    manaRegenPerSec: 0,
    attack: 6,
    defense: 1,
    critChance: 0.05,
    critMultiplier: 1.5,
  },
  {
    id: "lich",
    maxHp: 260,
    maxMana: 0,
    manaRegenPerSec: 0,
    attack: 10,
    defense: 3,
    critChance: 0.1,
    critMultiplier: 1.5,
  },
];

export const abilities: Ability[] = [
  { id: "strike", name: "Strike", range: 48, cooldownMs: 600, manaCost: 0, power: 1, heroes: true },
  { id: "firebolt", name: "Firebolt", range: 260, cooldownMs: 1500, manaCost: 15, power: 1.6, heroes: true },
  { id: "claw", name: "Claw", range: 40, cooldownMs: 1200, manaCost: 0, power: 1, heroes: false },
  { id: "bone-nova", name: "Bone Nova", range: 70, cooldownMs: 1400, manaCost: 0, power: 1, heroes: false },
];

export const enemyTypes: EnemyType[] = [
  {
    id: "training-dummy",
    name: "Training Dummy",
    stats: "dummy",
    ability: null,
    speed: 0,
    aggroRadius: 0,
    xp: 5,
    lootTable: "training",
  },
  {
    id: "skeleton",
    name: "Skeleton",
    stats: "skeleton",
    ability: "claw",
    speed: 90,
    aggroRadius: 220,
    xp: 20,
    lootTable: "crypt-common",
  },
  {
    id: "lich",
    name: "The Lich",
    stats: "lich",
    ability: "bone-nova",
    speed: 60,
    aggroRadius: 260,
    xp: 100,
    lootTable: "crypt-boss",
    phases: [0.66, 0.33],
    phaseDamageBonus: 0.25,
  },
];

export const lootTables: LootTable[] = [
  {
    id: "training",
    dropChance: 1,
    entries: [
      { item: "copper-coin", minQty: 1, maxQty: 3, weight: 3 },
      { item: "wooden-sword", minQty: 1, maxQty: 1, weight: 1 },
    ],
  },
  {
    id: "crypt-common",
    dropChance: 0.6,
    entries: [
      { item: "bone", minQty: 1, maxQty: 3, weight: 5 },
      { item: "rusty-dagger", minQty: 1, maxQty: 1, weight: 2 },
      { item: "silver-coin", minQty: 1, maxQty: 5, weight: 3 },
    ],
  },
  {
    id: "crypt-boss",
    dropChance: 1,
    entries: [
      { item: "lich-crown", minQty: 1, maxQty: 1, weight: 1 },
      { item: "gold-coin", minQty: 5, maxQty: 10, weight: 2 },
    ],
  },
];
