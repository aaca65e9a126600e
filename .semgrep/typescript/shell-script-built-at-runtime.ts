import { exec } from "node:child_process";

async function thumbnail(file: string): Promise<void> {
  // ruleid: shell-script-built-at-runtime
  await new Deno.Command("sh", { args: ["-c", `convert ${file} -resize 64x64 thumb.png`] }).output();
}

async function archive(dir: string): Promise<void> {
  const script = "tar czf backup.tgz " + dir;
  // ruleid: shell-script-built-at-runtime
  await new Deno.Command("/bin/bash", { args: ["-c", script] }).output();
}

function cleanup(pattern: string): void {
  // ruleid: shell-script-built-at-runtime
  exec(`rm -f /tmp/${pattern}`);
}

// ok: shell-script-built-at-runtime
await new Deno.Command("sh", { args: ["-c", "command -v wrk"] }).output();

async function thumbnailSafely(file: string): Promise<void> {
  // ok: shell-script-built-at-runtime
  await new Deno.Command("convert", { args: ["--", file, "-resize", "64x64", "thumb.png"] }).output();
}
