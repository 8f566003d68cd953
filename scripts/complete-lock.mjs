// Makes package-lock.json complete enough for `npm ci`, and checks that it is (`--check`, run by the tests).
//
// Why: npm records every optional platform package of a dependency in the lock (node-llama-cpp lists one
// per OS, CPU and GPU), each with its os/cpu fields, so that `npm ci` on any machine can skip the ones that
// do not fit. The registry mirror these machines use does not serve some of them (macOS and Windows
// builds of node-llama-cpp), so an `npm install` here writes a lock without them, and `npm ci` then refuses
// it ("Missing: @node-llama-cpp/mac-arm64-metal@ from lock file"). This script adds each missing entry with
// the exact version its parent pins and the os/cpu/libc its published package.json declares; `npm ci`
// skips them on Linux without fetching anything, and fetches them by name and version on a Mac or Windows
// machine. npm keeps entries it finds in the lock on later installs, so this is needed only after the lock
// is written from scratch or a dependency adds platform packages: `npm run lock` does both steps.
//
//   node scripts/complete-lock.mjs            # add what is missing to ./package-lock.json
//   node scripts/complete-lock.mjs --check [LOCK]   # exit 1, listing what `npm ci` would miss
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * os/cpu/libc as published in each package's own package.json (withcatai/node-llama-cpp,
 * packages/@node-llama-cpp/<name>/package.json). A missing optional package not listed here stops the
 * script with its name: add its fields from its package.json.
 */
const PLATFORMS = {
  "@node-llama-cpp/linux-riscv64": { os: ["linux"], cpu: ["riscv64"], libc: ["glibc"] },
  "@node-llama-cpp/mac-arm64-metal": { os: ["darwin"], cpu: ["arm64", "x64"] },
  "@node-llama-cpp/mac-x64": { os: ["darwin"], cpu: ["x64"] },
  "@node-llama-cpp/win-arm64": { os: ["win32"], cpu: ["arm64", "x64"] },
  "@node-llama-cpp/win-x64": { os: ["win32"], cpu: ["x64"] },
  "@node-llama-cpp/win-x64-cuda": { os: ["win32"], cpu: ["x64"] },
  "@node-llama-cpp/win-x64-cuda-ext": { os: ["win32"], cpu: ["x64"] },
  "@node-llama-cpp/win-x64-vulkan": { os: ["win32"], cpu: ["x64"] },
};

/** Where Node (and npm) would find `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveIn(packages, from, name) {
  let dir = from;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === "") return undefined;
    const at = dir.lastIndexOf("/node_modules/");
    dir = at < 0 ? "" : dir.slice(0, at);
  }
}

/** Every dependency edge of the lock that leads to no entry: what `npm ci` reports as missing. */
export function missingEntries(lock) {
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [path, entry] of Object.entries(packages)) {
    if (entry.link) continue;
    const edges = [
      ...Object.entries(entry.dependencies ?? {}).map(([name, spec]) => ({ name, spec, optional: false })),
      ...Object.entries(entry.optionalDependencies ?? {}).map(([name, spec]) => ({
        name,
        spec,
        optional: true,
      })),
      // npm installs peers too, unless their meta marks them optional.
      ...Object.entries(entry.peerDependencies ?? {})
        .filter(([name]) => !entry.peerDependenciesMeta?.[name]?.optional)
        .map(([name, spec]) => ({ name, spec, optional: false })),
    ];
    // The root's devDependencies are installed too (npm ci installs them unless told to omit dev).
    if (path === "") {
      for (const [name, spec] of Object.entries(entry.devDependencies ?? {})) {
        edges.push({ name, spec, optional: false });
      }
    }
    for (const edge of edges) {
      if (!resolveIn(packages, path, edge.name)) missing.push({ from: path, ...edge });
    }
  }
  return missing;
}

/** Adds an entry for every missing optional platform package; throws for anything it cannot add. */
export function completeLock(lock) {
  const missing = missingEntries(lock);
  const added = [];
  for (const m of missing) {
    if (resolveIn(lock.packages, m.from, m.name)) continue; // added for an earlier edge
    const platform = PLATFORMS[m.name];
    if (!m.optional || !platform) {
      throw new Error(
        `${m.name} (${m.spec}, needed by ${m.from || "the project"}) is missing from the lock and is not a ` +
          "known optional platform package: run `npm install`, or add its os/cpu to scripts/complete-lock.mjs",
      );
    }
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(m.spec)) {
      throw new Error(
        `${m.name}: ${m.from} asks for "${m.spec}", not an exact version; cannot pin it offline`,
      );
    }
    const hoisted = `node_modules/${m.name}`;
    const at = lock.packages[hoisted] ? `${m.from}/node_modules/${m.name}` : hoisted;
    // Fields in the order npm writes them, so that a later `npm install` leaves the file as it is.
    const { os, cpu, libc } = platform;
    lock.packages[at] = { version: m.spec, cpu, ...(libc ? { libc } : {}), optional: true, os };
    added.push(`${at}@${m.spec}`);
  }
  // npm writes entries sorted by path, the root first; keep the file as npm would.
  const sorted = {};
  for (const key of Object.keys(lock.packages).sort((a, b) =>
    a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1,
  )) {
    sorted[key] = lock.packages[key];
  }
  lock.packages = sorted;
  return added;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const check = process.argv.includes("--check");
  const path = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "package-lock.json";
  const lock = JSON.parse(readFileSync(path, "utf8"));
  if (check) {
    const missing = missingEntries(lock);
    for (const m of missing) {
      process.stderr.write(
        `missing from ${path}: ${m.name}@${m.spec} (needed by ${m.from || "the project"})\n`,
      );
    }
    if (missing.length > 0) {
      process.stderr.write("`npm ci` refuses this lock: run `npm run lock`\n");
      process.exit(1);
    }
  } else {
    const added = completeLock(lock);
    writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
    process.stdout.write(
      added.length ? `added to ${path}:\n  ${added.join("\n  ")}\n` : `${path} is complete\n`,
    );
  }
}
