// Runs before `npm start` and `npm test`: on a fresh checkout, install the locked dependencies first,
// so that those two commands are all a new machine needs.
//
// `npm install` rather than `npm ci`: the lock records only the platform packages the registry served
// when it was written, and `npm ci` refuses such a lock, while `npm install` follows it and skips
// optional platform packages that cannot be had.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync("node_modules/.package-lock.json")) {
  execSync("npm install --no-audit --no-fund", { stdio: "inherit" });
}
