import assert from "node:assert/strict";
import { unknownSettingWarnings } from "./env_names.ts";

Deno.test("unknownSettingWarnings() names the closest known variable for a misspelled APP_* name", () => {
  assert.deepEqual(unknownSettingWarnings(["APP_PROT", "HOME", "APP_PORT"]), [
    "warning: APP_PROT is not a setting and is ignored; did you mean APP_PORT?",
  ]);
  assert.deepEqual(unknownSettingWarnings(["APP_ADMIN_PASWORD"]), [
    "warning: APP_ADMIN_PASWORD is not a setting and is ignored; did you mean APP_ADMIN_PASSWORD?",
  ]);
});

Deno.test("unknownSettingWarnings() stays quiet for known and non-APP_ names, and has no guess for a far one", () => {
  assert.deepEqual(unknownSettingWarnings(["APP_DB", "APP_LOG_FORMAT", "PATH", "app_port"]), []);
  assert.deepEqual(unknownSettingWarnings(["APP_SOMETHING_ELSE_ENTIRELY"]), [
    "warning: APP_SOMETHING_ELSE_ENTIRELY is not a setting and is ignored; the settings are listed in README.md (Configuration)",
  ]);
});
