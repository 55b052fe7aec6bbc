"""Metadata for quality attributes: label, unit, scale, limit side, kind, physical bounds.

The metadata lives in ``data/attributes.yaml`` and is validated with pydantic at
load. Two kinds matter to the rest of cgtkit:

``quantitative``
    Data-driven limits. The statistics (tolerance intervals, capability,
    comparability, stability) apply.
``safety_fixed``
    Pass/fail safety tests (sterility, mycoplasma, replication-competent virus)
    and dose-derived limits (endotoxin). cgtkit shows them as fixed requirements
    and its statistics never compute or widen them. This is a design rule of
    cgtkit, not a statement of FDA policy; which attributes count as safety
    attributes is the sponsor's call and a topic for the FDA meeting.

``physical_bounds`` are the values an attribute cannot go beyond whatever the
process does (0 and 100 for a percentage of a whole such as viability; only 0
for a potency relative to a reference, a titer or a copy number). A normal
model fitted to few lots can put a limit past them; the analyses clip limits at
these bounds, and only at these: the unit is never parsed for a "%".

User data may hold attributes that are not in the file: :func:`get_attribute`
returns a default quantitative, normal, two-sided spec for those, so that any
long-format data set works.

Example
-------
>>> from cgtkit.attributes import attributes_for, get_attribute
>>> sorted(attributes_for("aav"))[:3]
['aggregates', 'endotoxin', 'full_capsid_pct']
>>> get_attribute("vector_copy_number").safety_discussion
True
>>> get_attribute("my_new_assay").label
'my_new_assay'
>>> get_attribute("viability").physical_bounds
PhysicalBounds(low=0.0, high=100.0)
>>> get_attribute("relative_potency").physical_bounds
PhysicalBounds(low=0.0, high=None)
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError, entry_label, problem_sentence
from cgtkit.vocab import AttributeKind, LimitSide, Scale

__all__ = [
    "ATTRIBUTES_FILE",
    "AttributeSpec",
    "PhysicalBounds",
    "attributes_for",
    "default_attribute",
    "get_attribute",
    "load_attributes",
]

#: The attribute metadata shipped with cgtkit. :func:`load_attributes` reads
#: ``attributes.yaml`` in :func:`cgtkit.datafiles.data_dir` (this file unless
#: ``CGTKIT_DATA_DIR`` points elsewhere).
ATTRIBUTES_FILE = Path(__file__).resolve().parents[1] / "data" / "attributes.yaml"

_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class PhysicalBounds(BaseModel):
    """The values an attribute cannot physically go beyond; ``None`` for an open side.

    >>> PhysicalBounds(low=0).clip(-3.2, 101.0)
    (0.0, 101.0)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> PhysicalBounds:
        if self.low is None and self.high is None:
            raise ValueError("physical_bounds needs a low or a high bound (or leave physical_bounds out)")
        for name, value in (("low", self.low), ("high", self.high)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"physical_bounds.{name} must be a finite number; got {value}")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"physical_bounds.low ({self.low:g}) must be below physical_bounds.high ({self.high:g})")
        return self

    def clip(self, low: float | None, high: float | None) -> tuple[float | None, float | None]:
        """Limits moved back inside the bounds; an open limit (``None``) stays open."""
        if low is not None and self.low is not None:
            low = max(low, self.low)
        if high is not None and self.high is not None:
            high = min(high, self.high)
        return low, high


