#!/usr/bin/env bash
# Runs thehive4py's own integration tests against the standalone fake.
#
#   thehive/thehivetest/testdata/thehive4py.sh /path/to/TheHive4py
#
# The argument is a checkout of github.com/TheHive-Project/TheHive4py (2.x).
# Needs Go, python3 with pytest, requests and typing_extensions (Debian:
# python3-pytest python3-requests python3-typing-extensions). The tests run
# on a copy whose conftest points at the fake (started without Cortex, as
# thehive4py's own environment is) and resets it through
# POST /_thehivetest/reset before each test; RESET=api uses thehive4py's
# own reset helpers instead. The checkout itself is not modified.
set -euo pipefail

src=${1:?usage: $0 /path/to/TheHive4py}
here=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$here" && go build -o "$work/thehivetest" ./thehive/thehivetest/cmd/thehivetest)
cp -r "$src"/. "$work/th4py"
cd "$work/th4py"
printf '__version__ = "0.0.0+thehivetest"\n' > thehive4py/__version__.py
python3 - <<'PY'
import re
p = "tests/conftest.py"
s = open(p).read()
s, n1 = re.subn(r"def thehive_url\(test_config: TestConfig\) -> str:\n    return spawn_hive_container\(test_config=test_config\)",
                'def thehive_url(test_config: TestConfig) -> str:\n    import os\n    return os.environ["THEHIVE_URL"]', s)
s, n2 = re.subn(r"def auto_reset_hive_instance\(thehive_url: str, test_config: TestConfig\):\n    reset_hive_instance\(hive_url=thehive_url, test_config=test_config\)",
                'def auto_reset_hive_instance(thehive_url: str, test_config: TestConfig):\n'
                '    import os, requests\n'
                '    if os.environ.get("RESET") == "api":\n'
                '        reset_hive_instance(hive_url=thehive_url, test_config=test_config)\n'
                '    else:\n'
                '        requests.post(thehive_url + "/_thehivetest/reset").raise_for_status()', s)
if n1 != 1 or n2 != 1:
    raise SystemExit("tests/conftest.py has changed: cannot point it at the fake")
open(p, "w").write(s)
PY

"$work/thehivetest" -addr 127.0.0.1:0 -cortex=false > "$work/url" &
pid=$!
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
THEHIVE_URL=$(head -1 "$work/url") python3 -m pytest -q -p no:cacheprovider tests "${@:2}"
