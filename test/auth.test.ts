import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { hashPassword, verifyPassword } from "../src/auth/passwords.js";
import { Tokens } from "../src/auth/tokens.js";

const SECRET = "k".repeat(48);

describe("auth: passwords", () => {
  it("hashes with scrypt and a salt, and verifies", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    assert.match(a, /^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.notEqual(a, b, "salted");
    assert.equal(await verifyPassword("correct horse", a), true);
    assert.equal(await verifyPassword("correct horsf", a), false);
    assert.equal(await verifyPassword("x", "plain-text"), false);
  });
});

describe("auth: tokens", () => {
  const tokens = new Tokens(SECRET, 3600);
  const key = new TextEncoder().encode(SECRET);

  it("signs and verifies HS256 tokens with the user's id and name, a unique jti and the expiry", async () => {
    const token = await tokens.sign({ userId: "u1", name: "Ann" });
    const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()) as { alg: string };
    assert.equal(header.alg, "HS256");
    const verdict = await tokens.verify(token);
    assert.ok(verdict.ok);
    const { jti, exp, ...claims } = verdict.claims;
    assert.deepEqual(claims, { userId: "u1", name: "Ann" });
    assert.match(jti, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(exp - (Date.now() / 1000 + 3600)) < 5);
    const again = await tokens.verify(await tokens.sign({ userId: "u1", name: "Ann" }));
    assert.ok(again.ok && again.claims.jti !== jti);
  });

  it("refuses expired tokens as expired", async () => {
    const token = await tokens.sign({ userId: "u1", name: "Ann" }, Math.floor(Date.now() / 1000) - 7200, 3600);
    assert.deepEqual(await tokens.verify(token), { ok: false, reason: "expired" });
  });

  it("refuses tokens signed with another key, another algorithm, or none", async () => {
    const other = await new Tokens("o".repeat(48), 3600).sign({ userId: "u1", name: "Ann" });
    const hs512 = await new SignJWT({ name: "Ann" })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject("u1")
      .setIssuer("realmgate")
      .setExpirationTime("1h")
      .sign(key);
    const body = Buffer.from(
      JSON.stringify({ sub: "u1", name: "Ann", iss: "realmgate", exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString("base64url");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${body}.`;
    const noExp = await new SignJWT({ name: "Ann" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u1")
      .setIssuer("realmgate")
      .sign(key);
    for (const token of [other, hs512, none, noExp, "garbage"]) {
      assert.deepEqual(await tokens.verify(token), { ok: false, reason: "invalid" }, token);
    }
  });
});
