/** Level for a total of xp: 100 xp reaches level 2, 400 level 3, 900 level 4, ... */
export const levelForXp = (xp: number): number => 1 + Math.floor(Math.sqrt(Math.max(0, xp) / 100));