class AttributeSpec(BaseModel):
    """One quality attribute.

    Attributes
    ----------
    id : str
        snake_case id; the value of the ``attribute`` column in lot data.
    label, unit : str
        As shown on screen. ``unit`` is "" for pass/fail tests.
    products : tuple of str
        Example product ids that test this attribute (``car_t``, ``aav``).
    kind : AttributeKind
        ``quantitative`` or ``safety_fixed``; see the module docstring.
    result_type : {"numeric", "pass_fail"}
        Whether results are numbers (possibly censored, "<0.5") or pass/fail.
    scale : Scale
        The scale on which the statistics work: ``normal``, or ``log`` for
        log-normal attributes (titers, copy numbers, residual impurities).
        Not used for pass/fail results.
    limit_side : LimitSide
        Which side of the distribution a specification limits (``lower``,
        ``upper``, ``two_sided``). Not used for pass/fail results.
    physical_bounds : PhysicalBounds or None
        Numeric results only: the values the attribute cannot go beyond;
        limits are clipped there. ``None``: no bound is known.
    fixed_requirement : str or None
        ``safety_fixed`` only: the requirement in plain words.
    source : str or None
        The primary document behind ``fixed_requirement``.
    verify : bool
        True when the wording of ``source`` should be checked against the
        primary document.
    safety_discussion : bool
        True when whether this is a safety attribute is a topic for the FDA
        meeting (vector copy number).
    stability_direction : {"decrease", "increase", "unknown"} or None
        How the attribute changes on storage, which sets the side of the
        ICH Q1E confidence bound (decrease: the lower bound, e.g. viability;
        increase: the upper, e.g. aggregates; unknown: two-sided). ``None``:
        not recorded, and the stability analysis falls back on the limit side.
    description : str
        One line.
    in_catalog : bool
        False for the default spec returned for an attribute not in the file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    unit: str
    products: tuple[str, ...] = ()
    kind: AttributeKind
    result_type: Literal["numeric", "pass_fail"] = "numeric"
    scale: Scale
    limit_side: LimitSide
    physical_bounds: PhysicalBounds | None = None
    fixed_requirement: str | None = None
    source: str | None = None
    verify: bool = False
    safety_discussion: bool = False
    stability_direction: Literal["decrease", "increase", "unknown"] | None = None
    description: str = Field(min_length=1)
    in_catalog: bool = True

    @field_validator("scale", mode="before")
    @classmethod
    def _old_scale_spelling(cls, value: object) -> object:
        if value == "lognormal":
            raise ValueError("'lognormal' is spelled 'log' (scale: log); use normal or log")
        return value

    @model_validator(mode="after")
    def _kind_rules(self) -> AttributeSpec:
        if self.physical_bounds is not None and self.result_type == "pass_fail":
            raise ValueError("a pass_fail attribute has no physical_bounds; remove them")
        if self.stability_direction is not None and self.kind == "safety_fixed":
            raise ValueError("a safety_fixed attribute has no stability_direction (cgtkit estimates no shelf life "
                             "from a fixed safety requirement); remove it")
        if self.kind == "safety_fixed":
            if not (self.fixed_requirement and self.fixed_requirement.strip()):
                raise ValueError("a safety_fixed attribute needs a fixed_requirement")
            if not (self.source and self.source.strip()):
                raise ValueError("a safety_fixed attribute needs a source for its fixed_requirement")
        else:
            if self.fixed_requirement is not None:
                raise ValueError(
                    "a quantitative attribute has data-driven limits and no fixed_requirement; "
                    "make it safety_fixed or remove fixed_requirement"
                )
            if self.result_type == "pass_fail":
                raise ValueError("a pass_fail attribute cannot be quantitative; make it safety_fixed")
        return self

    @property
    def is_safety_fixed(self) -> bool:
        """True when the statistics must leave this attribute alone."""
        return self.kind is AttributeKind.SAFETY_FIXED


class _AttributesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attributes: list[AttributeSpec]


def _file_rules(where: str, index: int, spec: AttributeSpec) -> list[str]:
    """The rules for an entry of the file that a spec built in code (:func:`default_attribute`) need not meet."""
    entry = entry_label(index, spec)
    problems = []
    if "in_catalog" in spec.model_fields_set:
        problems.append(("in_catalog", "is set by cgtkit; remove it from the file"))
    if not _SNAKE_CASE.match(spec.id):
        problems.append(("id", f"must be snake_case (e.g. 'cell_dose'); got '{spec.id}'"))
    if not spec.products:
        problems.append(("products", "list at least one product id (e.g. car_t)"))
    for product in spec.products:
        if not _SNAKE_CASE.match(product):
            problems.append(("products", f"each product id must be snake_case (e.g. 'car_t'); got '{product}'"))
    return [problem_sentence(message, where=where, entry=entry, field=field) for field, message in problems]


@lru_cache(maxsize=8)
def load_attributes(path: str | Path | None = None) -> dict[str, AttributeSpec]:
    """Load and validate the attribute metadata.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file; defaults to ``attributes.yaml`` in
        :func:`cgtkit.datafiles.data_dir`. Results are cached per path (the
        returned dict is shared: do not modify it).

    Returns
    -------
    dict of str to AttributeSpec
        Keyed by attribute id, in file order.

    Raises
    ------
    CatalogError
        When the file is missing, is not valid YAML, or an entry is invalid.
        The message names the file, the entry and the field, and says what to do.
    """
    source = Path(path) if path is not None else "attributes.yaml"
    where = Path(source).name
    entries = load_model(source, _AttributesFile).attributes
    if not entries:
        raise CatalogError(f"{where}: the attribute list is empty; add at least one attribute under 'attributes'.")
    problems = [problem for index, spec in enumerate(entries) for problem in _file_rules(where, index, spec)]
    problems += repeated_ids(where, entries)
    if problems:
        raise CatalogError(" ".join(problems))
    return {spec.id: spec for spec in entries}


def attributes_for(product_id: str, *, path: str | Path | None = None) -> dict[str, AttributeSpec]:
    """The attributes of one example product, keyed by id, in file order.

    Raises
    ------
    ValueError
        When no attribute lists ``product_id``; the message names the known ids.
    """
    specs = load_attributes(path)
    selected = {k: v for k, v in specs.items() if product_id in v.products}
    if not selected:
        known = sorted({p for spec in specs.values() for p in spec.products})
        raise ValueError(f"No attributes for product '{product_id}'; known product ids: {', '.join(known)}.")
    return selected


def _normalise_id(attribute_id: str) -> str:
    return re.sub(r"[\s\-]+", "_", attribute_id.strip().lower())


def default_attribute(attribute_id: str) -> AttributeSpec:
    """The spec used for an attribute that is not in the metadata file.

    Quantitative, normal scale, two-sided, no physical bounds, unit "" (the
    data's own unit applies), label = the id, ``in_catalog=False``.
    """
    return AttributeSpec(
        id=attribute_id,
        label=attribute_id,
        unit="",
        products=(),
        kind=AttributeKind.QUANTITATIVE,
        result_type="numeric",
        scale=Scale.NORMAL,
        limit_side=LimitSide.TWO_SIDED,
        description=(
            "Not in cgtkit's attribute list: treated as quantitative, normal scale, two-sided. "
            "Check that this suits the attribute."
        ),
        in_catalog=False,
    )


def get_attribute(attribute_id: str, *, path: str | Path | None = None) -> AttributeSpec:
    """Look up an attribute, falling back to :func:`default_attribute`.

    The id is matched exactly first, then case-insensitively with spaces and
    hyphens read as underscores (``"Cell dose"`` finds ``cell_dose``). The
    returned spec's ``id`` is always ``attribute_id`` as given, so that it
    selects the same rows of the lot data (``"Cell dose"`` gets the metadata
    of ``cell_dose`` under the id ``"Cell dose"``).
    """
    specs = load_attributes(path)
    if attribute_id in specs:
        return specs[attribute_id]
    normalised = _normalise_id(attribute_id)
    if normalised in specs:
        return specs[normalised].model_copy(update={"id": attribute_id})
    return default_attribute(attribute_id)
