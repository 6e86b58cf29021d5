/**
 * The page: login forms, the canvas and its input, the side panels, and `window.realmgate`, a
 * small surface that lets tests (and curious developers, from the console) read the game and act.
 */
import "./traffic.js"; // first: it wraps WebSocket before the SDK loads
import { Game } from "./game.js";
import type { MatchSnapshot, Snapshot } from "./snapshot.js";
import { cameraFor, render, toWorld, type Camera } from "./render.js";
import { MatchClient } from "./match.js";
import { MatchView } from "./match-view.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const game = new Game();
const canvas = $<HTMLCanvasElement>("canvas");
const ctx = canvas.getContext("2d")!;
let camera: Camera = { x: 0, y: 0, scale: 1 };
let showDebug = true;
const match = new MatchClient(game);
const matchView = new MatchView(match);
/** The tab shown once logged in: the world (or dungeon) on the canvas, or the matches. */
let view: "world" | "matches" = "world";
function show(next: "world" | "matches"): void {
  view = next;
  $("tab-world").className = next === "world" ? "active" : "";
  $("tab-matches").className = next === "matches" ? "active" : "";
  if (next === "matches") void matchView.open().catch((err: unknown) => ($("m-error").textContent = String(err)));
}
$("tab-world").onclick = () => show("world");
$("tab-matches").onclick = () => show("matches");

// --- login -------------------------------------------------------------------------------------

async function attempt(what: () => Promise<void>): Promise<void> {
  $("login-error").textContent = "";
  try {
    await what();
  } catch (err) {
    $("login-error").textContent = String((err as Error)?.message ?? err);
  }
}
$("guest").onclick = () => attempt(() => game.guest($<HTMLInputElement>("guest-name").value.trim() || undefined));
$("register").onclick = () =>
  attempt(() => game.register($<HTMLInputElement>("reg-user").value, $<HTMLInputElement>("reg-pass").value));
$("login-btn").onclick = () =>
  attempt(() => game.login($<HTMLInputElement>("login-user").value, $<HTMLInputElement>("login-pass").value));
$("logout").onclick = () => {
  void match.leave();
  game.logout();
};

// --- actions -----------------------------------------------------------------------------------

const nearest = <T extends { x: number; y: number }>(items: Iterable<T>): T | undefined => {
  const at = game.pos;
  if (!at) return undefined;
  return [...items].sort((a, b) => Math.hypot(a.x - at.x, a.y - at.y) - Math.hypot(b.x - at.x, b.y - at.y))[0];
};

const actions = {
  guest: (name?: string) => game.guest(name),
  register: (username: string, password: string) => game.register(username, password),
  login: (username: string, password: string) => game.login(username, password),
  logout: () => game.logout(),
  moveTo: (x: number, y: number) => game.moveTo(x, y),
  stop: () => game.stop(),
  say: (text: string) => game.say(text),
  gather: (resource?: string) => {
    const id = resource ?? nearest([...(game.state?.resources?.values() ?? [])].filter((r) => r.amount > 0))?.id;
    if (id) game.setIntent({ kind: "gather", resource: id });
  },
  travel: (portal?: string) => {
    const id = portal ?? nearest(game.state?.portals?.values() ?? [])?.id;
    if (id) game.setIntent({ kind: "travel", portal: id });
  },
  enterDungeon: (dungeon = "training", party?: string) => game.enterDungeon(dungeon, party),
  leaveDungeon: () => game.enterWorld(),
  attack: (target: string, ability?: string) => {
    if (ability) game.selectedAbility = ability;
    game.setIntent({ kind: "attack", target });
  },
  fight: () => game.setIntent({ kind: "fight" }),
  pickup: (loot?: string) => {
    const id = loot ?? nearest(game.state?.loot?.values() ?? [])?.id;
    if (id) game.setIntent({ kind: "pickup", loot: id });
  },
  selectAbility: (id: string) => (game.selectedAbility = id),
  /** Sends any action as is (with the next seq): to see how the server refuses it. */
  send: (type: string, payload: Record<string, unknown> = {}) => game.send(type, payload),
  showMatches: () => show("matches"),
  showWorld: () => show("world"),
  playMatch: (mode = "duel", code?: string) => match.play(mode, code),
  joinMatch: (roomId: string, spectate = false) => match.joinById(roomId, spectate),
  ready: (ready = true) => match.ready(ready),
  /** Queues a build (or, with no building, a demolish) on the turn; false when the rules say no. */
  queue: (x: number, y: number, building?: string) =>
    match.queue(building ? { type: "build", building, x, y } : { type: "demolish", x, y }),
  endTurn: () => match.endTurn(),
  /** Sends any message to the match room as is (with the next seq): to see how the server refuses it. */
  matchSend: (type: string, payload: Record<string, unknown> = {}) => match.send(type, payload),
  forfeit: () => match.forfeit(),
  verifyHistory: () => match.verifyHistory().then(() => undefined),
  listMatches: () => matchView.refreshList(),
  leaveMatch: () => match.leave(),
  /** Closes the socket as a network failure would; the SDK then reconnects. */
  dropConnection: () => {
    const transport = (game.room as unknown as { connection?: { transport?: { ws?: WebSocket } } })?.connection
      ?.transport;
    transport?.ws?.close(4010, "dropped on purpose");
  },
};

