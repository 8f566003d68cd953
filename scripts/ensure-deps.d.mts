/** Types of scripts/ensure-deps.mjs (plain JavaScript: it runs before anything is installed). */
export function installProblem(root?: string): string | undefined;
export function ensureDeps(root?: string): void;
