/**
 * The Worker that runs the password-strength estimator off the event loop
 * (see `password_strength.ts` for why). One request at a time, in order:
 * `{id, password, context}` in, `{id, estimate}` out. It holds nothing but
 * the estimator, and imports nothing of the application.
 */
/// <reference lib="deno.worker" />
import { createZxcvbn, estimateStrength } from "./password_strength.ts";

/** A request from `StrengthEstimator`. */
export interface StrengthRequest {
  readonly id: number;
  readonly password: string;
  readonly context: readonly string[];
}

const zxcvbn = createZxcvbn();

self.onmessage = (event: MessageEvent<StrengthRequest>) => {
  const { id, password, context } = event.data;
  self.postMessage({ id, estimate: estimateStrength(zxcvbn, password, context) });
};
