/**
 * Draws the game on a canvas: the tile map, portals, resources, bodies (others interpolated),
 * the AOI radius, dungeon enemies, loot and doors, and the path being walked.
 */
import type { DungeonTemplate, Game, WorldTemplate } from "./game.js";
import type { Point } from "./path.js";

export interface Camera {
  /** World point at the canvas's top-left corner. */
  x: number;
  y: number;
  scale: number;
}

const PALETTES: Record<string, { ground: string; grid: string; blocked: string; edge: string }> = {
  meadow: { ground: "#5f8f4e", grid: "rgba(0,0,0,0.06)", blocked: "#2f5d7c", edge: "#24475f" },
  dunes: { ground: "#d8b878", grid: "rgba(0,0,0,0.05)", blocked: "#8a6a44", edge: "#6d5232" },
  dungeon: { ground: "#3b3a44", grid: "rgba(255,255,255,0.04)", blocked: "#1b1a20", edge: "#0e0d12" },
};

const RESOURCE_COLOURS: Record<string, string> = {
  tree: "#2e6b2a",
  rock: "#8d8d8d",
  herb: "#9bd35a",
  cactus: "#4d8f3c",
};

export const toWorld = (cam: Camera, sx: number, sy: number): Point => ({
  x: cam.x + sx / cam.scale,
  y: cam.y + sy / cam.scale,
});

/** The camera follows the own body and stays inside the map (a small map is centred). */
export function cameraFor(game: Game, width: number, height: number): Camera {
  const t = game.template;
  if (!t) return { x: 0, y: 0, scale: 1 };
  const scale = Math.max(1, Math.min(1.5, Math.min(width / t.width, height / t.height)));
  const viewW = width / scale;
  const viewH = height / scale;
  const me = game.room ? game.interpolatedSelf() : undefined;
  const centre = me ?? { x: t.width / 2, y: t.height / 2 };
  const axis = (c: number, view: number, size: number) =>
    size <= view ? (size - view) / 2 : Math.min(size - view, Math.max(0, c - view / 2));
  return { x: axis(centre.x, viewW, t.width), y: axis(centre.y, viewH, t.height), scale };
}

function bar(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, f: number, colour: string): void {
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.fillRect(x - w / 2, y, w, 4);
  ctx.fillStyle = colour;
  ctx.fillRect(x - w / 2, y, w * Math.max(0, Math.min(1, f)), 4);
}

function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, colour = "#fff"): void {
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0,0,0,0.7)";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
}

