// Fixture for console-in-source (semgrep --test). The rule is scoped to src/ and main.ts.
declare const user: unknown, token: string, promise: Promise<void>;
declare const log: { info(message: string): void };

// ruleid: console-in-source
console.log("user", user);

// ruleid: console-in-source
console.debug(token);

// ruleid: console-in-source
promise.catch(console.error);

// ok: console-in-source
log.info("ready");
