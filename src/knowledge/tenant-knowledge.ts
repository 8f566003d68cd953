import { isAbsolute, relative, resolve } from "node:path";
import {
  createKnowledgeBase,
  type KnowledgeBase,
  type KnowledgeBaseOptions,
  type KnowledgeStats,
  type ReloadInfo,
} from "./knowledge-base.ts";
import type { RankedChunk, Ranking, SearchOptions } from "./knowledge-index.ts";
import type { Retrieval, RetrieveOptions } from "./retriever.ts";

/** The knowledge settings tenants are resolved from (Config["knowledge"] fits). */
export interface TenantFolders {
  /** The default folder (KNOWLEDGE_DIR). */
  dir: string;
  /** Tenant key (`id` or `channel:id`) -> folder. */
  tenants: Readonly<Record<string, string>>;
}

/** The subfolders of `dir` that tenants hold: the default folder leaves them out. */
function claimedInside(dir: string, tenants: Readonly<Record<string, string>>): string[] {
  const root = resolve(dir);
  const inside = new Set<string>();
  for (const folder of Object.values(tenants)) {
    const rel = relative(root, resolve(folder));
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) inside.add(rel.split("\\").join("/"));
  }
  return [...inside];
}

/** The tenant key a message's (channel, tenant) maps to, if any: `channel:id` first, then `id`. */
export function tenantKeyOf(
  tenants: Readonly<Record<string, string>>,
  tenant: string | undefined,
  channel?: string,
): string | undefined {
  if (!tenant) return undefined;
  if (channel && tenants[`${channel}:${tenant}`] !== undefined) return `${channel}:${tenant}`;
  if (tenants[tenant] !== undefined) return tenant;
  // `kb --tenant shop` for a key written `webchat:shop`.
  if (!channel) return Object.keys(tenants).find((k) => k.endsWith(`:${tenant}`));
  return undefined;
}

/**
 * The folder a tenant's questions are answered from, and what it leaves out: a tenant with a folder
 * of its own gets that folder whole; every other tenant gets the default folder without the
 * subfolders that tenants hold.
 */
export function tenantFolder(
  config: TenantFolders,
  tenant?: string,
  channel?: string,
): { dir: string; exclude: string[] } {
  const key = tenantKeyOf(config.tenants, tenant, channel);
  const own = key === undefined ? undefined : config.tenants[key];
  if (own !== undefined) return { dir: own, exclude: [] };
  return { dir: config.dir, exclude: claimedInside(config.dir, config.tenants) };
}

export type TenantKnowledgeOptions = Omit<KnowledgeBaseOptions, "dir" | "exclude"> & TenantFolders;

/**
 * One KnowledgeBase per distinct folder (tenants naming the same folder share it), and a router that
 * answers each question from its tenant's folder only. Retrieval never crosses tenants: a mapped
 * tenant sees its folder alone, and nobody else sees a folder a tenant holds inside the default one.
 * Ranking, stats and reload events without a tenant are the default folder's (admin search, health).
 */
class TenantKnowledge implements KnowledgeBase {
  readonly #config: TenantFolders;
  readonly #default: KnowledgeBase;
  readonly #byFolder: ReadonlyMap<string, KnowledgeBase>;

  constructor(config: TenantFolders, byDefault: KnowledgeBase, byFolder: ReadonlyMap<string, KnowledgeBase>) {
    this.#config = config;
    this.#default = byDefault;
    this.#byFolder = byFolder;
  }

  #baseFor(tenant?: string, channel?: string): KnowledgeBase {
    const key = tenantKeyOf(this.#config.tenants, tenant, channel);
    const folder = key === undefined ? undefined : this.#config.tenants[key];
    return (folder !== undefined && this.#byFolder.get(resolve(folder))) || this.#default;
  }

  get ready(): boolean {
    return this.#default.ready;
  }

  retrieve(query: string, options: RetrieveOptions): Promise<Retrieval> {
    return this.#baseFor(options.tenant, options.channel).retrieve(query, options);
  }

  search(query: string, limit?: number, options?: Pick<SearchOptions, "lang">): Promise<RankedChunk[]> {
    return this.#default.search(query, limit, options);
  }

  rank(query: string, options?: SearchOptions): Promise<Ranking> {
    return this.#default.rank(query, options);
  }

  paths(): string[] {
    return this.#default.paths();
  }

  stats(): KnowledgeStats {
    const tenants = Object.fromEntries(
      Object.entries(this.#config.tenants).map(([key, dir]) => {
        const s = this.#byFolder.get(resolve(dir))?.stats();
        return [key, { dir, exists: s?.exists ?? false, files: s?.files ?? 0, chunks: s?.chunks ?? 0 }];
      }),
    );
    return { ...this.#default.stats(), tenants };
  }

  async reload(): Promise<ReloadInfo> {
    const [info] = await Promise.all([
      this.#default.reload(),
      ...[...this.#byFolder.values()].map((b) => b.reload()),
    ]);
    return info;
  }

  on(event: "reload", listener: (info: ReloadInfo) => void): this {
    this.#default.on(event, listener);
    return this;
  }

  off(event: "reload", listener: (info: ReloadInfo) => void): this {
    this.#default.off(event, listener);
    return this;
  }

  async close(): Promise<void> {
    await Promise.all([this.#default.close(), ...[...this.#byFolder.values()].map((b) => b.close())]);
  }
}

/**
 * The knowledge of every tenant: the default folder (less the subfolders tenants hold) and one base
 * per tenant folder. Without tenants it is the default folder's base itself.
 */
export async function createTenantKnowledge(options: TenantKnowledgeOptions): Promise<KnowledgeBase> {
  const { tenants, dir, ...rest } = options;
  const exclude = claimedInside(dir, tenants);
  const byDefault = await createKnowledgeBase({ ...rest, dir, exclude });
  if (Object.keys(tenants).length === 0) return byDefault;
  const byFolder = new Map<string, KnowledgeBase>();
  for (const folder of new Set(Object.values(tenants).map((f) => resolve(f)))) {
    // Each base has its own embedder (an embedding model is loaded per folder, word vectors are shared).
    byFolder.set(folder, await createKnowledgeBase({ ...rest, dir: folder }));
  }
  return new TenantKnowledge({ dir, tenants }, byDefault, byFolder);
}