/** A plain snapshot of what the client knows, for tests and the console. */
function snapshot(): Snapshot {
  const s = game.state;
  const me = game.me;
  const own = game.room?.sessionId;
  const list = <T>(m: { values(): IterableIterator<T> } | undefined) => [...(m?.values() ?? [])];
  return {
    screen: game.screen,
    user: game.user && { userId: game.user.userId, name: game.user.name },
    kind: game.kind,
    sessionId: own ?? null,
    world: s?.world ?? s?.dungeon ?? null,
    me: me ? { ...pick(me, ["x", "y", "hp", "maxHp", "level", "mana", "maxMana", "alive", "name"]) } : null,
    predicted: game.pos,
    intent: game.intent,
    pathLength: game.path.length,
    others: list(game.kind === "world" ? s?.players : s?.heroes)
      .filter((b) => b.sessionId !== own)
      .map((b) => ({ sessionId: b.sessionId, name: b.name, x: b.x, y: b.y, hp: b.hp, alive: b.alive })),
    portals: list(s?.portals).map((p) => pick(p, ["id", "x", "y", "to"])),
    resources: list(s?.resources).map((r) => pick(r, ["id", "kind", "x", "y", "amount"])),
    dungeon:
      game.kind === "dungeon"
        ? {
            status: s?.status,
            bossPhase: s?.bossPhase,
            enemies: list(s?.enemies).map((e) => pick(e, ["id", "kind", "x", "y", "hp", "maxHp", "alive"])),
            loot: list(s?.loot).map((l) => pick(l, ["id", "item", "qty", "x", "y"])),
            doors: list(s?.doors).map((d) => pick(d, ["id", "open"])),
          }
        : null,
    welcome: game.welcome,
    chat: game.chat,
    feed: game.feed,
    refusals: game.refusals,
    gathered: game.gathered,
    picked: game.picked,
    cleared: game.cleared,
    failed: game.failed,
    connection: { ...game.connection, reconnectable: game.reconnectable },
    debug: { ...game.debug, entitiesInView: game.entitiesInView },
    cooldowns: Object.fromEntries(
      game.abilities.map((a) => [
        a.id,
        Math.max(0, Math.round((game.cooldownUntil.get(a.id) ?? 0) - performance.now())),
      ]),
    ),
    error: game.error,
    view,
    match: matchSnapshot(),
  };
}

