"""Code health of the parameter registry: documented, consistent, used, and in the docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sim.mechanisms.base import DOMAINS, ROUTES
from sim.params import markdown, registry

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"
PARAMS = list(registry().values())
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# what an f-string placeholder in a parameter name may stand for
PLACEHOLDER_VALUES = sorted({*DOMAINS, *ROUTES}, key=len, reverse=True)


def test_registry_is_not_empty():
    assert len(PARAMS) > 50


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.name)
def test_parameter_is_documented(p):
    assert NAME.match(p.name), f"{p.name}: not lower_snake dotted"
    for field in ("description", "unit", "source"):
        value = getattr(p, field)
        assert isinstance(value, str) and value.strip(), f"{p.name}: empty {field}"
    assert p.description.strip().endswith("."), f"{p.name}: description is not a sentence"


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.name)
def test_parameter_default_is_consistent(p):
    assert p.kind in (bool, int, float, str), p.name
    if p.choices:
        assert p.default in p.choices, p.name
        assert len(set(p.choices)) == len(p.choices), p.name
        assert all(type(c) is p.kind for c in p.choices), p.name
    elif p.kind in (int, float):
        assert p.low is not None and p.high is not None, f"{p.name}: numeric without range"
        assert p.low <= p.default <= p.high, f"{p.name}: default outside range"
        assert p.low < p.high, f"{p.name}: empty range"
    if p.kind is bool:
        assert p.low is None and not p.choices, p.name


def test_mechanism_switches_are_bools():
    switches = [p for p in PARAMS if p.group == "mechanisms"]
    assert len(switches) >= 5
    for p in switches:
        assert p.kind is bool, f"{p.name} is a switch but not true/false"
        assert p.unit == "switch", p.name


def _name_patterns() -> tuple[set[str], list[re.Pattern]]:
    """Every string constant in sim/ (outside the registry) and every f-string as a regex
    whose placeholders stand for a domain or a route name."""
    alternatives = "|".join(map(re.escape, PLACEHOLDER_VALUES))
    literals: set[str] = set()
    patterns: list[re.Pattern] = []
    for path in SIM.rglob("*.py"):
        if path.parent == SIM / "params":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                parts = []
                for v in node.values:
                    if isinstance(v, ast.Constant):
                        parts.append(re.escape(str(v.value)))
                    else:
                        parts.append(f"(?:{alternatives})")
                if any(isinstance(v, ast.Constant) and "." in str(v.value)
                       for v in node.values):
                    patterns.append(re.compile("".join(parts)))
    return literals, patterns


def test_every_parameter_is_read_somewhere():
    literals, patterns = _name_patterns()
    dead = [p.name for p in PARAMS
            if p.name not in literals and not any(pt.fullmatch(p.name) for pt in patterns)]
    assert not dead, f"parameters never read in sim/: {dead}"


def test_placeholder_patterns_cover_domains_and_routes():
    """The f-string names the model builds really exist (no typo in a pattern)."""
    reg = registry()
    for d in DOMAINS:
        assert f"needs.{d}.hours_per_month" in reg
    for d in DOMAINS[:4]:
        assert f"needs.{d}.onset_age" in reg
    for r in ROUTES:
        for leaf in ("assessment_hours_per_case", "documentation_share", "volunteer_control",
                     "volunteer_influence"):
            assert f"{r}.{leaf}" in reg


def test_parameters_md_is_up_to_date():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert doc.rstrip("\n") == markdown().rstrip("\n"), (
        "docs/parameters.md is stale: run `welfare-sim params --markdown > docs/parameters.md`")


def test_parameters_md_lists_every_parameter():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    for p in PARAMS:
        assert f"`{p.name}`" in doc


def test_metrics_doc_is_generated_from_the_code():
    from pathlib import Path

    from sim.cli.run import metrics_markdown
    from sim.metrics import METRIC_NAMES, METRICS

    assert len(set(METRIC_NAMES)) == len(METRICS)  # no metric defined twice
    doc = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
    assert doc.read_text(encoding="utf-8") == metrics_markdown(), (
        "docs/metrics.md is stale: run `welfare-sim metrics --markdown > docs/metrics.md`")
