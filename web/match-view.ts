/**
 * The Matches view: the lobby controls, the players with ready and turn, the turn timer, the board
 * (a grid of buttons: click to queue a build, or a demolish on one's own building), the end with
 * the ratings, and the chain panel with a ✓ per transaction checked in this page (✗ and the reason
 * at the first that fails). Drawn from `MatchClient` a few times a second.
 */
import { describe, type MatchClient } from "./match.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function div(text: string, className = ""): HTMLDivElement {
  const d = document.createElement("div");
  d.textContent = text;
  if (className) d.className = className;
  return d;
}

function fill(el: HTMLElement, children: HTMLElement[]): void {
  const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
  el.replaceChildren(...children);
  if (atBottom) el.scrollTop = el.scrollHeight;
}

export class MatchView {
  /** The building the board's clicks place. */
  building = "";
  private boardMode = "";
  private shownChain: unknown = null;
  private shownFeed = -1;
  private shownRefusals = -1;
  private shownPalette = "";

  constructor(private readonly match: MatchClient) {
    const attempt = (what: () => Promise<unknown>) => {
      $("m-error").textContent = "";
      what().catch((err: unknown) => ($("m-error").textContent = String((err as Error)?.message ?? err)));
    };
    $("m-play").onclick = () =>
      attempt(() =>
        match.play($<HTMLSelectElement>("m-mode").value, $<HTMLInputElement>("m-code").value.trim() || undefined),
      );
    $("m-join").onclick = () => attempt(() => match.joinById($<HTMLInputElement>("m-room").value.trim()));
    $("m-spectate").onclick = () => attempt(() => match.joinById($<HTMLInputElement>("m-room").value.trim(), true));
    $("m-refresh").onclick = () => attempt(() => this.refreshList());
    $("m-ready").onclick = () => {
      const me = match.players.find((p) => p.sessionId === match.sessionId);
      match.ready(!me?.ready);
    };
    $("m-forfeit").onclick = () => match.forfeit();
    $("m-leave").onclick = () => attempt(() => match.leave());
    $("m-end-turn").onclick = () => match.endTurn();
    $("m-clear").onclick = () => {
      match.queued = [];
      match.hint = "";
    };
    $("m-verify").onclick = () => attempt(() => match.verifyHistory());
  }

  /** Called when the view opens: the modes and the list of matches. */
  async open(): Promise<void> {
    const modes = await this.match.loadModes();
    const select = $<HTMLSelectElement>("m-mode");
    if (select.options.length === 0) {
      for (const m of modes) {
        const o = document.createElement("option");
        o.value = m.id;
        o.textContent = `${m.name} (${m.minPlayers}-${m.maxPlayers} players, ${m.rounds} rounds, ${m.turnSeconds} s turns)`;
        select.append(o);
      }
    }
    await this.refreshList();
  }

  async refreshList(): Promise<void> {
    const list = await this.match.list();
    fill(
      $("m-list"),
      list.length === 0
        ? [div("no match rooms right now")]
        : list.map((l) => {
            const row = document.createElement("div");
            row.className = "row";
            row.dataset.roomId = l.roomId;
            const watch = document.createElement("button");
            watch.textContent = "Spectate";
            watch.onclick = () => void this.match.joinById(l.roomId, true).catch(() => undefined);
            const join = document.createElement("button");
            join.textContent = "Join";
            join.onclick = () => void this.match.joinById(l.roomId).catch(() => undefined);
            row.append(`${l.roomId} · ${l.players} in`, join, watch);
            return row;
          }),
    );
  }

