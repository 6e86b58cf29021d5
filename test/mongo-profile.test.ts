/**
 * The MongoDB adapter's profile mapping, with real mongoose code and no server (MongoDB cannot run
 * on this machine; test/mongo.test.ts runs the store contract wherever MONGO_URL is set): what a
 * trade puts in escrow inside a profile survives the schema's casting and the load.
 */
import assert from "node:assert/strict";
import mongoose from "mongoose";
import { newProfile } from "../src/domain/profile.js";
import { profileFromDoc, profileSchema, type ProfileDoc } from "../src/persistence/mongo.js";

describe("MongoDB profile mapping", () => {
  const escrow = [{ tradeId: "t1", items: [{ item: "wood", qty: 2 }], gold: 5 }];
  const { userId, ...profile } = { ...newProfile({ userId: "u1", name: "Ann" }, 100), escrow, version: 3 };
  const doc: ProfileDoc = { _id: userId, ...profile, lastOp: "op", updatedAt: new Date(0) };

  it("keeps a profile's escrow through the schema (creates and updates)", () => {
    const Profiles = new mongoose.Mongoose().model<ProfileDoc>("Profile", profileSchema);
    assert.deepEqual(new Profiles(doc).toObject().escrow, escrow);
    assert.deepEqual(Profiles.castObject({ escrow }).escrow, escrow);
  });

  it("loads the escrow back, and none when nothing is held", () => {
    assert.deepEqual(profileFromDoc(doc).escrow, escrow);
    assert.equal(profileFromDoc({ ...doc, escrow: [] }).escrow, undefined);
    assert.deepEqual(profileFromDoc(doc), { userId, ...profile });
  });
});
