"""Where the workbook's data files live, and the one loader for all of them.

The regulatory knowledge (catalog, product types, pages, attributes) and the
example lot data live in the repository's top-level ``data/`` folder, next to
the package, so that reviewers can read and diff them as data. cgtkit is used
from a source checkout (``pip install -e .``); ``CGTKIT_DATA_DIR`` points
elsewhere if needed.

Each YAML file has a pydantic model in the module that owns it (pages,
profile, catalog, attributes); :func:`load_model` reads the file and validates
it against that model. Every failure (a missing file, bad YAML, a field that
does not validate) is a :class:`~cgtkit.errors.CatalogError` whose message
names the file, the entry (position, and id when it has one) and the field,
and says what to do. The owning module then runs its checks across entries
(unique ids, known page ids ...) and reports them the same way, with
:func:`~cgtkit.errors.problem_sentence` and :func:`repeated_ids`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cgtkit.errors import CatalogError, describe_validation_error, entry_label, problem_sentence

__all__ = ["data_dir", "load_model", "parse_yaml", "read_yaml", "repeated_ids", "validate_data"]

M = TypeVar("M", bound=BaseModel)


def data_dir() -> Path:
    """The folder holding ``flexibilities.yaml``, ``pages.yaml``, ``examples/`` ..."""
    override = os.environ.get("CGTKIT_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "data"


def _path(source: str | os.PathLike[str]) -> Path:
    """A name (``"pages.yaml"``) is a file in :func:`data_dir`; a :class:`~pathlib.Path` is read as is."""
    return Path(source) if isinstance(source, os.PathLike) else data_dir() / source


def parse_yaml(text: str, *, where: str) -> Any:
    """Parse YAML text; bad syntax is a :class:`CatalogError` naming ``where``, the line and the column.

    >>> parse_yaml("pages: [home", where="pages.yaml")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cgtkit.errors.CatalogError: pages.yaml: not valid YAML at line 1, column 13: expected ',' or ']', but got
    '<stream end>'. Fix the syntax there (indentation, a missing bracket, colon or quote).
    """
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        if mark is not None and problem:
            detail = f"at line {mark.line + 1}, column {mark.column + 1}: {problem}"
        else:
            detail = f"({exc})"
        raise CatalogError(
            f"{where}: not valid YAML {detail}. Fix the syntax there (indentation, a missing bracket, colon or quote)."
        ) from exc


def read_yaml(source: str | os.PathLike[str]) -> Any:
    """Parse ``data/<source>`` (or the file at a :class:`~pathlib.Path`).

    A missing or unreadable file, or bad YAML, is a :class:`CatalogError`.
    """
    path = _path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError(
            f"{path.name}: cannot read {path}: the file is missing; restore it from the repository "
            "(or set CGTKIT_DATA_DIR to a folder that has it)."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CatalogError(f"{path.name}: cannot read {path} ({reason}); make it a readable UTF-8 text file.") from exc
    return parse_yaml(text, where=path.name)


def _names(keys: Iterable[str]) -> str:
    quoted = [f"'{k}'" for k in keys]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def validate_data(data: Any, model: type[M], *, where: str) -> M:
    """Validate parsed YAML against ``model``; any problem is a :class:`CatalogError` naming ``where``.

    >>> from pydantic import BaseModel, ConfigDict
    >>> class PagesFile(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     schema_version: int
    ...     pages: list[str]
    >>> validate_data({"schema_version": 2, "pages": ["home"]}, PagesFile, where="pages.yaml").pages
    ['home']
    >>> validate_data({"schema_version": "two", "pages": ["home"]}, PagesFile, where="pages.yaml")
    Traceback (most recent call last):
    ...
    cgtkit.errors.CatalogError: pages.yaml: field 'schema_version': must be a whole number; got 'two'.
    >>> validate_data({"schema_version": 2, "page": []}, PagesFile,
    ...               where="pages.yaml")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cgtkit.errors.CatalogError: pages.yaml: unknown top-level key 'page'; the file holds only 'schema_version'
    and 'pages'. Remove it or correct its spelling.
    >>> validate_data(["home"], PagesFile, where="pages.yaml")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cgtkit.errors.CatalogError: pages.yaml: the file must be a mapping with the top-level keys 'schema_version'
    and 'pages'; it holds a list.
    """
    fields = model.model_fields
    if not isinstance(data, Mapping):
        required = [name for name, info in fields.items() if info.is_required()] or list(fields)
        holds = "nothing" if data is None else "a list" if isinstance(data, list) else f"the value {data!r}"
        plural = "s" if len(required) > 1 else ""
        raise CatalogError(
            f"{where}: the file must be a mapping with the top-level key{plural} {_names(required)}; it holds {holds}."
        )
    if model.model_config.get("extra") == "forbid":
        unknown = [str(key) for key in data if key not in fields]
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            raise CatalogError(
                f"{where}: unknown top-level key{plural} {_names(unknown)}; the file holds only {_names(fields)}. "
                f"Remove {'them' if plural else 'it'} or correct {'their' if plural else 'its'} spelling."
            )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(describe_validation_error(exc, where=where, data=data)) from exc


def load_model(source: str | os.PathLike[str], model: type[M]) -> M:
    """Read ``data/<source>`` (or the file at a :class:`~pathlib.Path`) and validate it against ``model``.

    Raises
    ------
    CatalogError
        When the file is missing or unreadable, is not valid YAML, or does not
        validate. The message names the file, the entry (position, and id when
        it has one) and the field, and says what to do.

    Examples
    --------
    >>> from cgtkit.pages import _PagesFile
    >>> load_model("pages.yaml", _PagesFile).pages[0].id
    'home'
    >>> load_model("no_such_file.yaml", _PagesFile)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cgtkit.errors.CatalogError: no_such_file.yaml: cannot read .../no_such_file.yaml: the file is missing; ...
    """
    path = _path(source)
    return validate_data(read_yaml(path), model, where=path.name)


def _id(entry: Any) -> list[tuple[str, str]]:
    return [("id", entry.id)]


def repeated_ids(
    where: str, entries: Sequence[Any], names: Callable[[Any], Iterable[tuple[str, str]]] = _id
) -> list[str]:
    """A sentence for each name that an entry uses again.

    ``names(entry)`` gives the entry's (field, name) pairs; by default its ``id``.

    >>> from types import SimpleNamespace as Entry
    >>> repeated_ids("pages.yaml", [Entry(id="home"), Entry(id="start"), Entry(id="home")])
    ["pages.yaml, entry 3 (id 'home'): field 'id': 'home' is already used by entry 1 (id 'home'); ids must be unique."]
    """
    first: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        for field, name in names(entry):
            if name in first:
                problems.append(problem_sentence(
                    f"'{name}' is already used by {entry_label(first[name], entries[first[name]])}; ids must be unique",
                    where=where, entry=entry_label(index, entry), field=field,
                ))
            else:
                first[name] = index
    return problems
