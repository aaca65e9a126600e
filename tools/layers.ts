/**
 * `deno task layers`: dependencies point one way. Each module of `src/`
 * belongs to one layer, and a module may import from its own layer or any
 * layer below it, never from one above (a back-edge). Top to bottom:
 *
 * | layer      | modules                                                          |
 * | ---------- | ---------------------------------------------------------------- |
 * | entry      | `main.ts`, `src/cli/`                                            |
 * | app        | `src/app.ts`, `src/deps.ts`, `src/bootstrap.ts`, `src/crash.ts`, `src/server/`, `src/cluster/`, `src/startup/` |
 * | http       | `src/middleware/`, `src/routes/`, `src/schemas/`, `src/openapi*.ts`, `src/app_env.ts` |
 * | services   | `src/services/`                                                  |
 * | core       | `src/auth/`, `src/audit/`, `src/ratelimit/`                      |
 * | base       | `src/db/`, `src/crypto/`, `src/util/`, `src/net/`, `src/tls/`, `src/metrics/`, `src/config*.ts`, `src/logging.ts` |
 * | domain     | `src/domain/` (permissions, principal, usernames), `src/errors.ts` |
 *
 * Two more rules: no import cycle between files, even inside a layer; and
 * only the `entry`, `app` and `http` layers may load Hono, so services, the
 * authenticator, the KDF guard, the database layer and the admin CLI are
 * tested and run without HTTP (the admin CLI is checked on its runtime
 * graph: type-only imports load nothing).
 *
 * The module graph is Deno's own (`deno info --json`), so what is checked is
 * what the runtime resolves, dynamic imports and type-only imports included.
 * In the spirit of denoland/std's circular-dependency check.
 *
 * @module
 */

/** One layer: a name and the path prefixes (relative to the project root) of its modules. */
export interface Layer {
  readonly name: string;
  readonly paths: readonly string[];
  /** True when modules of this layer may load Hono. */
  readonly http: boolean;
}

/** The layers, top first. */
export const LAYERS: readonly Layer[] = [
  { name: "entry", paths: ["main.ts", "src/cli/"], http: true },
  {
    name: "app",
    paths: [
      "src/app.ts",
      "src/deps.ts",
      "src/bootstrap.ts",
      "src/crash.ts",
      "src/server/",
      "src/cluster/",
      "src/startup/",
    ],
    http: true,
  },
  {
    name: "http",
    paths: [
      "src/middleware/",
      "src/routes/",
      "src/schemas/",
      "src/openapi.ts",
      "src/openapi_operations.ts",
      "src/app_env.ts",
    ],
    http: true,
  },
  { name: "services", paths: ["src/services/"], http: false },
  { name: "core", paths: ["src/auth/", "src/audit/", "src/ratelimit/"], http: false },
  {
    name: "base",
    paths: [
      "src/db/",
      "src/crypto/",
      "src/util/",
      "src/net/",
      "src/tls/",
      "src/metrics/",
      "src/config.ts",
      "src/config_secrets.ts",
      "src/logging.ts",
    ],
    http: false,
  },
  { name: "domain", paths: ["src/domain/", "src/errors.ts"], http: false },
];

/** Entry points whose graphs cover the application and its tools. */
export const ENTRY_POINTS: readonly string[] = [
  "main.ts",
  "src/cli/admin.ts",
  "src/cli/audit_verify.ts",
  "src/cli/audit_export.ts",
  "src/cli/check_env.ts",
];

/** Entry points that must not load Hono at run time (they serve no HTTP). */
export const HTTP_FREE_ENTRY_POINTS: readonly string[] = [
  "src/cli/admin.ts",
  "src/cli/audit_verify.ts",
  "src/cli/audit_export.ts",
  "src/cli/check_env.ts",
];

/** An import edge: `from` imports `to`; `typeOnly` when nothing is loaded at run time. */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

/** The module graph: project-relative paths for local modules, the specifier for the rest. */
export interface ModuleGraph {
  readonly modules: ReadonlySet<string>;
  readonly edges: readonly Edge[];
}

/** The part of `deno info --json` output read here. */
export interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
  redirects?: Record<string, string>;
}

/** `file:///root/src/x.ts` → `src/x.ts` under `root`; other specifiers unchanged. */
function relative(specifier: string, rootURL: string): string {
  return specifier.startsWith(rootURL) ? decodeURIComponent(specifier.slice(rootURL.length)) : specifier;
}

/** Merges `deno info --json` outputs into one graph, paths relative to `rootURL` (ending in `/`). */
export function graphOf(infos: readonly DenoInfo[], rootURL: string): ModuleGraph {
  const modules = new Set<string>();
  const edges = new Map<string, Edge>();
  for (const info of infos) {
    const redirect = (s: string) => info.redirects?.[s] ?? s;
    for (const module of info.modules) {
      const from = relative(module.specifier, rootURL);
      modules.add(from);
      for (const dependency of module.dependencies ?? []) {
        const code = dependency.code?.specifier;
        const type = dependency.type?.specifier;
        const target = code ?? type;
        if (target === undefined) continue;
        const to = relative(redirect(target), rootURL);
        const key = `${from}\n${to}`;
        const typeOnly = code === undefined && (edges.get(key)?.typeOnly ?? true);
        edges.set(key, { from, to, typeOnly });
      }
    }
  }
  return { modules, edges: [...edges.values()] };
}

/** The layer of a project path, or undefined for modules outside `src/` and `main.ts`. */
export function layerOf(path: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  return layers.find((layer) => layer.paths.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p)));
}

