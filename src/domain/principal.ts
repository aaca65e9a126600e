/**
 * Who a request acts as: the vocabulary shared by the repositories that load
 * it, the authenticator that produces it, the guards that check it and the
 * services that act on its behalf. It lives below all of them so none has to
 * import another's module to name it.
 */
import type { Permission } from "./permissions.ts";

/** What a request needs about its user: loaded fresh on every request (ASVS 5.0 8.3.2, no stale grants). */
export interface Principal {
  readonly id: number;
  readonly username: string;
  readonly disabled: boolean;
  /**
   * The password was set by someone else (generated at bootstrap, or by the
   * operator's CLI): until the user changes it, only `GET /auth/me` and
   * `PUT /auth/password` are open to them (ASVS 5.0 6.4.1).
   */
  readonly mustChangePassword: boolean;
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<Permission>;
}
