// Compiles the CLI (src/cli/main.ts and everything it imports) into dist/ with esbuild, and rebuilds only
// when a source changed: `npm start` and the other commands run the compiled bundle, which Node loads in a
// fraction of the time tsx spends compiling the TypeScript at every start. Tests keep running the sources.
//
//   node scripts/build.mjs          # build when stale (what scripts/run.mjs does before every command)
//   node scripts/build.mjs --force  # build now
//
// dist/cli.js is the entry; the parts it imports lazily (worker, engines, commands) are chunks named by
// their content hash, so a process still running an older build keeps finding its chunks while a new build
// is written. dist/build-info.json, written last, lists every source the bundle was made from with its
// hash: the bundle is stale when one of them changed (or this script did).
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the bundle goes; tests build elsewhere (inside the checkout, so that node_modules resolves). */
export const defaultOutdir = join(root, "dist");
const entry = "src/cli/main.ts";
/** Files that shape the output besides the bundled sources. */
const buildFiles = ["scripts/build.mjs", "tsconfig.json"];

const hashFile = (path) => {
  try {
    return createHash("sha256")
      .update(readFileSync(join(root, path)))
      .digest("base64url");
  } catch {
    return undefined;
  }
};

/** Why dist/ is out of date, or undefined when it matches the sources. */
export function staleReason(dist = defaultOutdir) {
  const infoPath = join(dist, "build-info.json");
  if (!existsSync(infoPath) || !existsSync(join(dist, "cli.js"))) return "not built yet";
  let info;
  try {
    info = JSON.parse(readFileSync(infoPath, "utf8"));
  } catch {
    return "dist/build-info.json is unreadable";
  }
  for (const [path, hash] of Object.entries(info.inputs ?? {})) {
    if (hashFile(path) !== hash) return `${path} changed`;
  }
  for (const file of info.outputs ?? []) {
    if (!existsSync(join(dist, file))) return `dist/${file} is missing`;
  }
  return undefined;
}

/**
 * Modules that find files next to themselves (`new URL(..., import.meta.url)`, `createRequire`) must keep
 * doing so once bundled into dist/: each one's `import.meta.url` is rewritten to its source file's URL,
 * computed from the bundle's own location so that the checkout can move.
 */
const sourceLocation = (dist) => ({
  name: "source-location",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${"/"}node_modules${"/"}`)) return undefined;
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("import.meta.url")) return undefined;
      const fromDist = relative(dist, args.path).split("\\").join("/");
      const url = `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`;
      return { contents: text.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
});

/** Writes a file so that a reader sees the old or the new content, never half of it. */
function writeAtomic(path, contents) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

export async function build(dist = defaultOutdir) {
  const started = performance.now();
  const esbuild = await import("esbuild").catch(() => {
    throw new Error(
      "dist/ is out of date and esbuild is not installed: run `npm ci` (dev dependencies included)",
    );
  });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { cli: entry },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Dependencies load from node_modules as they are (native addons, optional platform packages).
    packages: "external",
    chunkNames: "[name]-[hash]",
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: "warning",
    plugins: [sourceLocation(dist)],
  });
  mkdirSync(dist, { recursive: true });
  const outputs = [];
  // Chunks first, the entry last: a process starting meanwhile finds every chunk its cli.js names.
  const isEntry = (path) => /[/\\]cli\.js(\.map)?$/.test(path);
  const ordered = [...result.outputFiles].sort((a, b) => Number(isEntry(a.path)) - Number(isEntry(b.path)));
  for (const file of ordered) {
    outputs.push(relative(dist, file.path));
    writeAtomic(file.path, file.contents);
  }
  const inputs = {};
  for (const path of [...Object.keys(result.metafile.inputs), ...buildFiles].sort()) {
    if (path.startsWith("node_modules/")) continue;
    inputs[path] = hashFile(path);
  }
  writeAtomic(
    join(dist, "build-info.json"),
    `${JSON.stringify({ builtAt: new Date().toISOString(), inputs, outputs }, null, 1)}\n`,
  );
  pruneOldChunks(dist, new Set(outputs));
  return {
    ms: Math.round(performance.now() - started),
    files: outputs.length,
    inputs: Object.keys(inputs).length,
  };
}

/** Chunks of earlier builds, once no process started in the last hour can still ask for them. */
function pruneOldChunks(dist, current) {
  const hourAgo = Date.now() - 3600_000;
  for (const name of readdirSync(dist)) {
    if (current.has(name) || name === "build-info.json" || !/\.js(\.map)?$/.test(name)) continue;
    const path = join(dist, name);
    if (statSync(path).mtimeMs < hourAgo) unlinkSync(path);
  }
}

/** Builds when stale; says so on stderr (stdout belongs to the command that runs next). */
export async function ensureBuilt() {
  const reason = staleReason();
  if (!reason) return;
  const { ms, inputs } = await build();
  process.stderr.write(`built dist/ (${reason}): ${inputs} sources in ${ms} ms\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (process.argv.includes("--force")) {
    const { ms, files, inputs } = await build();
    process.stdout.write(`built dist/: ${inputs} sources, ${files} files in ${ms} ms\n`);
  } else {
    await ensureBuilt();
  }
}
