"""The documents stand on their own: every link resolves inside the repository, every
"design.md §N" citation names a section that exists, the packaging metadata is what the docs say
(SPDX licence, pytest only for developers), and the generated docs are current."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"),
               *(ROOT / "experiments").rglob("*.md"), *(ROOT / "sim").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_links_stay_inside_the_repository(doc):
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://", target) or target.startswith(("#", "mailto:")):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name}: {target} points outside the repository"
        assert path.exists(), f"{doc.name}: {target} does not exist"


def _design_sections() -> set[str]:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## (\d+)\.", text, flags=re.M))


def test_design_citations_name_existing_sections():
    sections = _design_sections()
    assert {"1", "2", "3", "4", "5", "6", "7"} <= sections
    files = [*DOCS, ROOT / "sim" / "params" / "registry.toml", *(ROOT / "sim").rglob("*.py")]
    cited = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text, f"{f}: cites DESIGN.md (now docs/design.md)"
        assert "FACTS.md" not in text, f"{f}: cites FACTS.md (now docs/facts.md)"
        for m in re.finditer(r"design\.md §([\d.,\s§-]+)", text):
            for num in re.findall(r"(\d+)(?:\.\d+)?", m.group(1)):
                cited += 1
                assert num in sections, f"{f}: design.md §{num} does not exist"
    assert cited >= 10


def test_design_has_references_for_works_the_registry_cites():
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    refs = design[design.index("## References"):]
    registry = (ROOT / "sim" / "params" / "registry.toml").read_text(encoding="utf-8")
    for author in ("Hood & Dixon", "Jakobsen & Andersen", "Frey & Jegen", "Gneezy",
                   "Hart, Shleifer"):
        if author in registry:
            assert author.split(",")[0].split(" &")[0] in refs, author


def test_packaging_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not a table
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])
    assert not any(d.startswith("pytest") for d in project["dependencies"])
    assert any(d.startswith("pytest") for d in project["optional-dependencies"]["dev"])
    assert any(d.startswith("openpyxl") for d in project["dependencies"])


def test_generated_docs_are_current():
    from sim.cli.run import metrics_markdown
    from sim.params import markdown

    assert (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8") == metrics_markdown()
    assert (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8").rstrip() == \
        markdown().rstrip()
    assert "| `tick` |" in metrics_markdown()