export function render(ctx: CanvasRenderingContext2D, game: Game, cam: Camera, now: number): void {
  const { width, height } = ctx.canvas;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, width, height);
  const t = game.template;
  const s = game.state;
  if (!t || !s || !game.room) return;
  const palette = PALETTES[game.kind === "dungeon" ? "dungeon" : t.id] ?? PALETTES.meadow;
  ctx.setTransform(cam.scale, 0, 0, cam.scale, -cam.x * cam.scale, -cam.y * cam.scale);

  // Ground, tile grid, blocked tiles.
  ctx.fillStyle = palette.ground;
  ctx.fillRect(0, 0, t.width, t.height);
  const ts = t.tileSize;
  const x0 = Math.max(0, Math.floor(cam.x / ts));
  const y0 = Math.max(0, Math.floor(cam.y / ts));
  const x1 = Math.min(Math.ceil(t.width / ts), Math.ceil((cam.x + width / cam.scale) / ts));
  const y1 = Math.min(Math.ceil(t.height / ts), Math.ceil((cam.y + height / cam.scale) / ts));
  ctx.strokeStyle = palette.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = x0; x <= x1; x++) {
    ctx.moveTo(x * ts, y0 * ts);
    ctx.lineTo(x * ts, y1 * ts);
  }
  for (let y = y0; y <= y1; y++) {
    ctx.moveTo(x0 * ts, y * ts);
    ctx.lineTo(x1 * ts, y * ts);
  }
  ctx.stroke();
  for (const r of t.blocked) {
    ctx.fillStyle = palette.blocked;
    ctx.fillRect(r.x * ts, r.y * ts, r.w * ts, r.h * ts);
    ctx.strokeStyle = palette.edge;
    ctx.lineWidth = 2;
    ctx.strokeRect(r.x * ts + 1, r.y * ts + 1, r.w * ts - 2, r.h * ts - 2);
  }

  // Dungeon doors: solid while closed, an outline once open.
  if (game.kind === "dungeon") {
    for (const d of (t as DungeonTemplate).doors) {
      const open = s.doors?.get(d.id)?.open ?? false;
      if (open) {
        ctx.strokeStyle = "#c9a15a";
        ctx.setLineDash([4, 4]);
        ctx.strokeRect(d.x * ts, d.y * ts, d.w * ts, d.h * ts);
        ctx.setLineDash([]);
      } else {
        ctx.fillStyle = "#7a4f22";
        ctx.fillRect(d.x * ts, d.y * ts, d.w * ts, d.h * ts);
        ctx.strokeStyle = "#3d2810";
        ctx.strokeRect(d.x * ts, d.y * ts, d.w * ts, d.h * ts);
      }
      label(ctx, open ? `${d.id} (open)` : `${d.id} (closed)`, (d.x + d.w / 2) * ts, d.y * ts - 6, "#f3d9a4");
    }
  }

  // Portals and resources.
  for (const p of s.portals?.values() ?? []) {
    const pulse = 4 * Math.sin(now / 300);
    const g = ctx.createRadialGradient(p.x, p.y, 2, p.x, p.y, 26 + pulse);
    g.addColorStop(0, "#f0d8ff");
    g.addColorStop(0.5, "#9b4dff");
    g.addColorStop(1, "rgba(80,0,160,0)");
    ctx.fillStyle = g;
    ctx.beginPath();
    ctx.arc(p.x, p.y, 26 + pulse, 0, Math.PI * 2);
    ctx.fill();
    const range = game.welcome?.travelRange;
    if (range) {
      ctx.strokeStyle = "rgba(200,150,255,0.35)";
      ctx.beginPath();
      ctx.arc(p.x, p.y, range, 0, Math.PI * 2);
      ctx.stroke();
    }
    label(ctx, `portal → ${p.to}`, p.x, p.y - 32, "#e8d0ff");
  }
  for (const r of s.resources?.values() ?? []) {
    ctx.fillStyle = RESOURCE_COLOURS[r.kind] ?? "#aaa";
    ctx.globalAlpha = r.amount > 0 ? 1 : 0.35;
    ctx.beginPath();
    ctx.arc(r.x, r.y, 12, 0, Math.PI * 2);
    ctx.fill();
    ctx.strokeStyle = "rgba(0,0,0,0.5)";
    ctx.stroke();
    ctx.globalAlpha = 1;
    const item = (t as WorldTemplate).resources?.find((x) => x.id === r.id)?.item ?? r.kind;
    label(ctx, `${r.kind} · ${item} ×${r.amount}`, r.x, r.y - 16, "#f4f4d0");
  }

  // Loot.
  for (const l of s.loot?.values() ?? []) {
    ctx.save();
    ctx.translate(l.x, l.y);
    ctx.rotate(Math.PI / 4);
    ctx.fillStyle = "#ffd34d";
    ctx.fillRect(-6, -6, 12, 12);
    ctx.strokeStyle = "#7a5a00";
    ctx.strokeRect(-6, -6, 12, 12);
    ctx.restore();
    label(ctx, `${l.item} ×${l.qty}`, l.x, l.y - 12, "#ffe9a0");
  }

  // Enemies.
  for (const e of s.enemies?.values() ?? []) {
    const at = game.interpolated(e.id, now) ?? e;
    ctx.globalAlpha = e.alive ? 1 : 0.35;
    ctx.fillStyle = e.kind === "lich" ? "#7d2bd1" : e.kind === "skeleton" ? "#d9d4c0" : "#b5652b";
    ctx.fillRect(at.x - 11, at.y - 11, 22, 22);
    ctx.strokeStyle = "#300";
    ctx.lineWidth = 2;
    ctx.strokeRect(at.x - 11, at.y - 11, 22, 22);
    ctx.globalAlpha = 1;
    if (e.alive) bar(ctx, at.x, at.y - 19, 30, e.hp / e.maxHp, "#e33");
    label(ctx, e.alive ? e.kind : `${e.kind} ✝`, at.x, at.y + 25, "#ffb0b0");
    if (game.intent?.kind === "attack" && game.intent.target === e.id) {
      ctx.strokeStyle = "#ff4040";
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(at.x - 15, at.y - 15, 30, 30);
      ctx.setLineDash([]);
    }
  }

  // Others, interpolated between patches; then the own body on top.
  const own = game.room.sessionId;
  const bodies = [...((game.kind === "world" ? s.players : s.heroes)?.values() ?? [])];
  for (const b of bodies) {
    if (b.sessionId === own) continue;
    const at = game.interpolated(b.sessionId, now) ?? b;
    drawBody(ctx, at, b.name, b.hp / b.maxHp, "#3d7bff", b.alive !== false);
  }
  const me = game.me;
  const self = game.interpolatedSelf(now);
  if (me && self) {
    if (game.welcome?.aoiRadius) {
      ctx.strokeStyle = "rgba(255,255,255,0.55)";
      ctx.setLineDash([8, 6]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(self.x, self.y, game.welcome.aoiRadius, 0, Math.PI * 2);
      ctx.stroke();
      ctx.setLineDash([]);
      label(ctx, `AOI ${game.welcome.aoiRadius}`, self.x, self.y - game.welcome.aoiRadius - 4, "rgba(255,255,255,0.8)");
    }
    if (game.path.length > 0) {
      ctx.strokeStyle = "rgba(255,230,120,0.7)";
      ctx.setLineDash([2, 5]);
      ctx.beginPath();
      ctx.moveTo(self.x, self.y);
      for (const p of game.path) ctx.lineTo(p.x, p.y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    drawBody(ctx, self, `${me.name} (you)`, me.hp / me.maxHp, "#ffc83d", me.alive !== false);
    if (me.maxMana) bar(ctx, self.x, self.y - 15, 30, (me.mana ?? 0) / me.maxMana, "#4aa3ff");
  }
}

function drawBody(
  ctx: CanvasRenderingContext2D,
  at: Point,
  name: string,
  hp: number,
  colour: string,
  alive: boolean,
): void {
  ctx.globalAlpha = alive ? 1 : 0.4;
  ctx.fillStyle = colour;
  ctx.beginPath();
  ctx.arc(at.x, at.y, 10, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = "#111";
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.globalAlpha = 1;
  bar(ctx, at.x, at.y - 21, 30, hp, "#3c3");
  label(ctx, alive ? name : `${name} ✝`, at.x, at.y + 24);
}
