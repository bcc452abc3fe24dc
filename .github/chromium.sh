#!/usr/bin/env bash
# The runner's own Chromium for later steps: MATRIX_CHROMIUM names the first one on PATH.
# Without one, "warn" lets the job go on (browser scenarios are then recorded as infra);
# anything else fails the step with that text as the reason.
set -euo pipefail
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if found=$(command -v "$name"); then
    echo "MATRIX_CHROMIUM=$found" >> "$GITHUB_ENV"
    "$found" --version || true
    exit 0
  fi
done
if [ "${1:-}" = warn ]; then
  echo "::warning::no Chromium on this runner: browser scenarios will be recorded as infra"
  exit 0
fi
echo "::error::no Chromium on this runner: ${1:-a browser is needed}"
exit 1
