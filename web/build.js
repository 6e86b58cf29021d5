/**
 * Builds the browser client (web/) into dist/web/: one bundled, minified script and the page.
 * Run by `npm run build` (so by `npm start`) and by test/play.test.ts. Plain JavaScript so that
 * it runs with nothing but esbuild, which `npm install` brings as a dependency.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const defaultOutDir = join(here, "..", "dist", "web");

/**
 * Bundles web/main.ts and copies web/index.html into `outDir`.
 * @param {{ outDir?: string, minify?: boolean }} [options]
 * @returns {Promise<{ outDir: string, bytes: number }>}
 */
export async function buildWeb({ outDir = defaultOutDir, minify = true } = {}) {
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(here, "main.ts")],
    outfile: join(outDir, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
    // The SDK's WebSocket transport falls back to the `ws` package outside browsers; in a browser
    // it uses the global WebSocket, so `ws` is replaced by a stub.
    alias: { ws: join(here, "ws-stub.js") },
    tsconfig: join(here, "tsconfig.json"),
  });
  await copyFile(join(here, "index.html"), join(outDir, "index.html"));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  return { outDir, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outDir, bytes } = await buildWeb();
  process.stdout.write(`web client built into ${outDir} (${Math.round(bytes / 1024)} KB with source map)\n`);
}
