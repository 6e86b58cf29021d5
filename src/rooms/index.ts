import { defineRoom, type AuthContext } from "@colyseus/core";
import type { AnyKind } from "../engine/kind.js";
import { dungeonKind } from "../kinds/dungeon.js";
import { matchKind } from "../kinds/match.js";
import { worldKind } from "../kinds/world.js";
import type { Services } from "../services.js";
import { engineOptions, KindRoom, type AuthData } from "./KindRoom.js";

/** Every room kind the server runs. A new kind is a simulation, a message table and a schema, added here. */
export const KINDS: readonly AnyKind[] = [worldKind, dungeonKind, matchKind];

/**
 * One Colyseus room definition per kind, all running `KindRoom`. Colyseus calls `onAuth` on the
 * room class before a room exists (so a bad token never creates one), as a static hook that
 * sees no instance: that hook alone is why each kind gets a named class of its own here.
 */
export function defineRooms(services: Services) {
  return Object.fromEntries(
    KINDS.map((kind) => {
      const Room = class extends KindRoom {
        static override onAuth(token: string, options: Record<string, unknown>, ctx: AuthContext): Promise<AuthData> {
          return KindRoom.authenticate(services, kind, token, options, ctx);
        }
      };
      Object.defineProperty(Room, "name", { value: `${kind.name}Room` });
      return [kind.name, defineRoom(Room, engineOptions(kind, services)).filterBy([...kind.filterBy])];
    }),
  );
}
