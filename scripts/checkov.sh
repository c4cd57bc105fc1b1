#!/usr/bin/env bash
# checkov on the app and bootstrap templates: 0 failed checks, and no skip that checkov did not
# need, or exit 1.
# Every skip sits on its resource in the template (Metadata: checkov: skip: [{id, comment}]).
# checkov pins many packages that would clash with the project's, so it lives in its own
# git-ignored venv, .venv-tools/, made on first use.
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

REPORT=$(mktemp)
trap 'rm -f "$REPORT"' EXIT
status=0
for TEMPLATE in template.yaml bootstrap/template.yaml; do
  # --skip-download: no call to Prisma Cloud for guideline links (and none needed offline).
  "$TOOLS/bin/checkov" --file "$TEMPLATE" --framework cloudformation --skip-download \
    --output json --soft-fail >"$REPORT"

# Fail on a failed check, and on a skip that checkov never applied: a reason for nothing.
"$TOOLS/bin/python" - "$REPORT" "$TEMPLATE" <<'PY' || status=1
import json, re, sys

results = json.load(open(sys.argv[1]))["results"]
for check in results["failed_checks"]:
    lines = "-".join(map(str, check["file_line_range"]))
    print(f"FAILED {check['check_id']} {check['check_name']}: {check['resource']} (lines {lines})")
applied = {(c["resource"].split(".")[-1], c["check_id"]) for c in results["skipped_checks"]}
declared, resource = set(), None
for line in open(sys.argv[2]):
    named = re.fullmatch(r"  ([A-Za-z0-9]+):\n", line)
    resource = named.group(1) if named else resource
    skip = re.fullmatch(r"\s+- id: (CKV2?_AWS_\d+)\n", line)
    if skip:
        declared.add((resource, skip.group(1)))
unused = sorted(declared - applied)
if unused:
    print(f"checkov skips that no check needed: {unused}")
passed, failed = len(results["passed_checks"]), len(results["failed_checks"])
skipped = len(applied)
print(f"checkov {sys.argv[2]}: {passed} passed, {failed} failed, {skipped} skipped (each with its reason)")
sys.exit(1 if failed or unused else 0)
PY
done
exit $status
