// The package ships no types; only what the library comparison calls.
declare module "wink-bm25-text-search" {
  interface Engine {
    defineConfig(config: {
      fldWeights: Record<string, number>;
      bm25Params?: Record<string, number>;
    }): boolean;
    definePrepTasks(tasks: ((text: string) => string[])[]): number;
    addDoc(doc: Record<string, string>, id: string | number): number;
    consolidate(): boolean;
    search(text: string, limit?: number): [string | number, number][];
  }
  function bm25(): Engine;
  export = bm25;
}