  render(): void {
    const m = this.match;
    const s = m.state;
    const mode = m.mode;
    if (m.error) $("m-error").textContent = m.error;
    const inRoom = !!s && !!m.room;
    $("m-status").textContent = !inRoom
      ? m.closed
        ? `Left the match (${m.closed})`
        : "Not in a match"
      : `${mode?.name ?? s.mode} · ${s.status}${s.status === "lobby" ? "" : ` · round ${s.round}/${mode?.rounds ?? "?"}`}` +
        ` · ${m.spectator ? "you watch" : "you play"} · room ${m.room?.roomId ?? ""} · ${s.spectators} watching`;
    const left = m.msLeft;
    const turnName = m.players.find((p) => p.sessionId === s?.turn)?.name;
    const timer = $("m-timer");
    timer.textContent =
      s?.status === "playing"
        ? `${m.myTurn ? "Your turn" : `${turnName ?? "?"}'s turn`} · ${(left / 1000).toFixed(1)} s left`
        : "";
    timer.dataset.msLeft = String(Math.round(left));
    timer.className = left > 0 && left < 5000 ? "low" : "";

    this.players();
    this.board();
    this.palette();

    const me = m.players.find((p) => p.sessionId === m.sessionId);
    $<HTMLButtonElement>("m-ready").hidden = !inRoom || m.spectator || s.status !== "lobby";
    $("m-ready").textContent = me?.ready ? "Not ready" : "Ready";
    $<HTMLButtonElement>("m-forfeit").hidden = !inRoom || m.spectator || s.status !== "playing";
    $<HTMLButtonElement>("m-leave").hidden = !inRoom;
    const playing = inRoom && !m.spectator && s.status === "playing";
    $("m-turn-actions").hidden = !playing;
    $<HTMLButtonElement>("m-end-turn").disabled = !m.myTurn;
    $("m-end-turn").textContent = m.queued.length
      ? `End turn (${m.queued.length} action${m.queued.length === 1 ? "" : "s"})`
      : "End turn (pass)";
    $<HTMLButtonElement>("m-clear").disabled = m.queued.length === 0;
    $("m-queue").textContent = m.queued.length ? `This turn: ${describe(m.queued)}` : "";
    $("m-hint").textContent = m.hint;

    const f = m.finished;
    $("m-finished").textContent = f
      ? `${f.winner ? `${m.nameOf(f.winner)} wins` : "A tie at the top"} · ${f.ratings
          .map((r) => `${m.nameOf(r.userId)} ${r.before} → ${r.after}`)
          .join(" · ")}`
      : m.aborted
        ? "The match was aborted"
        : "";

    this.chain();
    if (this.shownFeed !== m.feed.length || m.feed.length === 50) {
      fill(
        $("m-feed"),
        m.feed.map((l) => div(l)),
      );
      this.shownFeed = m.feed.length;
    }
    if (this.shownRefusals !== m.refusals.length || m.refusals.length === 30) {
      fill(
        $("m-refusals"),
        m.refusals.map((r) => {
          const d = div("", "refusal");
          const code = document.createElement("code");
          code.textContent = r.code;
          d.append(code, ` ${r.action} #${r.seq ?? "?"}: ${r.message}`);
          return d;
        }),
      );
      this.shownRefusals = m.refusals.length;
    }
  }

  private players(): void {
    const m = this.match;
    const s = m.state;
    const table = $("m-players");
    if (!s) return table.replaceChildren();
    const head = document.createElement("tr");
    for (const h of ["", "player", "ready", "gold", "score", ""]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.append(th);
    }
    const preview = m.queued.length ? m.preview() : null;
    const rows = m.players.map((p, i) => {
      const tr = document.createElement("tr");
      if (p.sessionId === s.turn) tr.className = "turn";
      const cells = [
        p.sessionId === s.turn ? "▶" : "",
        `${p.name}${p.sessionId === m.sessionId ? " (you)" : ""}`,
        s.status === "lobby" ? (p.ready ? "ready" : "…") : "",
        preview && preview.gold[p.userId] !== p.gold
          ? `${p.gold} (${preview.gold[p.userId]} after this turn)`
          : String(p.gold),
        String(p.score),
        p.connected ? "" : "disconnected",
      ];
      for (const [j, c] of cells.entries()) {
        const td = document.createElement("td");
        td.textContent = c;
        if (j === 1) td.className = `p${i}`;
        tr.append(td);
      }
      return tr;
    });
    table.replaceChildren(head, ...rows);
  }

