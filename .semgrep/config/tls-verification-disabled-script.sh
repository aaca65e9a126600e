#!/usr/bin/env bash
set -euo pipefail
# ruleid: tls-verification-disabled-script
export NODE_TLS_REJECT_UNAUTHORIZED=0
# ruleid: tls-verification-disabled-script
deno run -P=server --unsafely-ignore-certificate-errors main.ts &
# ruleid: tls-verification-disabled-script
APP_DATABASE_URL="postgres://api@db.internal.example/app?sslmode=require" deno task start
# ok: tls-verification-disabled-script
APP_DATABASE_URL="postgres://api@db.internal.example/app?sslmode=verify-full" deno task start
# ok: tls-verification-disabled-script
DENO_CERT=./certs/internal-ca.pem deno task start
