import assert from "node:assert/strict";
import { type Edge, graphOf, type Layer, layerOf, layerProblems, type ModuleGraph } from "./layers.ts";

const LAYERS: readonly Layer[] = [
  { name: "top", paths: ["main.ts", "src/cli/"], http: true },
  { name: "middle", paths: ["src/services/"], http: false },
  { name: "bottom", paths: ["src/db/", "src/errors.ts"], http: false },
];

function graph(...edges: [string, string, boolean?][]): ModuleGraph {
  const list: Edge[] = edges.map(([from, to, typeOnly = false]) => ({ from, to, typeOnly }));
  return { modules: new Set(list.flatMap((e) => [e.from, e.to])), edges: list };
}

const check = (g: ModuleGraph, httpFree: string[] = []) => layerProblems(g, { layers: LAYERS, httpFree });

Deno.test("layerOf() matches folders by prefix and files exactly", () => {
  assert.equal(layerOf("src/db/users_repo.ts", LAYERS)?.name, "bottom");
  assert.equal(layerOf("src/errors.ts", LAYERS)?.name, "bottom");
  assert.equal(layerOf("src/errors_test.ts", LAYERS), undefined);
  assert.equal(layerOf("main.ts", LAYERS)?.name, "top");
});

Deno.test("layerProblems() accepts imports down and within a layer", () => {
  assert.deepEqual(
    check(graph(
      ["main.ts", "src/services/a.ts"],
      ["src/services/a.ts", "src/services/b.ts"],
      ["src/services/b.ts", "src/db/x.ts"],
      ["src/db/x.ts", "src/errors.ts"],
      ["src/db/x.ts", "npm:/zod@4.6.7"],
    )),
    [],
  );
});

Deno.test("layerProblems() names a back-edge, type-only imports included", () => {
  assert.deepEqual(check(graph(["src/db/x.ts", "src/services/a.ts"])), [
    "src/db/x.ts (bottom) imports src/services/a.ts (middle): a back-edge; middle is above bottom",
  ]);
  assert.deepEqual(check(graph(["src/errors.ts", "src/cli/admin.ts", true])), [
    "src/errors.ts (bottom) imports src/cli/admin.ts (top): a back-edge; top is above bottom",
  ]);
});

Deno.test("layerProblems() names a source module that belongs to no layer", () => {
  assert.deepEqual(check(graph(["main.ts", "src/stray.ts"])), [
    "src/stray.ts belongs to no layer: add it to LAYERS in tools/layers.ts",
  ]);
});

Deno.test("layerProblems() finds an import cycle inside one layer", () => {
  const problems = check(graph(
    ["src/services/a.ts", "src/services/b.ts"],
    ["src/services/b.ts", "src/services/c.ts"],
    ["src/services/c.ts", "src/services/a.ts"],
  ));
  assert.deepEqual(problems, [
    "import cycle: src/services/a.ts → src/services/b.ts → src/services/c.ts → src/services/a.ts",
  ]);
});

Deno.test("layerProblems() refuses Hono below the HTTP layers, and at run time in an HTTP-free entry point", () => {
  const g = graph(
    ["src/cli/admin.ts", "src/services/a.ts"],
    ["src/services/a.ts", "src/db/x.ts", true],
    ["src/db/x.ts", "npm:/hono@4.13.19/http-exception"],
    ["main.ts", "npm:/@hono/zod-validator@0.9.1"],
  );
  assert.deepEqual(check(g, ["src/cli/admin.ts"]), [
    "src/db/x.ts (bottom) reaches Hono: src/db/x.ts → npm:/hono@4.13.19/http-exception",
    "src/services/a.ts (middle) reaches Hono: src/services/a.ts → src/db/x.ts → npm:/hono@4.13.19/http-exception",
  ]);
  // The same graph with a runtime edge: now the CLI loads Hono when it runs.
  const runtime = graph(
    ["src/cli/admin.ts", "src/services/a.ts"],
    ["src/services/a.ts", "npm:/hono@4.13.19"],
  );
  assert.deepEqual(check(runtime, ["src/cli/admin.ts"]), [
    "src/services/a.ts (middle) reaches Hono: src/services/a.ts → npm:/hono@4.13.19",
    "src/cli/admin.ts loads Hono at run time: src/cli/admin.ts → src/services/a.ts → npm:/hono@4.13.19",
  ]);
});

Deno.test("graphOf() reads deno info output: relative paths, redirects, type-only edges", () => {
  const root = "file:///p/";
  const g = graphOf([{
    modules: [
      {
        specifier: "file:///p/src/db/x.ts",
        dependencies: [
          { type: { specifier: "file:///p/src/errors.ts" } },
          { code: { specifier: "npm:zod@4.6.7" }, type: { specifier: "npm:zod@4.6.7" } },
        ],
      },
      { specifier: "file:///p/src/errors.ts" },
    ],
    redirects: { "npm:zod@4.6.7": "npm:/zod@4.6.7" },
  }], root);
  assert.deepEqual([...g.modules].sort(), ["src/db/x.ts", "src/errors.ts"]);
  assert.deepEqual(g.edges, [
    { from: "src/db/x.ts", to: "src/errors.ts", typeOnly: true },
    { from: "src/db/x.ts", to: "npm:/zod@4.6.7", typeOnly: false },
  ]);
});
