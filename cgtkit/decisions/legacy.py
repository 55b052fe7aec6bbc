"""Decisions of older workbooks that no typed kind fits, kept exactly as written, with their renderers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cgtkit.decisions.base import (
    SingleFlexibilityDecision,
    _head,
    _row,
    attribute_label,
    facts,
    fmt_number,
    limits_text,
    rows,
    summary,
)

class LegacyDecision(SingleFlexibilityDecision):
    """A decision from an older workbook that no typed kind fits, kept exactly as written.

    The migration maps an old decision to a typed kind only when every field
    has a typed home; otherwise it lands here, its untyped fields verbatim in
    ``extra`` (for schema 1: ``inputs`` and ``result``), so nothing is lost.
    """

    kind: Literal["legacy"] = "legacy"
    from_schema: int = Field(default=1, ge=1, description="Workbook schema the decision was written under.")
    extra: dict[str, Any] = Field(default_factory=dict, description="The fields no typed kind holds, as written.")


# legacy


def _legacy_part(d: LegacyDecision, part: str) -> dict[str, Any]:
    value = d.extra.get(part)
    return value if isinstance(value, dict) else {}


def _legacy_criterion(d: LegacyDecision) -> str:
    result = _legacy_part(d, "result")
    low, high = result.get("low"), result.get("high")
    if not all(isinstance(x, int | float) or x is None for x in (low, high)):
        return "—"
    return limits_text(low, high, str(result.get("unit", ""))) if low is not None or high is not None else "—"


def _legacy_attribute(d: LegacyDecision) -> str:
    attribute = _legacy_part(d, "inputs").get("attribute")
    return attribute_label(attribute) if isinstance(attribute, str) else "—"


@summary.register
def _summary_legacy(d: LegacyDecision) -> str:
    return (f"{_legacy_attribute(d)}: {_legacy_criterion(d)} ({d.method}); recorded under workbook schema {d.from_schema} "
            "and kept as written.")


@rows.register
def _rows_legacy(d: LegacyDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, _legacy_attribute(d), _legacy_criterion(d), d.method, "—")]


@facts.register
def _facts_legacy(d: LegacyDecision) -> list[tuple[str, str]]:
    out = _head(d) + [("Method", d.method), ("Recorded under", f"workbook schema {d.from_schema}, kept as written")]
    for part, value in d.extra.items():
        if isinstance(value, dict):
            out += [(f"{part}: {key}", _plain(v)) for key, v in value.items()]
        else:
            out.append((part, _plain(value)))
    out.append(("Justification", d.justification))
    return out


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


