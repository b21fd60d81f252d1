/**
 * The layer rules of src/ (README "Code map"). Lower layers never import higher ones:
 *
 *   lib/          pure helpers                      imports nothing else of ours
 *   model/        types, errors, options, events    lib
 *   coordination/ coordinators                      lib, model
 *   session/      the core: login, refresh, logout  lib, model, coordination
 *   *.ts (top)    public entry points               everything above
 *   axios/        the axios interceptors            everything above but next/ (optional peer)
 *   next/         the Next.js layer                 everything above
 *   express/      the Express layer                 everything above but next/, axios/ (optional peer)
 *   next/client/  browser code                      model only (no server code in the bundle)
 *
 * `npm run lint:deps` fails on any import circle and on any import against these rules.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-only-${allowed.join("-") || "itself"}`,
  severity: "error",
  comment: `src/${name}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(", ") : "its own files"} (besides packages).`,
  from: { path: `^src/${name}/` },
  to: {
    path: "^src/",
    pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`)],
  },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circles, type-only imports included.",
      from: {},
      to: { circular: true },
    },
    layer("lib", []),
    layer("model", ["lib"]),
    layer("coordination", ["lib", "model"]),
    layer("session", ["lib", "model", "coordination"]),
    {
      name: "entry-points-below-next",
      severity: "error",
      comment: "The public entry points (src/*.ts) never import the Next.js layer.",
      from: { path: "^src/[^/]+\\.ts$" },
      to: { path: "^src/next/" },
    },
    {
      name: "entry-points-below-axios",
      severity: "error",
      comment:
        "The public entry points (src/*.ts) never import the axios layer (axios is optional).",
      from: { path: "^src/[^/]+\\.ts$" },
      to: { path: "^src/axios/" },
    },
    {
      name: "axios-below-next",
      severity: "error",
      comment: "src/axios/ works without Next.js: it never imports src/next/.",
      from: { path: "^src/axios/" },
      to: { path: "^src/next/" },
    },
    {
      name: "axios-types-only",
      severity: "error",
      comment: "axios is an optional peer: src/ imports its types only, never the module.",
      from: { path: "^src/" },
      to: { path: "node_modules/axios/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "entry-points-below-express",
      severity: "error",
      comment:
        "The public entry points (src/*.ts) never import the Express layer (express is optional).",
      from: { path: "^src/[^/]+\\.ts$" },
      to: { path: "^src/express/" },
    },
    {
      name: "express-below-next-and-axios",
      severity: "error",
      comment:
        "src/express/ works without Next.js and axios: it never imports src/next/ or src/axios/.",
      from: { path: "^src/express/" },
      to: { path: "^src/(next|axios)/" },
    },
    {
      name: "next-and-axios-beside-express",
      severity: "error",
      comment: "src/next/ and src/axios/ never import the Express layer (express is optional).",
      from: { path: "^src/(next|axios)/" },
      to: { path: "^src/express/" },
    },
    {
      name: "express-types-only",
      severity: "error",
      comment: "express and @auth/express are optional peers: src/ imports their types only.",
      from: { path: "^src/" },
      to: { path: "node_modules/(@auth/)?express/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "client-imports-only-model",
      severity: "error",
      comment: "src/next/client/ is bundled for the browser: it may import only src/model/.",
      from: { path: "^src/next/client/" },
      to: { path: "^src/", pathNot: ["^src/next/client/", "^src/model/"] },
    },
    {
      name: "src-never-imports-tests",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|e2e|bench|soak|scripts|example-app)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js"] },
  },
};
