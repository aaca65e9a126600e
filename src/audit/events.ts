/**
 * What the audit log records: the event catalogue (the OWASP Logging
 * Vocabulary, plus product events), each event's default severity, and the
 * shape of an entry as code hands it to the log.
 */

/** The events this system records (OWASP Logging Vocabulary, plus product events). */
export const AUDIT_EVENTS = [
  "authn_login_success",
  "authn_login_fail",
  "authn_login_fail_max",
  "authn_login_lock",
  "authn_token_created",
  "authn_token_revoked",
  "authn_password_change",
  "authz_fail",
  "authz_change",
  "user_created",
  "user_updated",
  "user_deleted",
  "excess_rate_limit_exceeded",
  "input_validation_fail",
  "sys_startup",
  "sys_shutdown",
  "sys_crash",
  "product_created",
  "product_updated",
  "product_deleted",
] as const;

/** An audit event name. */
export type AuditEventName = typeof AUDIT_EVENTS[number];

/** Severity of an audit event. */
export type AuditLevel = "info" | "warning" | "error" | "critical";

/** Events that are not `info` unless an entry says otherwise: failures, refusals, locks and crashes. */
const DEFAULT_LEVEL: Partial<Record<AuditEventName, AuditLevel>> = {
  authn_login_fail: "warning",
  authn_login_fail_max: "warning",
  authn_login_lock: "critical",
  authz_fail: "warning",
  excess_rate_limit_exceeded: "warning",
  input_validation_fail: "warning",
  sys_crash: "critical",
};

/** The level an entry is recorded at: its own, or its event's default. */
export function levelOf(entry: Pick<AuditEntry, "event" | "level">): AuditLevel {
  return entry.level ?? DEFAULT_LEVEL[entry.event] ?? "info";
}

/** Who, where and how: the request context of an event. */
export interface AuditContext {
  actor?: number | null;
  client?: string | null;
  method?: string | null;
  path?: string | null;
  requestId?: string | null;
}

/** One event to record. */
export interface AuditEntry extends AuditContext {
  event: AuditEventName;
  level?: AuditLevel;
  status?: number | null;
  /** What the event is about, e.g. `user:12` or `product:7`. */
  target?: string | null;
  /** Structured facts; never secrets. */
  detail?: Record<string, unknown>;
}
