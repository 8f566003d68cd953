/** Types of scripts/build.mjs. */
export const defaultOutdir: string;
export function staleReason(outdir?: string): string | undefined;
export function build(outdir?: string): Promise<{ ms: number; files: number; inputs: number }>;
export function ensureBuilt(): Promise<void>;
