/** Types of scripts/complete-lock.mjs (plain JavaScript: it must run before anything is installed). */
export interface LockEntry {
  version?: string;
  link?: boolean;
  optional?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
export interface Lock {
  packages: Record<string, LockEntry>;
}
export interface MissingEntry {
  from: string;
  name: string;
  spec: string;
  optional: boolean;
}
export function missingEntries(lock: Lock): MissingEntry[];
export function completeLock(lock: Lock): string[];
