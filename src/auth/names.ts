/**
 * Names that look alike compare equal here. `skeleton(name)` folds a name to a canonical form:
 * compatibility forms and accents removed (NFKD, marks dropped, NFKC), lower case, common
 * homoglyphs mapped to one Latin letter (Cyrillic а/е/о/р/с/х/у, Greek ο/α/ρ/..., the digits
 * 0 and 1, and i/l/1/| as one stroke), separators dropped, and `rn` read as `m`. Two names with the
 * same skeleton are taken for one: a guest may not take a registered username's, and a username
 * may not be registered whose skeleton an existing one has. Pure; the table is kept small on purpose
 * (Unicode's full confusables list is some 6,000 entries), see test/names.test.ts.
 *
 * The SQL migrations compute the skeleton of stored usernames (A-Z, a-z, 0-9, _) with
 * `SKELETON_SQL`, which must agree with `skeleton` on that alphabet (a test checks it).
 */

/** Lower-case homoglyphs → the Latin letter they pass for. */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "l",
  ї: "l",
  ј: "j",
  ԁ: "d",
  ӏ: "l",
  ԛ: "q",
  ԝ: "w",
  // Greek
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "l",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  // One stroke: i, l, 1, |, dotless ı
  i: "l",
  "1": "l",
  "|": "l",
  ı: "l",
  // Round: the digit 0
  "0": "o",
};

/** What separates words in a display name; dropped from the skeleton. */
const SEPARATORS = /[\s_.-]/gu;

export function skeleton(name: string): string {
  const plain = name.normalize("NFKD").replace(/\p{M}/gu, "").normalize("NFKC").toLowerCase();
  let out = "";
  for (const ch of plain) out += CONFUSABLES[ch] ?? ch;
  return out.replace(SEPARATORS, "").replaceAll("rn", "m");
}

/**
 * `skeleton` of a column of usernames (A-Z, a-z, 0-9, _ only), in SQL both SQLite and PostgreSQL
 * run: lower case, the one-stroke and round digits mapped, `_` dropped, `rn` read as `m`.
 */
export const skeletonSql = (column: string): string =>
  `replace(replace(replace(replace(replace(lower(${column}), '0', 'o'), '1', 'l'), 'i', 'l'), '_', ''), 'rn', 'm')`;

/**
 * The migration (SQLite and PostgreSQL run the same text) that makes the store hold one registered
 * account per skeleton, so that two registrations of look-alikes racing past the lookup cannot both
 * land. Look-alikes stored before it keep their accounts: the oldest keeps its skeleton (which goes
 * on reserving the shape for everyone), the later ones' is cleared.
 */
export const UNIQUE_SKELETON_SQL = `
  UPDATE accounts SET skeleton = NULL
   WHERE skeleton IS NOT NULL
     AND EXISTS (SELECT 1 FROM accounts AS older
                  WHERE older.skeleton = accounts.skeleton
                    AND (older.created_at < accounts.created_at
                         OR (older.created_at = accounts.created_at AND older.user_id < accounts.user_id)));
  DROP INDEX accounts_skeleton;
  CREATE UNIQUE INDEX accounts_skeleton_key ON accounts (skeleton);`;
