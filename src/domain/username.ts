/**
 * What a username may be: 3–64 of `A-Z a-z 0-9 . _ -`. No colon, so HTTP
 * Basic can carry it (RFC 7617 splits at the first colon); ASCII only, so
 * SQLite's NOCASE uniqueness is exact and no Unicode look-alike can pose as
 * another user. Registration, the CLI, the bootstrap admin's configuration
 * and the authenticator all apply this one rule.
 */

/** The shape every username has. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

/** Why a name that does not match is refused, for validation errors. */
export const USERNAME_RULE = "must be 3-64 characters of A-Z a-z 0-9 . _ -";
