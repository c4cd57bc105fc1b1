#!/usr/bin/env bash
# checkov on template.yaml: 0 failed checks, or exit 1. Every skip sits on its resource in the
# template (Metadata: checkov: skip: [{id, comment}]). checkov pins many packages that would clash
# with the project's, so it lives in its own git-ignored venv, .venv-tools/, made on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
TOOLS=.venv-tools
PYTHON=${PYTHON:-python3}

if [ "$("$TOOLS/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "installing checkov $CHECKOV_VERSION into $TOOLS/ (once)"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

# --skip-download: no call to Prisma Cloud for guideline links (and none needed offline).
exec "$TOOLS/bin/checkov" --file template.yaml --framework cloudformation \
  --skip-download --quiet --compact
