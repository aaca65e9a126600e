// The "Trojan Source" pattern: the comment hides the early return from a reviewer.
export function isAdmin(role: string): boolean {
  // ruleid: invisible-or-bidi-characters
  /*‮ } ⁦if (role !== "admin") return false; ⁩⁦ */
  return true;
}

// A zero-width joiner is legal inside a name: this is not `admin`.
// ruleid: invisible-or-bidi-characters
const adm‍in = "not the same name as admin";

// ok: invisible-or-bidi-characters
export const RIGHT_TO_LEFT_OVERRIDE = "\u202E";
// ok: invisible-or-bidi-characters
export const GREETING = "مرحبا is written right to left, with no control characters";