/** The match as plain JSON (see MatchSnapshot). */
function matchSnapshot(): MatchSnapshot | null {
  const s = match.state;
  if (!s && !match.finished && !match.chain && !match.error) return null;
  return {
    roomId: match.room?.roomId ?? null,
    matchId: match.welcome?.matchId ?? null,
    mode: s?.mode ?? match.welcome?.mode ?? null,
    spectator: match.spectator,
    status: s?.status ?? null,
    round: s?.round ?? 0,
    turn: s?.turn ?? "",
    myTurn: match.myTurn,
    msLeft: match.msLeft,
    chainLength: s?.chainLength ?? 0,
    chainHead: s?.chainHead ?? "",
    spectators: s?.spectators ?? 0,
    players: match.players.map((p) => pick(p, ["sessionId", "userId", "name", "ready", "connected", "gold", "score"])),
    tiles: [...(s?.tiles.values() ?? [])].map((t) => pick(t, ["x", "y", "building", "owner"])),
    queued: match.queued.map((a) => ({ ...a })),
    hint: match.hint,
    txs: match.txs.map((t) => ({ ...t, actions: t.actions.map((a) => ({ ...a })) })),
    finished: match.finished,
    aborted: match.aborted,
    chain: match.chain && {
      source: match.chain.source,
      result: match.chain.result,
      txs: match.chain.txs.map((t) => ({ ...t })),
    },
    verifying: match.verifying,
    refusals: match.refusals,
    feed: match.feed,
    error: match.error,
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}

declare global {
  interface Window {
    realmgate: { state: typeof snapshot; actions: typeof actions; game: Game; match: MatchClient };
  }
}
window.realmgate = { state: snapshot, actions, game, match };

$("gather").onclick = () => actions.gather();
$("travel").onclick = () => actions.travel();
$("fight").onclick = () => actions.fight();
$("pickup").onclick = () => actions.pickup();
$("enter-dungeon").onclick = () =>
  void game
    .enterDungeon($<HTMLSelectElement>("dungeon-id").value, $<HTMLInputElement>("party").value.trim() || undefined)
    .catch(() => undefined);
$("leave-dungeon").onclick = () => void game.enterWorld().catch(() => undefined);
$("drop").onclick = () => actions.dropConnection();
$<HTMLInputElement>("party").value = new URLSearchParams(location.search).get("party") ?? "friends";
$<HTMLInputElement>("show-debug").onchange = (e) => (showDebug = (e.target as HTMLInputElement).checked);
$("chatform").onsubmit = (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("chatinput");
  if (input.value.trim()) game.say(input.value);
  input.value = "";
  input.blur();
};

// --- input -------------------------------------------------------------------------------------

const held = new Set<string>();
const DIRS: Record<string, [number, number]> = {
  KeyW: [0, -1],
  ArrowUp: [0, -1],
  KeyS: [0, 1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  ArrowLeft: [-1, 0],
  KeyD: [1, 0],
  ArrowRight: [1, 0],
};
function updateKeys(): void {
  let x = 0;
  let y = 0;
  for (const code of held) {
    const d = DIRS[code];
    if (d) [x, y] = [x + d[0], y + d[1]];
  }
  game.keys = { x: Math.sign(x), y: Math.sign(y) };
}
window.addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (typing || view !== "world") return;
  if (e.code === "Enter") {
    $("chatinput").focus();
    e.preventDefault();
  } else if (e.code === "F3") {
    showDebug = !showDebug;
    $<HTMLInputElement>("show-debug").checked = showDebug;
    e.preventDefault();
  } else if (e.code === "Digit1" || e.code === "Digit2") {
    const a = game.abilities[Number(e.code.slice(-1)) - 1];
    if (a) game.selectedAbility = a.id;
  } else if (e.code === "KeyG") actions.gather();
  else if (e.code === "KeyT") actions.travel();
  else if (e.code === "KeyF") actions.fight();
  else if (e.code === "KeyE") actions.pickup();
  else if (DIRS[e.code]) {
    held.add(e.code);
    updateKeys();
    e.preventDefault();
  }
});
window.addEventListener("keyup", (e) => {
  if (held.delete(e.code)) updateKeys();
});
window.addEventListener("blur", () => {
  held.clear();
  updateKeys();
});

canvas.addEventListener("click", (e) => {
  const s = game.state;
  if (!s) return;
  const rect = canvas.getBoundingClientRect();
  const p = toWorld(camera, e.clientX - rect.left, e.clientY - rect.top);
  const near = (o: { x: number; y: number }, r: number) => Math.hypot(o.x - p.x, o.y - p.y) <= r;
  const enemy = [...(s.enemies?.values() ?? [])].find((x) => x.alive && near(x, 18));
  if (enemy) return actions.attack(enemy.id);
  const loot = [...(s.loot?.values() ?? [])].find((x) => near(x, 14));
  if (loot) return actions.pickup(loot.id);
  const resource = [...(s.resources?.values() ?? [])].find((x) => near(x, 16));
  if (resource) return actions.gather(resource.id);
  const portal = [...(s.portals?.values() ?? [])].find((x) => near(x, 28));
  if (portal) return actions.travel(portal.id);
  game.moveTo(Math.round(p.x), Math.round(p.y));
});

// --- drawing and panels ------------------------------------------------------------------------

