import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/**
 * Prints the package folders (relative to the repository root) that `node-llama-cpp` needs at run time,
 * following `dependencies` the way Node resolves them (nested node_modules first, then upwards), plus
 * the CUDA binary package. prepare.sh packs exactly these for the GPU machine, which has no npm.
 */
const root = process.cwd();
const wanted = ["node-llama-cpp", "@node-llama-cpp/linux-x64-cuda"];

function resolvePackage(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const seen = new Set<string>();
const queue: [string, string][] = wanted.map((name) => [name, root]);
while (queue.length > 0) {
  const [name, from] = queue.shift() as [string, string];
  const dir = resolvePackage(name, from);
  if (dir === undefined || seen.has(dir)) continue;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push([dep, dir]);
}
for (const dir of [...seen].sort()) console.log(relative(root, dir));
