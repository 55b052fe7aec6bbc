"""The layers of cgtkit point one way (docs/architecture.md), checked from the source with ``ast``.

* ``cgtkit.stats`` knows numbers only: it imports no cgtkit module but
  ``cgtkit.errors`` (and its own modules).
* ``cgtkit.analyses`` and ``cgtkit.plots`` never import ``cgtkit.ui``.
* ``cgtkit.plots`` never imports ``cgtkit.session``: figures take results, not the workbook.

Every import counts, including those inside functions (lazy imports) and
relative ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cgtkit

PACKAGE_DIR = Path(cgtkit.__file__).resolve().parent


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of the modules ``source`` imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return {name for name in found if _within(name, "cgtkit")}


def _is_module(name: str) -> bool:
    """True when ``name`` is a cgtkit module or package (not a class or function imported from one)."""
    rel = Path(*name.split(".")[1:])
    return name == "cgtkit" or (PACKAGE_DIR / rel).with_suffix(".py").is_file() or (PACKAGE_DIR / rel).is_dir()


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """The layer rules ``module`` breaks, one sentence each."""
    out = []
    for target in sorted(name for name in imported_modules(source, module, is_package) if _is_module(name)):
        if target == "cgtkit":
            continue  # the package itself (e.g. `from cgtkit import errors` also yields cgtkit.errors)
        if _within(module, "cgtkit.stats") and not (
            _within(target, "cgtkit.stats") or target == "cgtkit.errors"
        ):
            out.append(f"{module} imports {target}: cgtkit.stats may import only cgtkit.errors")
        if (_within(module, "cgtkit.analyses") or _within(module, "cgtkit.plots")) and _within(target, "cgtkit.ui"):
            out.append(f"{module} imports {target}: analyses and plots never import the ui")
        if _within(module, "cgtkit.plots") and _within(target, "cgtkit.session"):
            out.append(f"{module} imports {target}: plots never import the session")
        here, there = _page_of(module), _page_of(target)
        if here and there and here != there:
            out.append(f"{module} imports {target}: two pages never import each other (the session is their "
                       "meeting point; shared parts live in modules of their own)")
    return out


def _page_of(module: str) -> str | None:
    """The page a ui module belongs to (``cgtkit.ui.<page>`` or ``cgtkit.ui.<page>_model``), from data/pages.yaml."""
    from cgtkit.pages import available_pages

    pages = {p.module: p.id for p in available_pages()}
    name = module.removesuffix("_model")
    return pages.get(name)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ("cgtkit",) + path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


MODULES = _modules()


def test_every_layer_is_walked() -> None:
    names = {name for name, _ in MODULES}
    assert {"cgtkit.stats.tolerance", "cgtkit.analyses.specifications", "cgtkit.plots.specifications"} <= names


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_module_respects_the_layers(module: str, path: Path) -> None:
    problems = violations(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "fragment"),
    [
        ("cgtkit.stats.fake", "from cgtkit.attributes import AttributeSpec", "cgtkit.attributes"),
        ("cgtkit.stats.fake", "import cgtkit.io", "cgtkit.io"),
        ("cgtkit.stats.fake", "def f():\n    from cgtkit.session import Session\n", "cgtkit.session"),
        ("cgtkit.stats.fake", "from cgtkit import analyses", "cgtkit.analyses"),
        ("cgtkit.stats.fake", "from ..ui import shell", "cgtkit.ui"),
        ("cgtkit.stats.fake", "from cgtkit.vocab import Scale", "cgtkit.vocab"),
        ("cgtkit.analyses.fake", "from cgtkit.ui.shell import esc", "analyses and plots never import the ui"),
        ("cgtkit.plots.fake", "import cgtkit.ui.commercial_specifications_model", "never import the ui"),
        ("cgtkit.ui.clinical_development_model", "from cgtkit.ui.commercial_specifications_model import PAGE_ID",
         "two pages never import each other"),
        ("cgtkit.plots.fake", "from cgtkit.session import Session", "plots never import the session"),
    ],
)
def test_checker_catches_a_violation(module: str, source: str, fragment: str) -> None:
    problems = violations(module, source)
    assert problems and any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("cgtkit.stats.fake", "from cgtkit.errors import InsufficientDataError\nfrom cgtkit.stats._checks import check_n"),
        ("cgtkit.stats.fake", "from . import tolerance\nfrom .oos_risk import prob_any_oos\nimport numpy"),
        ("cgtkit.analyses.fake", "from cgtkit.io import attribute_values\nfrom cgtkit.stats import tolerance"),
        ("cgtkit.plots.fake", "from cgtkit.analyses.specifications import Candidate"),
    ],
)
def test_checker_allows_the_permitted_imports(module: str, source: str) -> None:
    assert violations(module, source) == []
