/**
 * The dependency rule of `tools/layers.ts`, applied to the real module graph
 * (`deno info --json` of every entry point): no import goes up a layer, no
 * import cycle, and Hono only in the HTTP layers — the services, the
 * authenticator, the KDF guard, the schemas' lower layers and the admin and
 * audit CLIs run without it.
 */
import assert from "node:assert/strict";
import { layerOf, layerProblems, LAYERS, projectGraph } from "../tools/layers.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("the module graph has no back-edge, no cycle and no Hono below the HTTP layer", async () => {
  const graph = await projectGraph(ROOT);
  assert.deepEqual(layerProblems(graph), []);
  // The check saw the whole application, every layer populated.
  const populated = new Set([...graph.modules].map((m) => layerOf(m)?.name).filter(Boolean));
  assert.deepEqual([...populated].sort(), LAYERS.map((l) => l.name).sort());
});
