"""Where the workbook's data files live, and one YAML reader for all of them.

The regulatory knowledge (catalog, product types, pages, attributes) and the
example lot data live in the repository's top-level ``data/`` folder, next to
the package, so that reviewers can read and diff them as data. cgtkit is used
from a source checkout (``pip install -e .``); ``CGTKIT_DATA_DIR`` points
elsewhere if needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cgtkit.errors import CatalogError


def data_dir() -> Path:
    """The folder holding ``flexibilities.yaml``, ``pages.yaml``, ``examples/`` ..."""
    override = os.environ.get("CGTKIT_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "data"


def read_yaml(name: str) -> Any:
    """Parse ``data/<name>``; a missing or malformed file is a :class:`CatalogError`."""
    import yaml

    path = data_dir() / name
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise CatalogError(f"Data file {path} is missing; restore it from the repository.") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"Data file {path} is not valid YAML: {exc}") from exc


def validation_message(path_name: str, exc: Exception) -> str:
    """Turn a pydantic ValidationError into one readable sentence per problem."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return f"{path_name}: {exc}"
    lines = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        lines.append(f"{where}: {err.get('msg')}")
    return f"{path_name} is invalid: " + "; ".join(lines)