  /** The grid is built once per mode; its cells are updated in place (so clicks are never lost). */
  private board(): void {
    const m = this.match;
    const mode = m.mode;
    const el = $("m-board");
    if (!mode || !m.state) {
      if (this.boardMode) el.replaceChildren();
      this.boardMode = "";
      return;
    }
    if (this.boardMode !== mode.id) {
      this.boardMode = mode.id;
      el.style.gridTemplateColumns = `repeat(${mode.board.width}, 44px)`;
      const cells: HTMLButtonElement[] = [];
      for (let y = 0; y < mode.board.height; y++)
        for (let x = 0; x < mode.board.width; x++) {
          const b = document.createElement("button");
          b.dataset.x = String(x);
          b.dataset.y = String(y);
          b.onclick = () => this.clicked(x, y);
          cells.push(b);
        }
      el.replaceChildren(...cells);
    }
    const order = m.players.map((p) => p.userId);
    const preview = m.preview()?.tiles;
    const tiles = m.state.tiles;
    const queued = new Set(m.queued.map((a) => `${a.x},${a.y}`));
    for (const b of el.children as HTMLCollectionOf<HTMLButtonElement>) {
      const key = `${b.dataset.x},${b.dataset.y}`;
      const t = preview ? preview[key] : tiles.get(key);
      const owner = t ? order.indexOf(t.owner) : -1;
      b.textContent = t ? t.building : "";
      b.title = t ? `${t.building} of ${m.nameOf(t.owner)} at ${key}` : key;
      b.className = `${owner >= 0 ? `p${owner}` : ""}${queued.has(key) ? " queued" : ""}`;
      b.disabled = !m.myTurn;
    }
  }

  private clicked(x: number, y: number): void {
    const m = this.match;
    const tile = m.preview()?.tiles[`${x},${y}`];
    const mine = tile && tile.owner === m.players.find((p) => p.sessionId === m.sessionId)?.userId;
    if (mine) m.queue({ type: "demolish", x, y });
    else m.queue({ type: "build", building: this.building || m.mode?.buildings[0]?.id || "", x, y });
  }

  private palette(): void {
    const m = this.match;
    const mode = m.mode;
    const el = $("m-palette");
    const key = `${mode?.id ?? ""}|${this.building}|${m.spectator}`;
    if (key === this.shownPalette) return;
    this.shownPalette = key;
    if (!mode || m.spectator) return el.replaceChildren();
    if (!mode.buildings.some((b) => b.id === this.building)) this.building = mode.buildings[0]?.id ?? "";
    el.replaceChildren(
      ...mode.buildings.map((b) => {
        const button = document.createElement("button");
        button.className = `building${b.id === this.building ? " selected" : ""}`;
        button.dataset.building = b.id;
        button.textContent = `${b.id} · ${b.cost} gold · +${b.income}/round · ${b.points} pts`;
        button.onclick = () => (this.building = b.id);
        return button;
      }),
    );
  }

  private chain(): void {
    const m = this.match;
    const report = m.chain;
    $("m-chain-status").textContent = m.verifying
      ? "checking…"
      : !report
        ? ""
        : report.result.ok
          ? `✓ ${report.txs.length} verified (${report.source})`
          : `✗ at #${report.result.index} (${report.source})`;
    if (report === this.shownChain) return;
    this.shownChain = report;
    if (!report) return fill($("m-chain"), [div("no transactions yet")]);
    fill(
      $("m-chain"),
      report.txs.map((t) => {
        const d = div(
          `${t.mark} #${t.index} ${m.nameOf(t.player)} ${t.timeout ? "timeout" : `${t.actions} action${t.actions === 1 ? "" : "s"}`} ${t.hash.slice(0, 12)}…${t.reason ? ` · ${t.reason}` : ""}`,
          t.mark === "✓" ? "ok" : t.mark === "✗" ? "bad" : "skip",
        );
        d.dataset.index = String(t.index);
        d.dataset.mark = t.mark;
        return d;
      }),
    );
  }
}
