"""What every decision has, and the one renderer's generic parts.

:class:`DecisionBase` holds who-what-when, the method, the flexibilities it
supports and the user's justification; each family of kinds lives in a module
of its own (:mod:`cgtkit.decisions.specifications`, ...). :func:`summary`,
:func:`rows` and :func:`facts` turn any decision into words: each kind
registers its own, so the pages and the decision record tell one story.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import singledispatch
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cgtkit.tables import number
from cgtkit.vocab import LotType

def _now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A short random id: decisions are removed and cited by it."""
    import uuid

    return uuid.uuid4().hex[:12]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecisionBase(_Frozen):
    """What every decision has: who-what-when, the method named, and the user's own words."""

    kind: str
    id: str = Field(default_factory=new_id, description="Short random id; removal and citations use it.")
    timestamp: datetime = Field(default_factory=_now)
    page: str = Field(description="Id of the page where it was taken (data/pages.yaml), e.g. 'clinical_development'.")
    method: str = Field(description="The method, named precisely (e.g. 'normal tolerance interval, two-sided, exact k').")
    justification: str = Field(description="The user's justification: the one piece of prose a decision stores.")
    superseded: tuple[dict[str, Any], ...] = Field(
        default=(), description="The earlier decisions (as saved) this one replaced for the same attributes: its history.")
    review: str | None = Field(
        default=None, description="Why the decision needs a review (e.g. its data set was replaced); None when current.")

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        """Catalog ids of the flexibilities the decision supports, in order, without repeats."""
        raise NotImplementedError

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attributes the decision is about (none for a plan or a legacy decision)."""
        return ()

    @property
    def subjects(self) -> tuple[str, ...]:
        """What the decision decides about: a later decision of the same page on the same subject
        replaces it (attribute ids for criteria; a key naming the comparison, plan or claim otherwise)."""
        return self.attributes

    def without(self, gone: set[str]) -> DecisionBase | None:
        """What is left of this decision when a newer one decides ``gone`` again (None: nothing)."""
        return None if set(self.subjects) & gone else self

    def figure_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Groups of lots the decision compared, each with its label (before and after a change): the
        record's figures colour the lots by them. None by default: figures colour lots by type."""
        return ()

    def question_facts(self) -> dict[str, str]:
        """Facts of this decision that the catalog's question templates use (``{change}``,
        ``{lots_detail}``: :data:`cgtkit.catalog.QUESTION_FIELDS`) in place of the product profile's,
        so that a question about a recorded decision speaks of what it decided."""
        return {}


def lots_phrase(n: int, lot_types: Sequence[str], dataset: str) -> str:
    """The lots a decision used, for a question to FDA.

    >>> lots_phrase(33, ("clinical", "ppq"), "car_t_lots")
    'the 33 lots of data set car_t_lots (chosen from its clinical and PPQ lots)'
    """
    types = " and ".join(LotType(t).label for t in lot_types)
    return (f"the {n} lot{'' if n == 1 else 's'} of data set {dataset}"
            + (f" (chosen from its {types} lots)" if types else ""))


class SingleFlexibilityDecision(DecisionBase):
    """A decision that supports one catalog flexibility (every kind but a set of criteria)."""

    flexibility_id: str = Field(description="The catalog id of the flexibility the decision supports.")

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        return (self.flexibility_id,)


def _check_lots(lot_ids: tuple[str, ...], n: int, what: str) -> None:
    if n != len(lot_ids):
        raise ValueError(f"{what}: n = {n} but {len(lot_ids)} lot ids")


def _check_limits(low: float | None, high: float | None, what: str) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(f"{what}: low limit {low} is above high limit {high}")


# -- the renderer ----------------------------------------------------------------
# Everything below turns fields into words. The pages and the report call these
# functions and nothing else, so a decision reads the same everywhere.

