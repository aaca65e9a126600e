/**
 * `deno task compile`: builds `dist/secure-api` with {@link COMPILE_ARGS},
 * passing Deno's output through — except for the one failure a first build
 * offline always hits. `deno compile` needs Deno's runtime base (`denort`),
 * which it downloads from dl.deno.land on first use; offline that ends in a
 * multi-line Rust error chain and a "Stack backtrace:" that never mentions
 * the fix. This wrapper turns it into one line naming `DENORT_BIN` (a local
 * `denort` of the same Deno version, which `deno compile` then uses instead
 * of downloading).
 *
 * Extra arguments are `deno compile` flags, placed before the entry point
 * (after it they would be baked in as the program's own arguments), e.g.
 * `deno task compile --allow-net=127.0.0.1:9443`.
 *
 * @module
 */

/**
 * The build: the server permission set, with read/write restated relative to
 * where the binary runs (`-P=server` alone would bake the build directory's
 * absolute paths) plus `/run/secrets` (APP_*_FILE secrets), `sql/` and the
 * Workers' modules (password strength, connection guard) embedded instead of
 * read; never prompts.
 */
export const COMPILE_ARGS: readonly string[] = [
  "compile",
  "-P=server",
  "--allow-read=./data,./certs,/run/secrets",
  "--allow-write=./data,./certs",
  "--no-prompt",
  "--include",
  "sql",
  "--include",
  "src/auth/strength_worker.ts",
  "--include",
  "src/net/guard/guard_worker.ts",
  "-o",
  "dist/secure-api",
  "main.ts",
];

/** The `deno` arguments for a build with `extra` flags. */
export function compileArgs(extra: readonly string[] = []): string[] {
  const args = [...COMPILE_ARGS];
  args.splice(args.indexOf("-o"), 0, ...extra);
  return args;
}

/** True only for the failure to download the runtime base binary. */
export function isBaseBinaryDownloadFailure(output: string): boolean {
  return /Setting up base binary/.test(output) &&
    /error sending request for url \(https:\/\/dl\.deno\.land\/release\/v[0-9.]+\/denort-[A-Za-z0-9_.-]+\.zip\)/
      .test(output);
}

/** The one line printed instead of Deno's error chain when `denort` cannot be downloaded. */
export const DENORT_HINT = "compile: cannot download Deno's runtime base (denort) from dl.deno.land (offline?). " +
  `Set DENORT_BIN to a local denort of Deno ${Deno.version.deno} ` +
  "(from the denort-<target>.zip of the same release) and run deno task compile again.";

/** The one line for a `DENORT_BIN` that names no file, or null for any other output. */
export function missingDenort(output: string): string | null {
  const match = /Could not find denort at '([^']*)'/.exec(output);
  return match
    ? `compile: DENORT_BIN=${match[1]} is not a file; point it at a local denort of Deno ${Deno.version.deno}`
    : null;
}

if (import.meta.main) {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: compileArgs(Deno.args),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const errors = new TextDecoder().decode(stderr);
  await Deno.stdout.write(stdout);
  const line = code === 0 ? null : isBaseBinaryDownloadFailure(errors) ? DENORT_HINT : missingDenort(errors);
  if (line !== null) {
    // Keep Deno's progress lines (Check, Compile), drop the error chain and the backtrace.
    const progress = errors.split("\n").filter((text) => /^\S*(Check|Compile|Download|Warning)\b/.test(text));
    await Deno.stderr.write(new TextEncoder().encode([...progress, line, ""].join("\n")));
  } else {
    await Deno.stderr.write(stderr);
  }
  Deno.exit(code);
}
