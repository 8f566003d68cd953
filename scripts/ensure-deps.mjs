// Installs the locked dependencies when this checkout lacks them, so that every npm script works on a
// fresh clone (`npm start`, `npm test`, `npm run kb`, ...: each runs this first).
//
// `npm ci` installs exactly package-lock.json and never rewrites it (scripts/complete-lock.mjs keeps the
// lock complete enough for it). It runs when node_modules is missing or was installed from another lock
// (after a pull that changed dependencies); otherwise this costs one read of two JSON files. Only Node's
// own modules are imported here: nothing else exists yet on a fresh clone.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Why node_modules does not match package-lock.json, or undefined when it does. npm writes what it
 * installed to node_modules/.package-lock.json; optional packages may be absent (another platform's).
 */
export function installProblem(root = ".") {
  const hiddenPath = join(root, "node_modules", ".package-lock.json");
  if (!existsSync(hiddenPath)) return "dependencies are not installed";
  const locked = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")).packages ?? {};
  const installed = JSON.parse(readFileSync(hiddenPath, "utf8")).packages ?? {};
  for (const [path, entry] of Object.entries(locked)) {
    if (path === "" || entry.link) continue;
    const have = installed[path];
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return `${path.replace(/^.*node_modules\//, "")} is not installed`;
    }
    if (have.version !== entry.version) {
      return `${path.replace(/^.*node_modules\//, "")} ${have.version} is installed, the lock says ${entry.version}`;
    }
  }
  return undefined;
}

export function ensureDeps(root = ".") {
  const problem = installProblem(root);
  if (!problem) return;
  process.stderr.write(`${problem}: installing the locked dependencies (npm ci)\n`);
  // npm's own output goes to stderr so that a command's stdout (e.g. `kb stats --json`) stays clean.
  // --ignore-scripts: nothing here needs an install script (node-llama-cpp loads its prebuilt binaries,
  // esbuild and msgpackr-extract find theirs), and npm 11 skips unapproved ones anyway while npm 10 would
  // run node-llama-cpp's, which may try to build llama.cpp: the same install on every npm.
  execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: ["ignore", 2, 2],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) ensureDeps();
