/**
 * The password-strength estimate (`src/auth/password_strength.ts`): what one
 * registration or password change costs, for ordinary and for hostile input
 * (digits and symbols multiply zxcvbn's l33t variants). It runs in a Worker
 * on the server, so this is CPU time off the event loop, not latency added
 * to other requests; PBKDF2 at 600,000 iterations (~150 ms) is the scale.
 */
import { createZxcvbn, estimateStrength } from "../src/auth/password_strength.ts";

const zxcvbn = createZxcvbn();
const context = ["secure-api", "alice"];
const cases: Record<string, string> = {
  "passphrase (4 words)": "marmalade skylight over the pier",
  "generated (24 base64url)": "q3Zt_8Kx-Lm2Pw9Yb4Nc7Vd1",
  "pattern (passwordpassword1)": "passwordpassword1",
  "hostile 64 digits+symbols (the cap)": "1!2@3#4$5%6^7&8*9(0)".repeat(4).slice(0, 64),
  "hostile 128 (only 64 estimated)": "1!2@3#4$5%6^7&8*9(0)".repeat(7).slice(0, 128),
};
for (const [name, password] of Object.entries(cases)) {
  Deno.bench({ name, group: "strength" }, () => {
    estimateStrength(zxcvbn, password, context);
  });
}
