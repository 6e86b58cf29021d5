/**
 * The browser client at /play: the page and script that `npm run build` bundles from web/ into
 * dist/web/, served as static files. Without a build there is a plain page saying how to make one.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import express, { type Router } from "express";

/** dist/web/ at the project root, whether this module runs from src/ (tsx) or dist/src/ (built). */
export function defaultPlayDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, "dist", "web");
}

export function playPage(dir = defaultPlayDir()): Router {
  const router = express.Router();
  router.use("/play", express.static(dir, { index: "index.html", maxAge: 0 }));
  router.get(["/play", "/play/"], (_req, res) => {
    res
      .status(503)
      .type("text/plain")
      .send("The browser client is not built: run `npm run build` (npm start does it), then reload.\n");
  });
  return router;
}
