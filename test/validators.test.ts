import assert from "node:assert/strict";
import { RejectCode } from "../src/protocol/codes.js";
import { Chat, Move, seqOf, WorldJoinOptions } from "../src/validators/messages.js";
import { fullBucket, strike, take } from "../src/validators/rateLimit.js";
import { checkSeq } from "../src/validators/seq.js";

describe("validators", () => {
  it("shape-checks moves: numbers only, finite, with an integer seq", () => {
    assert.ok(Move.safeParse({ seq: 1, x: 1.5, y: 2 }).success);
    for (const bad of [
      { seq: 1, x: "1", y: 2 },
      { seq: 1, x: NaN, y: 2 },
      { seq: 1, x: Infinity, y: 2 },
      { seq: 1.5, x: 1, y: 2 },
      { x: 1, y: 2 },
      null,
      "move",
      [1, 2],
    ]) {
      assert.equal(Move.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it("drops keys a client may not set", () => {
    const parsed = Move.parse({ seq: 1, x: 1, y: 2, hp: 9999 });
    assert.equal("hp" in parsed, false);
  });

  it("bounds payload sizes", () => {
    assert.equal(Chat.safeParse({ seq: 1, text: "x".repeat(2001) }).success, false);
  });

  it("fills join option defaults and refuses unknown devices", () => {
    assert.deepEqual(WorldJoinOptions.parse({}), { world: "meadow", device: "desktop" });
    assert.equal(WorldJoinOptions.safeParse({ device: "toaster" }).success, false);
  });

  it("reads seq from a malformed payload when it can", () => {
    assert.equal(seqOf({ seq: 7, x: "no" }), 7);
    assert.equal(seqOf({ seq: "7" }), null);
    assert.equal(seqOf(undefined), null);
  });

  it("requires seq to grow", () => {
    assert.ok(checkSeq(-1, 0).ok);
    assert.ok(checkSeq(4, 9).ok);
    assert.equal((checkSeq(4, 4) as { code: string }).code, RejectCode.SeqStale);
    assert.equal((checkSeq(4, 3) as { code: string }).code, RejectCode.SeqStale);
  });

  it("token bucket: a burst, then the sustained rate", () => {
    const spec = { perSecond: 2, burst: 3 };
    let bucket = fullBucket(spec, 0);
    const allowed = [0, 0, 0, 0].map(() => {
      const r = take(bucket, spec, 0);
      bucket = r.bucket;
      return r.allowed;
    });
    assert.deepEqual(allowed, [true, true, true, false]);
    assert.equal(take(bucket, spec, 499).allowed, false);
    assert.equal(take(bucket, spec, 500).allowed, true, "one token back after half a second");
  });

  it("strikes: out past the limit within the window only", () => {
    const policy = { limit: 2, windowMs: 1000 };
    let times: number[] = [];
    const outs = [0, 10, 20].map((t) => {
      const r = strike(times, policy, t);
      times = r.times;
      return r.out;
    });
    assert.deepEqual(outs, [false, false, true]);
    assert.equal(strike([0, 10], policy, 1500).out, false, "old strikes expire");
  });
});
