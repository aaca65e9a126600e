/**
 * What the server does when an error escapes everything (an unhandled
 * rejection or exception): log it, record `sys_crash` in the audit log,
 * flush the logs and exit with status 70 (`EX_SOFTWARE`). A process in an
 * unknown state must not keep serving; the supervisor restarts it.
 *
 * Kept out of `main.ts` so the behaviour is unit-tested: the order (the log
 * first, so a broken database cannot hide the crash), that a failing audit
 * write or flush still ends in exit, and that a second crash during the
 * first does not run the sequence again.
 */
import type { Logger } from "@logtape/logtape";
import type { AuditLog } from "./audit/audit_log.ts";
import { redactText } from "./logging.ts";

/** Exit status of a crash: `EX_SOFTWARE` from sysexits.h. */
export const CRASH_EXIT_CODE = 70;

/** Options for {@link crashHandler}. */
export interface CrashHandlerOptions {
  /** Where `sys_crash` is recorded. */
  audit: Pick<AuditLog, "append">;
  /** Where the fatal line goes. */
  log: Pick<Logger, "fatal" | "error">;
  /** Flushes the log sinks (LogTape's `dispose`). */
  flush: () => Promise<void>;
  /** Ends the process (`Deno.exit`). */
  exit: (code: number) => void;
}

/** The crash's description for the audit row: name and message, credentials masked, no stack. */
export function describeCrash(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactText(text);
}

/** Builds the handler `main.ts` attaches to `unhandledrejection` and `error`. */
export function crashHandler(options: CrashHandlerOptions): (error: unknown) => Promise<void> {
  const { audit, log, flush, exit } = options;
  let crashing = false;
  return async function crash(error) {
    if (crashing) return;
    crashing = true;
    try {
      log.fatal("crash: {error}", { error });
      try {
        await audit.append({ event: "sys_crash", client: "local", detail: { error: describeCrash(error) } });
      } catch (auditError) {
        log.error("could not record sys_crash in the audit log: {auditError}", { auditError });
      }
      await flush();
    } finally {
      exit(CRASH_EXIT_CODE);
    }
  };
}
