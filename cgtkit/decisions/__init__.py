"""Decisions as typed data, and the one renderer that turns them into words.

A decision the user records on a page (an accepted criterion, a set of
investigational criteria, ...) is kept as fields: the inputs it used, the method,
the numbers it rests on, the flexibility it supports, and the user's
justification. Nothing else in a decision is prose. The sentences the pages show
in "Decisions recorded" and the decision record prints (HTML, Markdown, Word) are
rendered from the fields by :func:`summary`, :func:`rows` and :func:`facts`, so the
page and the report can never tell two different stories, and a wording change
reaches old workbooks too.

Modules: :mod:`~cgtkit.decisions.base` (what every decision has, the renderer's
generic parts), then one module per family of kinds:
:mod:`~cgtkit.decisions.specifications`, :mod:`~cgtkit.decisions.comparability`,
:mod:`~cgtkit.decisions.process_validation`, :mod:`~cgtkit.decisions.stability`,
:mod:`~cgtkit.decisions.legacy`.

Each kind is a pydantic model with a ``kind`` tag; :data:`Decision` is their
discriminated union, the type of ``Session.decisions``.

>>> from datetime import UTC, datetime
>>> d = CommercialCriterionDecision(
...     id="a1b2c3", timestamp=datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
...     page="commercial_specifications", flexibility_id="CS-SPEC-FLEX-BLA",
...     method="normal tolerance interval, one-sided, exact k, original scale",
...     justification="Lower limit from 10 lots.",
...     dataset="car_t_lots", attribute="viability", lot_types=("clinical", "ppq"),
...     lot_ids=tuple(f"L{i}" for i in range(10)), n=10, candidate="ti_99_95", k_method="exact",
...     low=71.25, high=None, unit="%", k=3.532,
...     risk=(HorizonRisk(horizon=10, probability=0.0421), HorizonRisk(horizon=50, probability=0.12)))
>>> d.lot_types
(<LotType.CLINICAL: 'clinical'>, <LotType.PPQ: 'ppq'>)
>>> summary(d)  # doctest: +NORMALIZE_WHITESPACE
'Viability: not less than 71.25 %, set as normal tolerance interval, one-sided, exact k, original scale; 10 lots
 (clinical, PPQ) of data set car_t_lots; probability that at least one of the next 10/50 lots of an unchanged
 process falls outside: 4.2%/12.0%.'
>>> rows(d)[0]["criterion"], rows(d)[0]["risk"]
('not less than 71.25 %', 'next 10/50 lots: 4.2%/12.0%')
>>> parse_decision(d.model_dump(mode="json")) == d
True

How to add a decision kind
--------------------------
1. In a module of this package (a new one for a new page), subclass
   :class:`DecisionBase` with ``kind: Literal["my_kind"] = "my_kind"`` and typed
   fields: enums from :mod:`cgtkit.vocab` (not strings), numbers as numbers,
   small frozen models for repeated groups, no sentences but the user's
   ``justification``. Implement ``flexibility_ids``, and ``attributes`` or
   ``subjects`` (what a later decision on the same page replaces).
2. Add the class to the :data:`Decision` union below.
3. Register its renderers in its module: ``@summary.register`` and ``@rows.register`` (and
   ``@facts.register`` for every field in full); ``tests/unit/test_decisions.py``
   fails for a kind without them.
4. Raise ``SCHEMA_VERSION`` in :mod:`cgtkit.session` with an identity migration
   for the previous version: an older cgtkit then refuses a file holding the new
   kind with "written by a newer cgtkit" instead of calling it damaged.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter

from cgtkit.decisions.base import (
    COLUMNS,
    DecisionBase,
    attribute_label,
    facts,
    fmt_number,
    fmt_probability,
    label,
    limits_text,
    new_id,
    page_title,
    rows,
    summary,
    when,
)
from cgtkit.decisions.comparability import ComparabilityDecision, ComparabilityFinding
from cgtkit.decisions.legacy import LegacyDecision
from cgtkit.decisions.process_validation import ConcurrentReleaseDecision, PpqLotCountDecision
from cgtkit.decisions.specifications import (
    CommercialCriterionDecision,
    HorizonRisk,
    InvestigationalCriteriaDecision,
    InvestigationalCriterion,
    KMethod,
    ToleranceBasis,
    criterion_method,
)
from cgtkit.decisions.stability import PlanOutcome, PlanTest, ShelfLifeDecision, TestingPlanDecision

__all__ = [
    "COLUMNS",
    "CommercialCriterionDecision",
    "ComparabilityDecision",
    "ComparabilityFinding",
    "ConcurrentReleaseDecision",
    "DECISION_KINDS",
    "Decision",
    "DecisionBase",
    "HorizonRisk",
    "InvestigationalCriteriaDecision",
    "InvestigationalCriterion",
    "KMethod",
    "LegacyDecision",
    "PlanOutcome",
    "PlanTest",
    "PpqLotCountDecision",
    "ShelfLifeDecision",
    "TestingPlanDecision",
    "ToleranceBasis",
    "attribute_label",
    "attributes",
    "criterion_method",
    "facts",
    "fmt_number",
    "fmt_probability",
    "label",
    "limits_text",
    "new_id",
    "page_title",
    "parse_decision",
    "rows",
    "summary",
    "when",
    "without_attributes",
]

#: The type of ``Session.decisions`` items: one of the kinds, told apart by ``kind``.
Decision = Annotated[
    CommercialCriterionDecision | InvestigationalCriteriaDecision | ComparabilityDecision | PpqLotCountDecision
    | ConcurrentReleaseDecision | ShelfLifeDecision | TestingPlanDecision | LegacyDecision,
    Field(discriminator="kind"),
]
DECISION_KINDS: tuple[type[DecisionBase], ...] = get_args(get_args(Decision)[0])
_ADAPTER: TypeAdapter[Decision] = TypeAdapter(Decision)


def parse_decision(data: Any) -> Decision:
    """A decision of the right kind from its JSON-like dict (raises pydantic's ValidationError)."""
    return _ADAPTER.validate_python(data)



def attributes(decision: DecisionBase) -> tuple[str, ...]:
    """The attributes a decision decides about (a plan or a legacy decision: none)."""
    return decision.attributes


def without_attributes(decision: DecisionBase, gone: set[str]) -> DecisionBase | None:
    """``decision`` without what ``gone`` decides again (None when nothing is left): what an earlier
    decision keeps when a newer one replaces part of it."""
    return decision.without(gone)
