#!/bin/sh
# Copies the console's pinned library (package.json, package-lock.json) into
# static/, where go:embed takes it: run after changing its version, commit
# the result. Users build nothing; nothing is fetched at run time.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
cp node_modules/htmx.org/dist/htmx.min.js static/htmx.min.js
rm -rf node_modules
