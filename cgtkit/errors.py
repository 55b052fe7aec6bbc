"""One hierarchy of errors whose messages a person can act on.

Every error cgtkit raises on purpose derives from :class:`CgtkitError`, so a page
can catch that one class, show its message in the status area, and keep the
user's previous state. Messages say what was wrong, where, and how to fix it;
:func:`describe_validation_error` says it in one way for every pydantic model
(data files, the product profile, the workbook file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

    from cgtkit.io import Problem


class CgtkitError(ValueError):
    """Base class: a problem with the user's input that the user can fix."""


class LotDataError(CgtkitError):
    """A lot data file cannot be read into the cgtkit long format.

    ``problems`` holds the problems found in the file's content, one
    :class:`cgtkit.io.Problem` each (row, column, value, kind, fix), so a page
    can show them as a table; it is empty when the file as a whole cannot be
    read. ``str(error)`` is the message, which names them all.
    """

    def __init__(self, *args: object, problems: Sequence[Problem] = ()) -> None:
        super().__init__(*args)
        self.problems: tuple[Problem, ...] = tuple(problems)


class SessionError(CgtkitError):
    """A workbook session file cannot be read or written."""


class CatalogError(CgtkitError):
    """The flexibility catalog or another data file in ``data/`` is invalid."""


class ProfileError(CgtkitError):
    """A product profile is inconsistent (e.g. post-approval with no lots made)."""


class InsufficientDataError(CgtkitError):
    """A statistic cannot be computed from the data given (too few lots, zero variance...)."""


# -- messages ------------------------------------------------------------------
# One way to say where a problem is and what to do about it, for every pydantic
# model cgtkit validates (data files, the product profile, the workbook file):
# ``<where>, entry <n> (id '<id>'): field '<path>': <what to do>.``


def entry_label(index: int, entry: object = None) -> str:
    """How a message names the entry at ``index`` (0-based) of a list: its position, and its id if it has one.

    >>> entry_label(3, {"id": "vector_copy_number", "scale": "exp"})
    "entry 4 (id 'vector_copy_number')"
    >>> entry_label(0, 17)
    'entry 1'
    """
    entry_id = entry.get("id") if isinstance(entry, Mapping) else getattr(entry, "id", None)
    if isinstance(entry_id, str) and entry_id.strip():
        return f"entry {index + 1} (id '{entry_id}')"
    return f"entry {index + 1}"


def problem_sentence(message: str, *, where: str = "", entry: str = "", field: str = "", label: str = "") -> str:
    """One problem as one sentence: ``where, entry: field 'path': message.``

    ``label`` (a form label such as "Engineering lots") replaces ``field 'path'``.

    >>> problem_sentence("must be 0 or more", where="attributes.yaml", entry="entry 2", field="physical_bounds.low")
    "attributes.yaml, entry 2: field 'physical_bounds.low': must be 0 or more."
    >>> problem_sentence("must be 0 or more", field="lots_made.ppq", label="PPQ lots")
    'PPQ lots: must be 0 or more.'
    """
    place = ", ".join(p for p in (where, entry) if p)
    head = ": ".join(p for p in (place, label or (f"field '{field}'" if field else "")) if p)
    text = f"{head}: {message}" if head else message
    return text if text.endswith((".", "!", "?")) else text + "."


#: pydantic error types in words that say what to do (``{name}`` takes the error's context).
_PLAIN_WORDS: dict[str, str] = {
    "missing": "is required; add it",
    "extra_forbidden": "is not a known field; remove it or correct its spelling",
    "greater_than_equal": "must be {ge} or more",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be {le} or less",
    "less_than": "must be less than {lt}",
    "finite_number": "must be a finite number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "string_too_long": "is too long (at most {max_length} characters)",
    "string_pattern_mismatch": "must match the pattern '{pattern}'",
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping (name: value)",
    "model_type": "expected a mapping of fields (name: value)",
    "model_attributes_type": "expected a mapping of fields (name: value)",
}
#: Error types whose message ends with the value given ("...; got -1").
_SHOW_INPUT = {
    "greater_than_equal", "greater_than", "less_than_equal", "less_than", "finite_number", "int_parsing",
    "int_from_float", "float_parsing", "bool_parsing", "string_pattern_mismatch", "literal_error", "enum",
}
_TYPE_ERRORS = {"int_type", "float_type", "bool_type", "string_type", "list_type", "tuple_type", "dict_type",
                "model_type", "model_attributes_type"}


def _shown(value: object) -> str:
    """A value as the user wrote it, shortened."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML and JSON write it
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(err: Mapping[str, Any]) -> str:
    """The error's message in words that say what to do."""
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        text = f"must be one of {expected}" if "' or '" in expected else f"must be {expected}"
    elif kind in ("too_short", "too_long"):
        length = ctx.get("min_length" if kind == "too_short" else "max_length", 1)
        text = f"must have at {'least' if kind == 'too_short' else 'most'} {length} item{'' if length == 1 else 's'}"
    elif kind == "union_tag_invalid":
        text = f"field {ctx.get('discriminator')} must be one of {ctx.get('expected_tags')}; got '{ctx.get('tag')}'"
    elif kind == "union_tag_not_found":
        text = f"field {ctx.get('discriminator')} is required; add it"
    elif kind == "string_too_short":
        length = ctx.get("min_length", 1)
        text = "must not be empty" if length == 1 else f"must have at least {length} characters"
    elif kind in _PLAIN_WORDS:
        try:
            text = _PLAIN_WORDS[kind].format(**ctx)
        except (KeyError, IndexError, ValueError):
            text = str(err.get("msg", ""))
    else:
        text = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _TYPE_ERRORS:
        text += f", got {_shown(err.get('input'))}"
    elif kind in _SHOW_INPUT:
        text += f"; got {_shown(err.get('input'))}"
    return text


