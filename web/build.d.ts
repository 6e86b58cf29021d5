/** Where `buildWeb()` writes by default: dist/web/ at the project root. */
export declare const defaultOutDir: string;
/** Bundles web/main.ts and copies web/index.html into `outDir` (default `dist/web/`). */
export declare function buildWeb(options?: {
  outDir?: string;
  minify?: boolean;
}): Promise<{ outDir: string; bytes: number }>;