function isProjectSource(path: string): boolean {
  return path === "main.ts" || (path.startsWith("src/") && path.endsWith(".ts"));
}

function isHono(specifier: string): boolean {
  return /^npm:\/?(@hono\/[^@/]+|hono)@/.test(specifier);
}

/**
 * Everything wrong with `graph`, one line per problem: a source module in no
 * layer, an import that goes up a layer, an import cycle, a module below
 * `http` that reaches Hono, and an HTTP-free entry point that loads it.
 */
export function layerProblems(
  graph: ModuleGraph,
  options: { layers?: readonly Layer[]; httpFree?: readonly string[] } = {},
): string[] {
  const { layers = LAYERS, httpFree = HTTP_FREE_ENTRY_POINTS } = options;
  const problems: string[] = [];
  const rank = (layer: Layer) => layers.indexOf(layer);
  const sources = [...graph.modules].filter(isProjectSource).sort();

  for (const path of sources) {
    if (!layerOf(path, layers)) problems.push(`${path} belongs to no layer: add it to LAYERS in tools/layers.ts`);
  }

  for (const { from, to } of graph.edges) {
    const a = layerOf(from, layers);
    const b = layerOf(to, layers);
    if (a && b && rank(b) < rank(a)) {
      problems.push(`${from} (${a.name}) imports ${to} (${b.name}): a back-edge; ${b.name} is above ${a.name}`);
    }
  }

  const outgoing = new Map<string, Edge[]>();
  for (const edge of graph.edges) {
    const list = outgoing.get(edge.from) ?? [];
    list.push(edge);
    outgoing.set(edge.from, list);
  }
  problems.push(...cycles(sources, outgoing));

  // Hono through any edge: a module below http that names it, even for types, depends on HTTP.
  for (const path of sources) {
    const layer = layerOf(path, layers);
    if (!layer || layer.http) continue;
    const trail = pathTo(path, outgoing, isHono, false);
    if (trail) problems.push(`${path} (${layer.name}) reaches Hono: ${trail.join(" → ")}`);
  }
  for (const entry of httpFree) {
    const trail = pathTo(entry, outgoing, isHono, true);
    if (trail) problems.push(`${entry} loads Hono at run time: ${trail.join(" → ")}`);
  }
  return problems;
}

/** A shortest import chain from `start` to a module matching `target` (breadth first), or null. */
function pathTo(
  start: string,
  outgoing: ReadonlyMap<string, readonly Edge[]>,
  target: (specifier: string) => boolean,
  runtimeOnly: boolean,
): string[] | null {
  const previous = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift()!;
    if (target(at)) {
      const trail: string[] = [];
      for (let step: string | null = at; step !== null; step = previous.get(step)!) trail.unshift(step);
      return trail;
    }
    for (const edge of outgoing.get(at) ?? []) {
      if (runtimeOnly && edge.typeOnly) continue;
      if (previous.has(edge.to)) continue;
      previous.set(edge.to, at);
      queue.push(edge.to);
    }
  }
  return null;
}

/** Each import cycle among `sources`, once, as `a → b → a` (Tarjan's strongly connected components). */
function cycles(sources: readonly string[], outgoing: ReadonlyMap<string, readonly Edge[]>): string[] {
  const inSources = new Set(sources);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of outgoing.get(v) ?? []) {
      if (!inSources.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v)!, index.get(to)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    const selfLoop = (outgoing.get(v) ?? []).some((e) => e.to === v);
    if (component.length > 1 || selfLoop) found.push(`import cycle: ${cycleThrough(v, new Set(component), outgoing)}`);
  };
  for (const v of sources) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest import chain from `start` back to itself within `component`, as `a → b → a`. */
function cycleThrough(start: string, component: ReadonlySet<string>, outgoing: ReadonlyMap<string, readonly Edge[]>) {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const { to } of outgoing.get(at) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const trail = [at];
        while (trail[0] !== start) trail.unshift(previous.get(trail[0]!)!);
        return [...trail, start].join(" → ");
      }
      if (previous.has(to)) continue;
      previous.set(to, at);
      queue.push(to);
    }
  }
  return [...component].join(" → ");
}

/** Runs `deno info --json` on each of `entries` (project-relative) under `root` and merges the graphs. */
export async function readGraph(root: URL, entries: readonly string[]): Promise<ModuleGraph> {
  const infos: DenoInfo[] = [];
  for (const entry of entries) {
    const output = await new Deno.Command("deno", {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!output.success) {
      throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
    }
    infos.push(JSON.parse(new TextDecoder().decode(output.stdout)) as DenoInfo);
  }
  return graphOf(infos, root.href);
}

/** Every non-test `.ts` module under `src/` (some may be reached by no entry point). */
export async function sourceModules(root: URL): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (entry.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts")) out.push(path);
    }
  };
  await walk("src/");
  return out.sort();
}

/** The project's graph: the entry points, plus any source module none of them reaches. */
export async function projectGraph(root: URL): Promise<ModuleGraph> {
  const graph = await readGraph(root, ENTRY_POINTS);
  const unreached = (await sourceModules(root)).filter((path) => !graph.modules.has(path));
  if (unreached.length === 0) return graph;
  const extra = await readGraph(root, unreached);
  return {
    modules: new Set([...graph.modules, ...extra.modules]),
    edges: [...graph.edges, ...extra.edges],
  };
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const problems = layerProblems(await projectGraph(root));
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) Deno.exit(1);
  console.log(`layers: ${LAYERS.map((l) => l.name).join(" → ")}: no back-edge, no cycle, Hono only at the edge`);
}
