"""Run the reliability tests (tests/reliability, issue #6) and put their figures in RELIABILITY.md.

    python scripts/reliability.py --soak     # `make soak`: the full runs (ORDERFLOW_SOAK=1)
    python scripts/reliability.py --quick    # the quick runs, the same ones `make test` runs

Extra arguments go to pytest. The figures of each mode are kept in tests/reliability/results/<mode>.json
(with the command, date, machine and pytest's outcome), and RELIABILITY.md's generated part, between its
``<!-- figures -->`` markers, is rewritten from both files. A run given ``-k``/test paths (a part of the suite,
``make soak PYTEST_ARGS="-k harsh"``) replaces only the sections it measured, and is listed under the run
it updated with its own command, date and outcome. Exits with pytest's status.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "tests" / "reliability" / "results"
REPORT = ROOT / "RELIABILITY.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
MODES = {"soak": "make soak", "quick": "python scripts/reliability.py --quick"}


def _numbered(section: str) -> tuple[int, str]:
    """"10. ..." after "9. ...": sections sort by their number, then by name."""
    number, _, rest = section.partition(".")
    return (int(number), rest) if number.isdigit() else (10**9, section)


def run(mode: str, pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        env = {**os.environ, "ORDERFLOW_RELIABILITY_OUT": str(out), "ORDERFLOW_SOAK": "1" if mode == "soak" else "0"}
        command = [sys.executable, "-m", "pytest", "tests/reliability", "-p", "no:cacheprovider", "-q",
                   "--timeout", "3600" if mode == "soak" else "600", *pytest_args]
        print(f"==> {' '.join(shlex.quote(c) for c in command)}  (ORDERFLOW_SOAK={env['ORDERFLOW_SOAK']})", flush=True)
        started = time.monotonic()
        status = subprocess.call(command, cwd=ROOT, env=env)
        seconds = time.monotonic() - started
        figures = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "command": _command(mode, pytest_args),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(seconds),
        "pytest_exit_status": status,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"{platform.system()} {platform.release()}",
        "figures": figures,
    }
    path = RESULTS / f"{mode}.json"
    if pytest_args and path.exists():  # a part of the suite: its sections replace those of the last run
        whole = json.loads(path.read_text(encoding="utf-8"))
        whole["figures"] = {**whole["figures"], **figures}
        result["sections"] = sorted(figures, key=_numbered)
        del result["figures"]
        whole["updates"] = [*whole.get("updates", []), result]
        result = whole
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    render()
    print(f"==> figures written to {REPORT.relative_to(ROOT)} ({mode}, pytest exit status {status})")
    return status


def _command(mode: str, pytest_args: list[str]) -> str:
    if not pytest_args:
        return MODES[mode]
    if mode == "soak":
        return f"make soak PYTEST_ARGS={shlex.quote(' '.join(pytest_args))}"
    return f"{MODES[mode]} {' '.join(shlex.quote(a) for a in pytest_args)}"


def _outcome(status: int) -> str:
    return "all passed" if status == 0 else f"**pytest failed (exit status {status})**"


def render() -> None:
    """Rewrite the generated part of RELIABILITY.md from the stored results of every mode."""
    parts: list[str] = []
    for mode in MODES:
        path = RESULTS / f"{mode}.json"
        if not path.exists():
            parts.append(f"### {mode.capitalize()} run\n\nNot run yet: `{MODES[mode]}`.\n")
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        lines = [f"### {mode.capitalize()} run", "",
                 f"Command: `{result['command']}` · finished {result['finished']} · {result['seconds']} s · "
                 f"{result['machine']} · {_outcome(result['pytest_exit_status'])}", ""]
        for update in result.get("updates", []):
            numbers = ", ".join(section.partition(".")[0] for section in update["sections"]) or "none"
            lines += [f"Sections measured again since ({numbers}): `{update['command']}` · finished "
                      f"{update['finished']} · {update['seconds']} s · {update['machine']} · "
                      f"{_outcome(update['pytest_exit_status'])}", ""]
        lines += ["| Figure | Result |", "|---|---|"]
        for section, rows in sorted(result["figures"].items(), key=lambda kv: _numbered(kv[0])):
            for label, value in rows.items():
                lines.append(f"| {section}: {label} | {value.replace('|', '/')} |")
        parts.append("\n".join(lines) + "\n")
    generated = "\n".join(parts)
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else f"# Reliability\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    REPORT.write_text(f"{head}{START}\n{generated}{END}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--soak", action="store_const", const="soak", dest="mode")
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode")
    mode.add_argument("--render", action="store_const", const="render", dest="mode",
                      help="only rewrite RELIABILITY.md from the stored results")
    args, pytest_args = parser.parse_known_args()
    if args.mode == "render":
        render()
        return 0
    return run(args.mode, pytest_args)


if __name__ == "__main__":
    sys.exit(main())
