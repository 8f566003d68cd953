// Trims an installed, production-only node_modules for a container image (the Dockerfile runs it after
// `npm prune --omit=dev`): npm installs every Linux build of node-llama-cpp that fits the machine (CPU,
// CUDA, CUDA extension, Vulkan, and arm ones whose package.json also lists x64: ~670 MB), while an image
// needs one. Also drops the llama.cpp source bundle node-llama-cpp carries for building from source, which
// a process that loads prebuilt binaries (`build: "never"`) never reads.
//
//   node scripts/prune-platforms.mjs linux-x64                 # keep @node-llama-cpp/linux-x64 only
//   node scripts/prune-platforms.mjs linux-x64 linux-x64-cuda linux-x64-cuda-ext
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const keep = new Set(process.argv.slice(2));
if (keep.size === 0) {
  process.stderr.write("usage: node scripts/prune-platforms.mjs KEEP... (e.g. linux-x64)\n");
  process.exit(2);
}
const scope = join("node_modules", "@node-llama-cpp");
const removed = [];
for (const name of existsSync(scope) ? readdirSync(scope) : []) {
  if (keep.has(name)) continue;
  rmSync(join(scope, name), { recursive: true, force: true });
  removed.push(`@node-llama-cpp/${name}`);
}
const bundle = join("node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
if (existsSync(bundle)) {
  rmSync(bundle);
  removed.push(bundle);
}
const missing = [...keep].filter((name) => !existsSync(join(scope, name)));
if (missing.length > 0) {
  process.stderr.write(
    `not installed, cannot keep: ${missing.map((m) => `@node-llama-cpp/${m}`).join(", ")}\n`,
  );
  process.exit(1);
}
process.stdout.write(`removed ${removed.length ? removed.join(", ") : "nothing"}\n`);
