/**
 * Ties the codes in src/protocol/codes.ts to the project's protocol page: a code that a client
 * can receive must be documented, and a documented code must exist.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CloseCodes, CloseReason, HttpErrorCode, JoinErrorCode, RejectCode } from "../src/protocol/codes.js";

const doc = readFileSync(new URL("../docs/PROTOCOL.md", import.meta.url), "utf8");
const documented = new Set([...doc.matchAll(/`([a-z_]+\/[a-z_]+)`/g)].map((m) => m[1]));

describe("protocol codes", () => {
  it("documents every reject, HTTP and join code", () => {
    for (const code of [
      ...Object.values(RejectCode),
      ...Object.values(HttpErrorCode),
      ...Object.values(JoinErrorCode),
    ]) {
      assert.ok(documented.has(code), `${code} is missing from docs/PROTOCOL.md`);
    }
  });

  it("implements every reject code of the contract's table", () => {
    const table = doc.slice(doc.indexOf("| code | when |"), doc.indexOf("A client that keeps flooding"));
    const inTable = [...table.matchAll(/`([a-z_]+\/[a-z_]+)`/g)].map((m) => m[1]);
    assert.ok(inTable.length >= 20);
    const known = new Set<string>(Object.values(RejectCode));
    for (const code of inTable) assert.ok(known.has(code), `${code} is documented but not in RejectCode`);
  });

  it("documents every close code and close reason", () => {
    for (const code of Object.values(CloseCodes)) assert.match(doc, new RegExp(`\\| ${code} \\|`));
    for (const reason of Object.values(CloseReason))
      assert.ok(documented.has(reason), `close reason ${reason} is missing from docs/PROTOCOL.md`);
  });

  it("keeps the contract part identical to the shared one (skipped, and said so, where ../shared is absent)", function () {
    let original: string;
    try {
      original = readFileSync(new URL("../../shared/PROTOCOL.md", import.meta.url), "utf8");
    } catch {
      console.log("      (no ../shared/PROTOCOL.md beside the project: contract comparison skipped)");
      return this.skip();
    }
    assert.ok(doc.startsWith(original.trimEnd()), "docs/PROTOCOL.md must start with the shared contract, unchanged");
  });
});
