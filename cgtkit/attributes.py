"""Metadata for quality attributes: label, unit, scale, limit side, and kind.

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
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cgtkit.errors import CatalogError

__all__ = [
    "ATTRIBUTES_FILE",
    "AttributeSpec",
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
    kind : {"quantitative", "safety_fixed"}
        See the module docstring.
    result_type : {"numeric", "pass_fail"}
        Whether results are numbers (possibly censored, "<0.5") or pass/fail.
    scale : {"normal", "lognormal"}
        The scale on which the statistics work (lognormal: titers, copy
        numbers, residual impurities). Not used for pass/fail results.
    limit_side : {"lower", "upper", "two_sided"}
        Which side of the distribution a specification limits. Not used for
        pass/fail results.
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
    kind: Literal["quantitative", "safety_fixed"]
    result_type: Literal["numeric", "pass_fail"] = "numeric"
    scale: Literal["normal", "lognormal"]
    limit_side: Literal["lower", "upper", "two_sided"]
    fixed_requirement: str | None = None
    source: str | None = None
    verify: bool = False
    safety_discussion: bool = False
    description: str = Field(min_length=1)
    in_catalog: bool = True

    @model_validator(mode="after")
    def _kind_rules(self) -> AttributeSpec:
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
        return self.kind == "safety_fixed"


def _entry_name(index: int, entry: object) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return f"entry {index + 1} (id '{entry['id']}')"
    return f"entry {index + 1}"


def _format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"field '{loc}': {msg}" if loc else msg)
    return "; ".join(parts)


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
        The message names the file and the entry.
    """
    if path is None:
        from cgtkit.datafiles import data_dir

        file = data_dir() / "attributes.yaml"
    else:
        file = Path(path)
    where = file.name
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{where}: cannot read the attribute file ({exc.strerror or exc}).") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: not valid YAML ({exc}). Fix the syntax at the position shown.") from exc

    if not isinstance(raw, dict) or not isinstance(raw.get("attributes"), list):
        raise CatalogError(f"{where}: expected a top-level key 'attributes' holding a list of attributes.")
    unknown_top = set(raw) - {"attributes"}
    if unknown_top:
        raise CatalogError(f"{where}: unknown top-level key(s) {sorted(unknown_top)}; only 'attributes' is allowed.")

    specs: dict[str, AttributeSpec] = {}
    first_index: dict[str, int] = {}
    for index, entry in enumerate(raw["attributes"]):
        name = _entry_name(index, entry)
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}, {name}: expected a mapping of fields, got {type(entry).__name__}.")
        if "in_catalog" in entry:
            raise CatalogError(f"{where}, {name}: 'in_catalog' is set by cgtkit; remove it from the file.")
        try:
            spec = AttributeSpec.model_validate(entry)
        except ValidationError as exc:
            raise CatalogError(f"{where}, {name}: {_format_validation_error(exc)}.") from exc
        if not _SNAKE_CASE.match(spec.id):
            raise CatalogError(f"{where}, {name}: id must be snake_case (e.g. 'cell_dose'), got '{spec.id}'.")
        for product in spec.products:
            if not _SNAKE_CASE.match(product):
                raise CatalogError(f"{where}, {name}: product id must be snake_case (e.g. 'car_t'), got '{product}'.")
        if not spec.products:
            raise CatalogError(f"{where}, {name}: list at least one product id under 'products'.")
        if spec.id in specs:
            raise CatalogError(
                f"{where}, {name}: id '{spec.id}' is already used by entry {first_index[spec.id] + 1}; ids must be unique."
            )
        specs[spec.id] = spec
        first_index[spec.id] = index
    if not specs:
        raise CatalogError(f"{where}: the attribute list is empty.")
    return specs


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

    Quantitative, normal scale, two-sided, unit "" (the data's own unit
    applies), label = the id, ``in_catalog=False``.
    """
    return AttributeSpec(
        id=attribute_id,
        label=attribute_id,
        unit="",
        products=(),
        kind="quantitative",
        result_type="numeric",
        scale="normal",
        limit_side="two_sided",
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
