"""The product profile: the facts about a sponsor's product that decide which
CMC flexibilities apply.

A profile is validated as a whole: single fields (no negative lot counts) and
combinations (no commercial lots before approval, no clinical lots before the
IND). Every problem becomes a :class:`~cgtkit.errors.ProfileError` whose message
names the field and says what to change, so the "Start here" form can show it
and keep the last valid results.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError, ProfileError, describe_validation_error
from cgtkit.vocab import STAGES, Stage

ChangeKind = Literal["none", "minor", "major"]
PRODUCT_TYPES_FILE = "product_types.yaml"


class ProductType(BaseModel):
    """A modality from ``data/product_types.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    description: str
    individualized_default: bool
    example_dataset: str | None


class _ProductTypesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    product_types: list[ProductType]


@lru_cache(maxsize=1)
def load_product_types() -> dict[str, ProductType]:
    """Modalities by id, in file order, from ``product_types.yaml`` in :func:`cgtkit.datafiles.data_dir`.

    Raises :class:`CatalogError` (naming the file, the entry and the field) when
    the file is missing or invalid, or when two product types share an id.
    """
    parsed = load_model(PRODUCT_TYPES_FILE, _ProductTypesFile)
    problems = repeated_ids(PRODUCT_TYPES_FILE, parsed.product_types)
    if problems:
        raise CatalogError(" ".join(problems))
    return {pt.id: pt for pt in parsed.product_types}


def stage_index(stage: str) -> int:
    """Position of a stage in development order (pre-IND = 0 ... post-approval = 5)."""
    return STAGES.index(stage)  # type: ignore[arg-type]


class LotCounts(BaseModel):
    """Lots made so far, by type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engineering: int = Field(0, ge=0)
    clinical: int = Field(0, ge=0)
    ppq: int = Field(0, ge=0)
    commercial: int = Field(0, ge=0)

    @property
    def total(self) -> int:
        return self.engineering + self.clinical + self.ppq + self.commercial


class ProductProfile(BaseModel):
    """What the navigator needs to know about the product and its stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("Example autologous CAR-T", min_length=1, max_length=120)
    modality: str = "autologous_cell"
    stage: Stage = Stage.PHASE_1
    individualized: bool = True
    lots_made: LotCounts = LotCounts(engineering=3, clinical=8)
    lots_per_year: int = Field(40, ge=0, description="Expected lots per year at the current stage.")
    patient_population: int = Field(5000, ge=1, description="Patients who could be treated (US).")
    shelf_life_days: float = Field(365.0, gt=0, description="Shelf life of the final product, in days.")
    planned_change: ChangeKind = "none"
    change_description: str = Field("", max_length=2000)
    new_technology_interest: bool = Field(
        False, description="Interest in new manufacturing technology (automation, closed systems)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ProductProfile:
        problems = list(_combination_problems(self))
        if problems:
            raise ValueError(" ".join(problems))
        return self

    @property
    def stage_index(self) -> int:
        return stage_index(self.stage)

    @property
    def product_type(self) -> ProductType:
        return load_product_types()[self.modality]

    @classmethod
    def build(cls, **fields: object) -> ProductProfile:
        """Validate ``fields`` into a profile; any problem is a :class:`ProfileError`."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise ProfileError(_profile_message(exc)) from exc


def _combination_problems(p: ProductProfile) -> list[str]:
    problems: list[str] = []
    types = load_product_types()
    if p.modality not in types:
        problems.append(f"Unknown modality {p.modality!r}; choose one of: {', '.join(types)}.")
    lots = p.lots_made
    if p.stage == "pre-IND" and lots.clinical > 0:
        problems.append(
            "Clinical lots are made under an IND: at the pre-IND stage the clinical lot count must be 0 "
            "(count engineering or development runs as engineering lots)."
        )
    if p.stage != "post-approval" and lots.commercial > 0:
        problems.append(
            "Commercial lots exist only after BLA approval: set the stage to post-approval or the commercial lot count to 0."
        )
    if p.stage == "post-approval" and lots.total == 0:
        problems.append(
            "A post-approval product has been manufactured: enter the lots made so far (at least one)."
        )
    if p.stage_index < stage_index("phase 2") and lots.ppq > 0:
        problems.append(
            "PPQ lots are made late in development (usually phase 3 or before the BLA): "
            "set the stage to phase 3 or later, or count these lots as engineering or clinical."
        )
    if p.planned_change != "none" and not p.change_description.strip():
        problems.append("Describe the planned manufacturing change in a few words (what changes, and why).")
    return problems


#: Form labels of the "Start here" page, used in messages instead of field paths.
_FIELD_NAMES = {
    "lots_made.engineering": "Engineering lots",
    "lots_made.clinical": "Clinical lots",
    "lots_made.ppq": "PPQ lots",
    "lots_made.commercial": "Commercial lots",
    "lots_per_year": "Lots per year",
    "patient_population": "Patient population",
    "shelf_life_days": "Shelf life (days)",
    "name": "Product name",
    "stage": "Stage",
    "modality": "Modality",
}


def _profile_message(exc: ValidationError) -> str:
    return "The product profile is not consistent. " + describe_validation_error(exc, labels=_FIELD_NAMES)