_UNKNOWN = object()


def _user_path(loc: Sequence[int | str], data: object, kind: str) -> tuple[list[int | str], bool]:
    """The location without the names pydantic adds for union members (``list[str]``, a kind tag),
    and whether its last part was such a name (the input does not fit that member at all).

    Walks ``data`` (the validated input) along ``loc`` and keeps only what the
    user wrote: keys present in the data, list positions, and the missing key of
    a "missing" error. Without data (or below a value that is not plain data,
    such as a model instance), the location is kept as is.
    """
    kept: list[int | str] = []
    last_dropped = False
    node = data
    for position, part in enumerate(loc):
        last_dropped = False
        if not isinstance(node, (Mapping, list, tuple, str, int, float, type(None))):
            node = _UNKNOWN  # e.g. a model instance given as a field's value: its fields are not looked up
        if node is _UNKNOWN:
            kept.append(part)
        elif isinstance(part, int):
            kept.append(part)
            node = node[part] if isinstance(node, (list, tuple)) and -len(node) <= part < len(node) else _UNKNOWN
        elif isinstance(node, Mapping) and part in node:
            kept.append(part)
            node = node[part]
        elif position == len(loc) - 1 and kind == "missing":
            kept.append(part)
        else:  # a union member's or a discriminator's name, not in the user's data
            last_dropped = True
    return kept, last_dropped


def describe_validation_error(
    exc: ValidationError,
    *,
    where: str = "",
    data: object = _UNKNOWN,
    labels: Mapping[str, str] | None = None,
    limit: int = 10,
    name_lists: bool = False,
) -> str:
    """A pydantic ``ValidationError`` as plain sentences, one per problem.

    ``name_lists`` adds the list's name to an entry ("decisions, entry 2 ...") where the
    input holds several lists (a workbook), not one (a data file).

    Each sentence names the place (``where``: a file name, or nothing), the
    entry when the problem lies in a list at the top of the input (``entry 4
    (id 'vector_copy_number')``, by position and, when ``data`` is given and
    the entry has one, by id), the field (``field 'physical_bounds.low'``, or
    its form label from ``labels``, keyed by the field's dotted path) and what
    to do (``must be 0 or more; got -1``).

    Parameters
    ----------
    exc : pydantic.ValidationError
    where : str
        Starts every sentence, e.g. the file name ``"attributes.yaml"``.
    data : object, optional
        The input that was validated: names entries by id and leaves out the
        names pydantic adds for union members and kind tags.
    labels : mapping of str to str, optional
        Field path -> label shown instead of ``field 'path'``.
    limit : int
        At most this many sentences; the rest are counted.

    Examples
    --------
    >>> from pydantic import BaseModel, Field, ValidationError
    >>> class Attribute(BaseModel):
    ...     id: str
    ...     scale: str = Field(pattern="^(normal|log)$")
    >>> class File(BaseModel):
    ...     attributes: list[Attribute]
    >>> data = {"attributes": [{"id": "viability", "scale": "log"}, {"id": "vcn", "scale": "exp"}, {}]}
    >>> try:
    ...     File.model_validate(data)
    ... except ValidationError as exc:
    ...     print(describe_validation_error(exc, where="attributes.yaml", data=data))  # doctest: +NORMALIZE_WHITESPACE
    attributes.yaml, entry 2 (id 'vcn'): field 'scale': must match the pattern '^(normal|log)$'; got 'exp'.
    attributes.yaml, entry 3: field 'id': is required; add it.
    attributes.yaml, entry 3: field 'scale': is required; add it.
    >>> class Lots(BaseModel):
    ...     ppq: int = Field(ge=0)
    >>> try:
    ...     Lots(ppq=-1)
    ... except ValidationError as exc:
    ...     print(describe_validation_error(exc, labels={"ppq": "PPQ lots"}))
    PPQ lots: must be 0 or more; got -1.
    """
    located = [(err, *_user_path(err.get("loc", ()), data, str(err.get("type", "")))) for err in exc.errors()]
    sentences: list[str] = []
    for err, path, member_mismatch in located:
        if member_mismatch and any(len(other) > len(path) and other[: len(path)] == path for _, other, _ in located):
            continue  # the input fits another member of the union further down: that error is the one to fix
        entry = ""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            path_name = path[0]
            entries = data.get(path[0]) if isinstance(data, Mapping) else None
            raw = entries[path[1]] if isinstance(entries, list) and 0 <= path[1] < len(entries) else None
            entry, path = entry_label(path[1], raw), path[2:]
            if name_lists:
                entry = f"{path_name}, {entry}"
        field = ".".join(str(p) for p in path)
        label = (labels or {}).get(field, "")
        sentence = problem_sentence(_plain(err), where=where, entry=entry, field=field, label=label)
        if sentence not in sentences:
            sentences.append(sentence)
    if len(sentences) > limit:
        hidden = len(sentences) - limit
        sentences = [*sentences[:limit], f"({hidden} more problem{'s' if hidden > 1 else ''} not shown.)"]
    return " ".join(sentences)