#: Columns of :func:`rows`, with their headers, in display order.
COLUMNS: dict[str, str] = {
    "when": "When",
    "flexibility": "Flexibility",
    "attribute": "Attribute",
    "criterion": "Criterion or result",
    "method": "Method",
    "risk": "Risk of later lots outside, or power",
}


fmt_number = number(4)  # four significant digits, a dash for no value (the tables' formatter)


def fmt_probability(p: float | None) -> str:
    return "—" if p is None else ("<0.1%" if p < 0.001 else f"{p:.1%}")


def limits_text(low: float | None, high: float | None, unit: str) -> str:
    """``'70 to 95 %'``, ``'not less than 70 %'``, ``'not more than 2 %'`` or ``'fixed requirement'``.

    >>> limits_text(70, None, "%")
    'not less than 70 %'
    """
    if low is not None and high is not None:
        return f"{low:.4g} to {high:.4g} {unit}"
    if low is not None:
        return f"not less than {low:.4g} {unit}"
    if high is not None:
        return f"not more than {high:.4g} {unit}"
    return "fixed requirement"


def attribute_label(attribute_id: str) -> str:
    """The attribute's label from the attribute list; the id itself if the list cannot say."""
    from cgtkit.attributes import get_attribute
    from cgtkit.errors import CgtkitError

    try:
        return get_attribute(attribute_id).label
    except CgtkitError:
        return attribute_id


def page_title(page_id: str) -> str:
    """The page's title from data/pages.yaml; the id itself for a page that no longer exists."""
    from cgtkit.errors import CgtkitError
    from cgtkit.pages import load_pages

    try:
        return next((p.title for p in load_pages() if p.id == page_id), page_id)
    except CgtkitError:
        return page_id


def when(decision: DecisionBase) -> str:
    """The time stamp as the pages show it, in UTC."""
    ts = decision.timestamp
    if ts.tzinfo is not None:
        return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{ts:%Y-%m-%d %H:%M}"


def _lots(lot_ids: tuple[str, ...]) -> str:
    return f"{len(lot_ids)}" + (f" ({', '.join(lot_ids)})" if lot_ids else "")


@singledispatch
def summary(decision: DecisionBase) -> str:
    """One sentence saying what was decided, from what, with which numbers."""
    raise TypeError(f"No summary for decision kind {decision.kind!r}: register one (see cgtkit.decisions).")


@singledispatch
def rows(decision: DecisionBase) -> list[dict[str, str]]:
    """Table rows, one per criterion, with the keys of :data:`COLUMNS` (plus ``decision_id``)."""
    raise TypeError(f"No table rows for decision kind {decision.kind!r}: register them (see cgtkit.decisions).")


@singledispatch
def facts(decision: DecisionBase) -> list[tuple[str, str]]:
    """Every field as (label, text) pairs, in reading order: the decision record's full entry."""
    raise TypeError(f"No facts for decision kind {decision.kind!r}: register them (see cgtkit.decisions).")


def _row(decision: DecisionBase, flexibility: str, attribute: str, criterion: str, method: str,
         risk: str) -> dict[str, str]:
    return {"decision_id": decision.id, "when": when(decision), "flexibility": flexibility, "attribute": attribute,
            "criterion": criterion, "method": method, "risk": risk}


def _head(decision: DecisionBase) -> list[tuple[str, str]]:
    return [("Decision", decision.id), ("Recorded", when(decision)), ("Page", page_title(decision.page)),
            ("Supports", ", ".join(decision.flexibility_ids))]


def label(decision: DecisionBase) -> str:
    """A one-line label for choosing the decision in a list: when, what about, which flexibility."""
    attributes = list(dict.fromkeys(r["attribute"] for r in rows(decision)))
    subject = attributes[0] if len(attributes) == 1 else f"{len(attributes)} attributes"
    flag = "[to review] " if decision.review else ""
    return f"{flag}{when(decision)} — {subject} — {', '.join(decision.flexibility_ids)}"


