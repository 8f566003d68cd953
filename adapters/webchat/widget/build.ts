import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));

/** Where `npm run build:widget` writes the bundle; the gateway serves it from here when esbuild is absent. */
export const widgetDistPath = join(here, "dist", "widget.js");

/** The gzipped size the bundle must stay under (checked by the tests). */
export const WIDGET_GZIP_BUDGET_BYTES = 30 * 1024;

export interface WidgetBundle {
  code: string;
  rawBytes: number;
  gzipBytes: number;
}

/**
 * Bundles the widget's TypeScript into one self-contained, minified IIFE (a classic script, so that it
 * works with a plain `<script async>` and sets document.currentScript).
 */
export async function buildWidget({ minify = true }: { minify?: boolean } = {}): Promise<WidgetBundle> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [join(here, "main.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["chrome100", "firefox100", "safari15"],
    minify,
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text ?? "";
  return { code, rawBytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bundle = await buildWidget();
  mkdirSync(dirname(widgetDistPath), { recursive: true });
  writeFileSync(widgetDistPath, bundle.code);
  console.log(
    `widget.js: ${bundle.rawBytes} bytes raw, ${bundle.gzipBytes} bytes gzipped (budget ${WIDGET_GZIP_BUDGET_BYTES})`,
  );
  if (bundle.gzipBytes > WIDGET_GZIP_BUDGET_BYTES) process.exitCode = 1;
}
