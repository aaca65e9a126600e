// Fixture for hardcoded-secret (semgrep --test). The rule is scoped to src/ and main.ts.
declare function createUser(input: { username: string; password: string }): void;
declare const env: Record<string, string | undefined>;

// ruleid: hardcoded-secret
createUser({ username: "admin", password: "admin123" });

// ruleid: hardcoded-secret
const pepper = "s3cr3t-pepper";

// ruleid: hardcoded-secret
const config = { "apiKey": "AKIA0000000000000000" };

// ruleid: hardcoded-secret
function login(user: string, adminPassword = "changeme") {
  return [user, adminPassword];
}

class Client {
  // ruleid: hardcoded-secret
  #token = "eyJhbGciOiJIUzI1NiJ9";
}

// ok: hardcoded-secret
const fromEnv = { password: env.APP_ADMIN_PASSWORD ?? null };

// ok: hardcoded-secret
const body = { token: issued(), tokenType: "Bearer" };

// ok: hardcoded-secret
const empty = { password: "" };

declare function issued(): string;
export { body, Client, config, empty, fromEnv, login, pepper };
