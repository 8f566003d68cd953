// What `npm start` and `npm run kb|report|users|model:tiny` run: install the locked dependencies when this
// checkout lacks them, rebuild dist/ when a source changed, then run the compiled CLI in this process
// (`node scripts/run.mjs start gateway` hands `start gateway` to src/cli/main.ts as its arguments).
// Containers skip this and run `node dist/cli.js` directly: their image was installed and built once.
import { ensureBuilt } from "./build.mjs";
import { ensureDeps } from "./ensure-deps.mjs";

ensureDeps();
await ensureBuilt();
// Stack traces of unexpected errors then point at src/, not at the bundle.
process.setSourceMapsEnabled(true);
await import("../dist/cli.js");
