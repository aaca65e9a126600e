// Fixture for inline-dependency-specifier (semgrep --test).
// ruleid: inline-dependency-specifier
import ms from "npm:ms@2.1.3";
// ruleid: inline-dependency-specifier
import { assertEquals } from "jsr:@std/assert@1";
// ruleid: inline-dependency-specifier
import * as path from "https://deno.land/std@0.224.0/path/mod.ts";
// ruleid: inline-dependency-specifier
import "npm:reflect-metadata@0.2.2";
// ruleid: inline-dependency-specifier
export { z } from "npm:zod@4";
// ok: inline-dependency-specifier
import { Hono } from "hono";
// ok: inline-dependency-specifier
import { createHash } from "node:crypto";
// ok: inline-dependency-specifier
import { ApiError } from "../src/errors.ts";

async function load() {
  // ruleid: inline-dependency-specifier
  const x509 = await import("npm:@peculiar/x509@2.2.0");
  // ok: inline-dependency-specifier
  const same = await import("@peculiar/x509");
  return [x509, same];
}

export { ApiError, assertEquals, createHash, Hono, load, ms, path };
