/**
 * Ties each room kind's message table to docs/PROTOCOL.md: every message a kind accepts is
 * documented in its section with exactly the fields its shape takes, and every documented client
 * message has a row in the table.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { policy } from "../src/content/policy.js";
import { KINDS } from "../src/rooms/index.js";

const doc = readFileSync(new URL("../docs/PROTOCOL.md", import.meta.url), "utf8");

/** The bullets of a "Client messages" list, up to the end of its section: type → field names. */
function bullets(section: string, into: Map<string, string[]>): void {
  for (const m of section.matchAll(/^- `([a-z_]+) \{([^}]*)\}`/gm))
    into.set(
      m[1],
      m[2].split(",").map((f) => f.trim().replace(/\?$/, "")),
    );
}

/**
 * The client messages documented for a kind: the list of its own section, and the lists that
 * later sections add to it ("Client messages (`world`)", for trade).
 */
function documentedMessages(kind: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const start = doc.indexOf(`### 2.`, doc.indexOf(`\`${kind}\`:`) - 10);
  const section = doc.slice(start, doc.indexOf("\n### ", start + 1));
  bullets(section.slice(section.indexOf("Client messages:")), found);
  for (
    let at = doc.indexOf(`Client messages (\`${kind}\`)`);
    at >= 0;
    at = doc.indexOf(`Client messages (\`${kind}\`)`, at + 1)
  )
    bullets(doc.slice(at, doc.indexOf("\n### ", at)), found);
  return found;
}

describe("message tables", () => {
  for (const kind of KINDS) {
    it(`${kind.name}: every message of the table is documented with its fields, and nothing more`, () => {
      const documented = documentedMessages(kind.name);
      assert.ok(documented.size > 0, `docs/PROTOCOL.md has a client message list for ${kind.name}`);
      assert.deepEqual([...documented.keys()].sort(), Object.keys(kind.messages).sort());
      for (const [type, spec] of Object.entries(kind.messages)) {
        const shape = (spec.schema as z.ZodObject).shape;
        assert.deepEqual(Object.keys(shape).sort(), documented.get(type)!.sort(), `fields of ${type}`);
        assert.ok(spec.rate in policy.rates, `${type} has a rate class`);
      }
    });
  }
});
