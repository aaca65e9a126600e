/**
 * Secrets from files (ASVS 5.0 13.3.1): every secret setting `APP_X` (those
 * marked `secret` in `SETTINGS`) may instead be given as `APP_X_FILE`, the
 * path of a file holding it — how Docker and Kubernetes secrets, systemd
 * credentials and vault agents hand secrets to a process, so they stay out
 * of the environment (which `/proc/<pid>/environ`, crash reporters and child
 * processes see).
 *
 * A secret file is accepted only when it is:
 * - inside `APP_SECRETS_DIR` (default `/run/secrets`) after resolving every
 *   symbolic link (Kubernetes mounts secrets through `..data` links), so a
 *   setting cannot be pointed at an arbitrary file such as the database;
 * - a regular file of at most 64 KiB;
 * - not readable, writable or executable by others (mode `o-rwx`: e.g. 0400
 *   or 0440 for the service's group), so no other local account can read it.
 *
 * The value is the file's text with one trailing line break removed (what
 * `echo` or an editor adds), nothing else. Giving both `APP_X` and
 * `APP_X_FILE` is refused: which one wins would be a guess.
 *
 * {@link resolveSecretFiles} runs before `parseConfig` (which stays pure and
 * refuses an unread `_FILE` variable). The file system is injected so the
 * rules are tested without touching the disk.
 */
import { ConfigError, SETTINGS } from "./config.ts";

/** Largest secret file accepted, in bytes. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** What {@link resolveSecretFiles} needs of the file system; default Deno's. */
export interface SecretFileSystem {
  realPath(path: string): Promise<string>;
  stat(path: string): Promise<{ isFile: boolean; size: number; mode: number | null }>;
  readTextFile(path: string): Promise<string>;
}

const DENO_FS: SecretFileSystem = {
  realPath: (path) => Deno.realPath(path),
  stat: (path) => Deno.stat(path),
  readTextFile: (path) => Deno.readTextFile(path),
};

function isInside(folder: string, path: string): boolean {
  const base = folder.endsWith("/") ? folder : `${folder}/`;
  return path.startsWith(base);
}

async function readSecret(variable: string, path: string, folder: string, fs: SecretFileSystem): Promise<string> {
  let real: string;
  let realFolder: string;
  try {
    realFolder = await fs.realPath(folder);
    real = await fs.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new ConfigError(`${variable}: not permitted to read it (the permission set reads ${folder})`);
    }
    throw new ConfigError(`${variable}: no such file, or APP_SECRETS_DIR (${folder}) does not exist`);
  }
  if (!isInside(realFolder, real)) {
    throw new ConfigError(`${variable}: the file must be inside APP_SECRETS_DIR (${folder})`);
  }
  const info = await fs.stat(real);
  if (!info.isFile) throw new ConfigError(`${variable}: not a regular file`);
  if (info.size > MAX_SECRET_FILE_BYTES) {
    throw new ConfigError(`${variable}: larger than ${MAX_SECRET_FILE_BYTES} bytes`);
  }
  if (info.mode === null || (info.mode & 0o007) !== 0) {
    throw new ConfigError(`${variable}: others may access it; chmod o-rwx (e.g. 0400) so only the service can`);
  }
  const value = (await fs.readTextFile(real)).replace(/\r?\n$/, "");
  if (value === "") throw new ConfigError(`${variable}: the file is empty`);
  return value;
}

/**
 * Returns `env` with each `APP_X_FILE` replaced by `APP_X` read from that
 * file. Throws a {@link ConfigError} naming the variable when a file breaks
 * a rule above; the secret itself is never in a message.
 */
export async function resolveSecretFiles(
  env: Readonly<Record<string, string | undefined>>,
  fs: SecretFileSystem = DENO_FS,
): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = { ...env };
  const folder = env[SETTINGS.secretsDir.name] || SETTINGS.secretsDir.default!;
  for (const setting of Object.values(SETTINGS)) {
    if (!("secret" in setting) || !setting.secret) continue;
    const variable = `${setting.name}_FILE`;
    const path = env[variable];
    if (path === undefined || path === "") continue;
    if (env[setting.name] !== undefined && env[setting.name] !== "") {
      throw new ConfigError(`${variable}: set either ${setting.name} or ${variable}, not both`);
    }
    out[setting.name] = await readSecret(variable, path, folder, fs);
    delete out[variable];
  }
  return out;
}
