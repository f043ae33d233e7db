"""What the docs point a reader at exists: every relative link resolves (to a file, and to a heading where it
names one), and every ``orderflow.…`` / ``orderflow_cli.…`` name they print imports. A refactor that moves
a module (the package-by-area split left ``orderflow.purchasing_models`` and ``orderflow.policy`` in five
docs, and the supplier kit's example import failed) fails here instead of on a reader's first copy-paste."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "events" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# a dotted name of the core package or the CLI, not part of a path (layers/core/orderflow/…) or a word
DOTTED = re.compile(r"(?<![\w/.-])((?:orderflow|orderflow_cli)(?:\.[A-Za-z_]\w*)+)")


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+\s+(.*?)\s*$", _without_code_blocks(doc.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _resolves(dotted: str) -> bool:
    """The longest importable prefix, then attributes for the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for link in LINK.findall(_without_code_blocks(doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
            continue
        path, _, anchor = link.partition("#")
        target = (doc.parent / path).resolve() if path else doc
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.name}")
    assert not broken, f"{doc.name} links to what is not there: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_names_in_the_docs_import(doc: Path) -> None:
    names = sorted(set(DOTTED.findall(doc.read_text(encoding="utf-8"))))
    missing = [name for name in names if not _resolves(name)]
    assert not missing, f"{doc.name} names modules or objects that do not exist: {missing}"


def test_a_moved_module_is_caught() -> None:
    """The check itself: the module the supplier kit's example imported before the split is reported."""
    assert not _resolves("orderflow.purchasing_models.PurchaseOrderMessage")
    assert not _resolves("orderflow.purchasing.domain.NoSuchModel")
    assert _resolves("orderflow.purchasing.domain.PurchaseOrderMessage")
    assert "orderflow.purchasing_models" in DOTTED.findall("`from orderflow.purchasing_models import X`")
    assert not DOTTED.findall("layers/core/orderflow/events/derive.py")


def test_the_readme_lists_every_command_of_the_cli() -> None:
    """The README's command-line block names each command and sub-command ``orderflow --help`` lists (it
    had fallen behind: buy, alerts, kpis and streams were missing)."""
    import typer.main

    from orderflow_cli.main import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Command line"):readme.index("## Layout")]
    block = section[section.index("```\n") + 4:section.index("\n```", section.index("```\n") + 4)]
    words = set(re.findall(r"[\w-]+", block))
    missing = []
    for name, command in typer.main.get_command(app).commands.items():
        subcommands = getattr(command, "commands", {})
        listed = name in words and all(sub in words for sub in subcommands)
        if not command.hidden and not listed:
            missing.append(" ".join([name, "|".join(subcommands)]).strip())
    assert not missing, f"commands the README's command-line block does not name: {missing}"
