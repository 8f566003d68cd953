import { MemoryContextStore } from "../../../src/conversation/memory-context-store.ts";
import { contextStoreContract } from "../../contract/context-store-contract.ts";

contextStoreContract("in memory", async () => {
  const store = new MemoryContextStore(3);
  return {
    store,
    recordKey: (_ref, turnId) => `record:${turnId}`,
    record: async (key, field, turn) => {
      const fields = store.records.get(key) ?? new Map<string, string>();
      fields.set(field, JSON.stringify(turn));
      store.records.set(key, fields);
    },
  };
});
