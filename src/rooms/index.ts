import { defineRoom } from "@colyseus/core";
import type { Services } from "./services.js";
import { GameRoom } from "./GameRoom.js";
import { WorldRoom } from "./WorldRoom.js";
import { DungeonRoom } from "./DungeonRoom.js";

/**
 * Gives a room class its services without globals: a subclass whose instances carry them and
 * whose static `onAuth` checks tokens with them.
 */
type GameRoomClass = (typeof WorldRoom | typeof DungeonRoom) & { joinOptions(services: Services): any };

export function bindRoom<R extends GameRoomClass>(RoomClass: R, services: Services): R {
  const Bound = class extends (RoomClass as typeof WorldRoom) {
    static override async onAuth(token: string, options: Record<string, unknown>) {
      return GameRoom.authenticate(services, RoomClass.joinOptions(services), token, options);
    }
    constructor() {
      super();
      this.services = services;
      this.log = services.log;
    }
  };
  Object.defineProperty(Bound, "name", { value: RoomClass.name });
  return Bound as unknown as R;
}

export function defineRooms(services: Services) {
  return {
    world: defineRoom(bindRoom(WorldRoom, services)).filterBy(["world"]),
    dungeon: defineRoom(bindRoom(DungeonRoom, services)).filterBy(["dungeon", "party"]),
  };
}