function frame(now: number): void {
  camera = cameraFor(game, canvas.width, canvas.height);
  render(ctx, game, camera, now);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

function fill(el: HTMLElement, lines: Array<string | HTMLElement>): void {
  const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
  el.replaceChildren(
    ...lines.map((l) => {
      if (typeof l !== "string") return l;
      const div = document.createElement("div");
      div.textContent = l;
      return div;
    }),
  );
  if (atBottom) el.scrollTop = el.scrollHeight;
}

const shown = { chat: -1, feed: -1, refusals: -1 };
function panels(): void {
  const playing = game.screen === "world" || game.screen === "dungeon";
  $("login").hidden = playing || game.screen === "connecting";
  $("tabs").hidden = !game.user;
  $("game").hidden = !playing || view !== "world";
  $("matches").hidden = !game.user || view !== "matches";
  if (game.user && view === "matches") matchView.render();
  $("logout").hidden = !game.user;
  if (game.error && !playing) $("login-error").textContent = game.error;
  const c = game.connection;
  const conn = $("conn");
  conn.className = `conn ${c.state}`;
  conn.textContent =
    c.state === "connected"
      ? `● connected · RTT ${c.rtt ?? "…"} ms`
      : c.state === "reconnecting"
        ? `◌ reconnecting… ${c.closed ?? ""}`
        : c.state === "closed"
          ? `✕ closed ${c.closed ?? ""}`
          : c.state;
  $<HTMLButtonElement>("drop").disabled = !game.reconnectable || c.state !== "connected";
  $("drop").title = game.reconnectable
    ? "close the socket as a network failure would: the SDK reconnects within the server's window"
    : "the SDK reconnects only rooms joined more than 5 s ago";
  $("who").textContent = game.user ? `${game.user.name}` : "";
  if (!playing) return;

  const s = game.state;
  const t = game.template;
  const me = game.me;
  $("place").textContent =
    game.kind === "dungeon"
      ? `Dungeon: ${t?.name ?? ""} · party ${game.welcome?.party ?? "-"} · ${s?.status ?? ""}${
          s?.bossPhase ? ` · boss phase ${s.bossPhase}` : ""
        }`
      : `World: ${t?.name ?? ""} (${s?.world ?? ""}) · ${me ? `${Math.round(me.x)}, ${Math.round(me.y)} · hp ${me.hp}` : ""}`;
  $("world-actions").hidden = game.kind !== "world";
  $("dungeon-entry").hidden = game.kind !== "world";
  $("dungeon-actions").hidden = game.kind !== "dungeon";
  $("abilities").hidden = game.kind !== "dungeon";
  if (game.kind === "dungeon") {
    const now = performance.now();
    fill(
      $("abilities"),
      game.abilities.map((a, i) => {
        const b = document.createElement("button");
        b.className = `ability${a.id === game.selectedAbility ? " selected" : ""}`;
        const left = Math.max(0, (game.cooldownUntil.get(a.id) ?? 0) - now);
        b.textContent = `${i + 1} ${a.name}${a.manaCost ? ` (${a.manaCost} mana)` : ""}${left > 0 ? ` ${(left / 1000).toFixed(1)}s` : ""}`;
        b.disabled = (me?.mana ?? 0) < a.manaCost;
        const bar = document.createElement("span");
        bar.className = "cd";
        bar.style.width = `${Math.min(100, (left / a.cooldownMs) * 100)}%`;
        b.append(bar);
        b.onclick = () => (game.selectedAbility = a.id);
        return b;
      }),
    );
  }
  if (shown.chat !== game.chat.length || game.chat.length === 100) {
    fill(
      $("chatlog"),
      game.chat.map((m) => `${m.name}: ${m.text}`),
    );
    shown.chat = game.chat.length;
  }
  if (shown.feed !== game.feed.length || game.feed.length === 50) {
    fill($("feed"), game.feed);
    shown.feed = game.feed.length;
  }
  if (shown.refusals !== game.refusals.length || game.refusals.length === 30) {
    fill(
      $("refusals"),
      game.refusals.map((r) => {
        const div = document.createElement("div");
        div.className = "refusal";
        const code = document.createElement("code");
        code.textContent = r.code;
        div.append(code, ` ${r.action} #${r.seq ?? "?"}: ${r.message}`);
        return div;
      }),
    );
    shown.refusals = game.refusals.length;
  }
  const banner = $("banner");
  banner.textContent =
    s?.status === "cleared"
      ? "Dungeon cleared!"
      : s?.status === "failed"
        ? "The party fell"
        : me && me.alive === false
          ? "You died: reviving soon"
          : "";
  $("debug").hidden = !showDebug;
  if (showDebug) {
    const d = game.debug;
    $("debug").textContent = [
      `tick ${d.tick} · ${d.patchesPerSec} patches/s`,
      `received ${(d.bytesPerSec / 1024).toFixed(1)} KB/s`,
      `entities in view ${game.entitiesInView}${game.kind === "world" ? ` (players ${s?.players?.size ?? 0})` : ""}`,
      `seq ${game.seq} · moves sent ${d.movesSent}`,
      `speed ${game.welcome?.speed ?? "-"}/s · bank ${game.welcome?.moveBankMs ?? "-"} ms · tol ${game.welcome?.moveTolerance ?? "-"}`,
      game.welcome?.aoiRadius
        ? `AOI radius ${game.welcome.aoiRadius}`
        : `pickup range ${game.welcome?.pickupRange ?? "-"}`,
      "last refusals:",
      ...game.refusals.slice(-4).map((r) => `  ${r.code} (${r.action} #${r.seq ?? "?"})`),
    ].join("\n");
  }
}
window.setInterval(panels, 200);
panels();

void game.resume();
