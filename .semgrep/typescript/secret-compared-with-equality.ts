// Fixture for secret-compared-with-equality (semgrep --test).
declare const presented: string, tokenHash: string, password: string, expected: string;
declare const a: { passwordHash: string }, b: string, user: { apiKey: string }, header: string;
declare const c: { var: { credential?: { scheme: string; tokenHash?: string } } };
declare const tokenType: string, hash: Uint8Array, hashAlgorithm: string, tokenCount: number;
declare function ok(): void;

// ruleid: secret-compared-with-equality
if (tokenHash === presented) ok();

// ruleid: secret-compared-with-equality
if (a.passwordHash == b) ok();

// ruleid: secret-compared-with-equality
if (expected !== c.var.credential?.tokenHash) ok();

// ruleid: secret-compared-with-equality
if (user.apiKey === header) ok();

// ruleid: secret-compared-with-equality
if (password === "hunter2") ok();

// ok: secret-compared-with-equality
if (tokenHash === null || tokenHash === undefined) ok();

// ok: secret-compared-with-equality
if (typeof password === "string" && password !== "") ok();

// ok: secret-compared-with-equality
if (c.var.credential?.scheme !== "basic") ok();

// ok: secret-compared-with-equality
if (tokenType === "Bearer") ok();

// ok: secret-compared-with-equality
if (hash.length === 32) ok();

// ok: secret-compared-with-equality
if (hashAlgorithm === header || tokenCount === 0) ok();
