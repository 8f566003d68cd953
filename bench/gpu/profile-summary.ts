import { readFileSync } from "node:fs";

/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self time by function, top 25, so that a profile
 * taken on the GPU machine can be read from its log. `profile-summary.ts <file.cpuprofile>`
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile>");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const frame = byId.get(id)?.callFrame;
  const url = frame?.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\//, "") ?? "";
  const key = `${frame?.functionName || "(anonymous)"} ${url}:${(frame?.lineNumber ?? 0) + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(
    `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
  );
}
