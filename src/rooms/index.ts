import { defineRoom } from "@colyseus/core";
import type { Services } from "../services.js";
import { GameRoom } from "./GameRoom.js";
import { WorldRoom } from "./WorldRoom.js";
import { DungeonRoom } from "./DungeonRoom.js";

type RoomClass = typeof WorldRoom | typeof DungeonRoom;

/**
 * Gives a room class its services without globals: a subclass whose instances carry them and
 * whose static `onAuth` checks tokens and join options with them.
 */
export function bindRoom<R extends RoomClass>(RoomClass: R, kind: string, services: Services): R {
  const joinOptions = RoomClass.joinOptions(services);
  const Bound = class extends (RoomClass as typeof WorldRoom) {
    static override async onAuth(token: string, options: Record<string, unknown>) {
      return GameRoom.authenticate(services, kind, joinOptions, token, options);
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
    world: defineRoom(bindRoom(WorldRoom, "world", services)).filterBy(["world"]),
    dungeon: defineRoom(bindRoom(DungeonRoom, "dungeon", services)).filterBy(["dungeon", "party"]),
  };
}
