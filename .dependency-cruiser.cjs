// The project's dependency rule, checked by `npm test` (scripts/test.sh runs `depcruise`).
//
// Folders of src/ form one order, lowest first; a folder may import only itself and folders before it, so
// no two folders can depend on each other (no folder cycles). adapters/ sits above the core it uses, and
// only the composition root (src/app/) and what runs it (src/cli/) sit above adapters. Production code never
// imports test/ or bench/.
const ORDER = [
  "src/errors.ts",
  "src/security/",
  "src/config.ts",
  "src/logger.ts",
  "src/metrics.ts",
  "src/redis/",
  "src/http/",
  "src/delivery/",
  "src/tiny-model/",
  "src/inference/",
  "src/knowledge/",
  "src/conversation/",
  "src/answering/",
  "src/handoff/",
  "src/insights/",
  "src/privacy/",
  "src/server/",
  "src/admin/",
  "adapters/",
  "src/app/",
  "src/cli/",
];

const literal = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const pathOf = (entry) => `^${literal(entry)}${entry.endsWith("/") ? "" : "$"}`;

const layering = ORDER.slice(0, -1).map((entry, i) => ({
  name: `order:${entry}`,
  comment: `${entry} may import only what comes before it in .dependency-cruiser.cjs's ORDER`,
  severity: "error",
  from: { path: pathOf(entry) },
  to: { path: ORDER.slice(i + 1).map(pathOf) },
}));

module.exports = {
  forbidden: [
    ...layering,
    {
      name: "only-the-composition-root-imports-adapters",
      comment: "src/app/ wires channels; no other core code may know one",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/app/" },
      to: { path: "^adapters/" },
    },
    {
      name: "channels-stay-apart",
      comment: "a channel adapter never imports another channel's folder",
      severity: "error",
      from: { path: "^adapters/([^/]+)/" },
      to: { path: "^adapters/[^/]+/", pathNot: "^adapters/$1/" },
    },
    {
      name: "production-never-imports-tests",
      severity: "error",
      from: { path: "^(src|adapters)/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "no-file-cycles",
      severity: "error",
      from: { path: "^(src|adapters)/" },
      to: { circular: true },
    },
    {
      name: "no-unresolvable-imports",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|\\.cache|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // conditionNames: packages that expose subpaths through "exports" (@orama/stemmers/french) resolve.
    enhancedResolveOptions: {
      extensions: [".ts", ".js", ".mjs", ".json"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
