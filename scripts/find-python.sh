#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given X.Y version.
#
#   scripts/find-python.sh 3.12
#
# Looks, in order, at: $PYTHON<XY> (e.g. PYTHON312=/path/to/python3.12), `pythonX.Y` on PATH
# (a pyenv shim that is not activated does not count: each candidate must actually run and
# report the right version), $(pyenv root)/versions/X.Y.*/bin (newest patch release first),
# /usr/local/bin and /usr/bin. Exits 1 with a message on stderr naming what is missing.
set -euo pipefail

want="${1:?usage: $0 X.Y}"
override_var="PYTHON${want//./}"

works() {
    local cand="$1"
    [[ -n "$cand" && -x "$cand" ]] || return 1
    local got
    got="$("$cand" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || return 1
    [[ "$got" == "$want" ]]
}

candidates=()
if [[ -n "${!override_var:-}" ]]; then
    if works "${!override_var}"; then
        echo "${!override_var}"
        exit 0
    fi
    echo "error: $override_var=${!override_var} is not a working Python $want interpreter" >&2
    exit 1
fi
if p="$(command -v "python$want" 2>/dev/null)"; then
    candidates+=("$p")
fi
if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root 2>/dev/null || true)"
else
    root="${PYENV_ROOT:-$HOME/.pyenv}"
fi
if [[ -n "$root" && -d "$root/versions" ]]; then
    # newest patch release first (3.12.10 before 3.12.9)
    while IFS= read -r d; do
        candidates+=("$d/bin/python$want")
    done < <(compgen -G "$root/versions/$want.*" | grep -E "/$want\.[0-9]+$" | sort -V -r || true)
fi
candidates+=("/usr/local/bin/python$want" "/usr/bin/python$want")

for c in "${candidates[@]}"; do
    if works "$c"; then
        echo "$c"
        exit 0
    fi
done

{
    echo "error: no working Python $want interpreter found."
    echo "  looked at: ${candidates[*]}"
    echo "  (a pyenv shim that prints 'command not found' does not count)"
    echo "  install one (e.g. 'pyenv install $want' or your distribution's python$want package with venv),"
    echo "  or point $override_var=/path/to/python$want at it."
} >&2
exit 1
