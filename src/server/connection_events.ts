/**
 * Turns connection-level trouble into log lines and audit rows — once per
 * episode, never once per connection, so that a flood of sockets cannot
 * become a flood of synchronous audit writes.
 *
 * Audit rows use `excess_rate_limit_exceeded` (OWASP Logging Vocabulary:
 * "service limit ceilings … alerted when exceeded") with `target`
 * `connections` and `detail.limit` saying which ceiling: `connections-per-client`,
 * `connections` (the total cap), or `file-descriptors` / `listener` when
 * accepting failed — the condition that used to end the process with
 * `sys_crash`. A refused client is named in `client`; the guard already
 * reports each client at most once a minute. Listener failures are audited
 * at most once per `auditIntervalMs` (a new episode inside it is only
 * logged).
 */
import type { Logger } from "@logtape/logtape";
import type { AuditLog } from "../audit/audit_log.ts";
import type { GuardEvent } from "../net/guard/accept_loop.ts";

/** Options for {@link connectionEvents}. */
export interface ConnectionEventsOptions {
  log: Pick<Logger, "info" | "warning" | "error">;
  audit: Pick<AuditLog, "append">;
  /** Milliseconds (any epoch). Default `performance.now`. */
  now?: () => number;
  /** Least time between two audit rows about failing listeners. Default 60 s. */
  auditIntervalMs?: number;
}

/** Receives connection-level events. */
export interface ConnectionEvents {
  /** An event from the connection guard. */
  guard(event: GuardEvent): void;
  /** A `Deno.serve` listener died (`where`: `public` or `behind-guard`). */
  listenerFailed(where: string, error: unknown): void;
  /** A listener has served steadily again after `failures` failures over `ms` milliseconds. */
  listenerRecovered(where: string, failures: number, ms: number): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** EMFILE (per process) or ENFILE (system-wide), as Deno words them. */
function isDescriptorExhaustion(text: string): boolean {
  return /os error 2[34]\b/.test(text);
}

/** Builds the reporter. */
export function connectionEvents(options: ConnectionEventsOptions): ConnectionEvents {
  const { log, audit, now = () => performance.now(), auditIntervalMs = 60_000 } = options;
  let lastListenerAudit = -Infinity;

  const record = (client: string, level: "warning" | "critical", detail: Record<string, unknown>) => {
    const failed = (error: unknown) => {
      log.error("could not record a connection limit in the audit log: {error}", { error });
    };
    // Not awaited: an accept loop must not wait for the database. A failure is logged, never unhandled.
    try {
      Promise.resolve(
        audit.append({ event: "excess_rate_limit_exceeded", level, client, target: "connections", detail }),
      )
        .catch(failed);
    } catch (error) {
      failed(error);
    }
  };

  /** Audits a failing listener unless one was audited within the interval. */
  const listenerDown = (where: string, error: string) => {
    const limit = isDescriptorExhaustion(error) ? "file-descriptors" : "listener";
    log.error("{where} listener cannot accept ({limit}): {error}; accepting again as soon as possible", {
      where,
      limit,
      error,
    });
    const at = now();
    if (at - lastListenerAudit < auditIntervalMs) return;
    lastListenerAudit = at;
    record("local", "critical", { limit, listener: where, error });
  };

  return {
    guard(event) {
      switch (event.kind) {
        case "refused":
          log.warning("refused connections from {client}: the {limit} cap ({max}) is reached ({refused} refused)", {
            ...event,
          });
          record(event.limit === "total" ? "local" : event.client, "warning", {
            limit: event.limit === "total" ? "connections" : "connections-per-client",
            max: event.max,
            refused: event.refused,
          });
          return;
        case "accept-failed":
          listenerDown("public", event.error);
          return;
        case "accept-recovered":
          log.info("accepting connections again after {ms} ms ({failures} failed accepts)", { ...event });
          return;
        case "connection-failed":
          log.error("the guard could not relay a connection to the HTTPS server: {error} ({failures} dropped)", {
            ...event,
          });
          return;
      }
    },
    listenerFailed(where, error) {
      listenerDown(where, describe(error));
    },
    listenerRecovered(where, failures, ms) {
      log.info("{where} listener is accepting again after {ms} ms ({failures} failed listeners)", {
        where,
        failures,
        ms,
      });
    },
  };
}
