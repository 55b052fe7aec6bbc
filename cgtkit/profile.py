"""The product profile: the facts about a sponsor's product that decide which
CMC flexibilities apply.

A profile is validated as a whole: single fields (no negative lot counts) and
combinations (no commercial lots before approval, no clinical lots before the
IND). Every problem becomes a :class:`~cgtkit.errors.ProfileError` whose message
names the field and says what to change, so the "Start here" form can show it
and keep the last valid results.

The development path has four parts:

* the **stage** (:class:`cgtkit.vocab.Stage`, seamless phase 1/2 and 2/3 included);
* whether the current study is **pivotal** (meant to support the BLA): many cell
  and gene therapies were licensed on phase 1/2 or phase 2 data, so process
  validation and commercial specification work is keyed to the pivotal study and
  to BLA planning (:attr:`ProductProfile.bla_planning`), not to "phase 3";
* the kind of **IND** (a development program, expanded access, or a
  single-patient IND);
* after approval, the **reporting category** of a planned change under
  21 CFR 601.12.

New fields all have defaults, so workbooks saved before they existed still open.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError, ProfileError, describe_validation_error
from cgtkit.vocab import STAGES, Stage

ChangeKind = Literal["none", "minor", "major"]
IndType = Literal["development", "expanded_access", "single_patient"]
ReportingCategory = Literal["not_set", "prior_approval", "cbe30", "cbe", "annual_report"]
GeneticTarget = Literal["not_genetic", "shared_variant", "individual_variant"]
Designation = Literal["none", "rmat", "breakthrough", "both"]
PotencyAssay = Literal["not_set", "in_development", "qualified", "validated"]
ProcessBridge = Literal["not_set", "same_process", "comparability_shown", "comparability_planned", "not_addressed"]
PpqMaterial = Literal["not_set", "patient", "healthy_donor"]

PRODUCT_TYPES_FILE = "product_types.yaml"
CHANGE_KINDS_FILE = "change_kinds.yaml"

#: Plain words for the choices of the form (and of the navigator's sentences).
IND_TYPE_LABELS: dict[str, str] = {
    "development": "a development IND (studies toward a BLA)",
    "expanded_access": "expanded access (a treatment IND or protocol, 21 CFR 312.315 or 312.320)",
    "single_patient": "a single-patient IND (individual expanded access, 21 CFR 312.310)",
}
REPORTING_LABELS: dict[str, str] = {
    "not_set": "not set",
    "prior_approval": "prior-approval supplement (21 CFR 601.12(b))",
    "cbe30": "CBE-30 supplement (21 CFR 601.12(c))",
    "cbe": "CBE supplement (21 CFR 601.12(c)(5))",
    "annual_report": "annual report (21 CFR 601.12(d))",
}
GENETIC_TARGET_LABELS: dict[str, str] = {
    "not_genetic": "not aimed at a genetic cause (or the cause is not known)",
    "shared_variant": "aimed at a known genetic cause; the same product for every patient",
    "individual_variant": "designed for each patient's own variant (individualized design)",
}
DESIGNATION_LABELS: dict[str, str] = {
    "none": "none",
    "rmat": "RMAT",
    "breakthrough": "breakthrough therapy",
    "both": "RMAT and breakthrough therapy",
}
POTENCY_LABELS: dict[str, str] = {
    "not_set": "not set",
    "in_development": "in development",
    "qualified": "qualified",
    "validated": "validated",
}
BRIDGE_LABELS: dict[str, str] = {
    "not_set": "not set",
    "same_process": "the pivotal lots were made with the commercial process",
    "comparability_shown": "comparability between pivotal and commercial process shown",
    "comparability_planned": "comparability study planned",
    "not_addressed": "not addressed yet",
}
PPQ_MATERIAL_LABELS: dict[str, str] = {
    "not_set": "not set",
    "patient": "patients' own material",
    "healthy_donor": "healthy-donor material",
}


class ProductType(BaseModel):
    """A modality from ``data/product_types.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    description: str
    individualized_default: bool
    example_dataset: str | None
    cells: bool = Field(description="The product is made of cells.")
    patient_cells_when_individualized: bool = Field(
        description="An individualized lot is made from the patient's own cells.")
    integrating_vector: bool = Field(description="Usually made with a retroviral or lentiviral vector.")


class _ProductTypesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    product_types: list[ProductType]


class ChangeType(BaseModel):
    """A kind of manufacturing change from ``data/change_kinds.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    after_approval: list[Literal["prior_approval", "cbe30", "cbe", "annual_report"]] = Field(min_length=1)
    minor_is_doubtful: bool
    note: str = Field(min_length=10)


class _ChangeKindsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    change_kinds: list[ChangeType]


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


@lru_cache(maxsize=1)
def load_change_kinds() -> dict[str, ChangeType]:
    """Kinds of manufacturing change by id, in file order, from ``change_kinds.yaml``."""
    parsed = load_model(CHANGE_KINDS_FILE, _ChangeKindsFile)
    problems = repeated_ids(CHANGE_KINDS_FILE, parsed.change_kinds)
    if problems:
        raise CatalogError(" ".join(problems))
    return {c.id: c for c in parsed.change_kinds}


def stage_index(stage: str) -> int:
    """Position of a stage in development order (pre-IND = 0 ... post-approval = 7)."""
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
    """What the navigator needs to know about the product and its development path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("Example autologous CAR-T", min_length=1, max_length=120)
    modality: str = "autologous_cell"
    stage: Stage = Stage.PHASE_1
    pivotal: bool = Field(
        False, description="The current study is pivotal (meant to support the BLA). Phase 2/3 and phase 3 "
                           "studies count as pivotal whatever this says.")
    ind_type: IndType = Field("development", description="What the IND is for.")
    individualized: bool = True
    lots_made: LotCounts = LotCounts(engineering=3, clinical=8)
    lots_per_year: int = Field(40, ge=0, description="Expected lots per year at the current stage.")
    lot_volume_ml: float | None = Field(None, gt=0, description="Volume of final product in one lot (mL).")
    doses_per_lot: int | None = Field(None, ge=1, description="Patient doses one lot yields.")
    final_containers_per_lot: int | None = Field(None, ge=1, description="Final containers (bags, vials) per lot.")
    patient_population: int = Field(5000, ge=1, description="Patients who could be treated (US).")
    serious_condition: bool = Field(True, description="The product treats a serious or life-threatening condition.")
    genetic_target: GeneticTarget = "not_genetic"
    shelf_life_days: float = Field(365.0, gt=0, description="Shelf life of the final product, in days.")
    planned_change: ChangeKind = "none"
    change_type: str = Field("unspecified", description="Kind of change: an id of data/change_kinds.yaml.")
    change_description: str = Field("", max_length=2000)
    reporting_category: ReportingCategory = Field(
        "not_set", description="After approval: the 21 CFR 601.12 category of the planned change.")
    new_technology_interest: bool = Field(
        False, description="Interest in new manufacturing technology (automation, closed systems)."
    )
    designation: Designation = Field("none", description="Expedited-program designation held.")
    accelerated_approval: bool = Field(False, description="Accelerated approval is planned.")
    potency_assay: PotencyAssay = "not_set"
    process_bridge: ProcessBridge = Field(
        "not_set", description="How the pivotal-study process relates to the commercial process.")
    ppq_material: PpqMaterial = Field("not_set", description="Starting material of the PPQ lots.")

    @model_validator(mode="after")
    def _consistent(self) -> ProductProfile:
        problems = list(_combination_problems(self))
        if problems:
            raise ValueError(" ".join(problems))
        return self

    # -- the development path ------------------------------------------------
    @property
    def stage_index(self) -> int:
        return stage_index(self.stage)

    @property
    def product_type(self) -> ProductType:
        return load_product_types()[self.modality]

    @property
    def change(self) -> ChangeType:
        return load_change_kinds()[self.change_type]

    @property
    def clinical(self) -> bool:
        """Clinical studies run under an IND now (phase 1 to phase 3)."""
        return Stage(self.stage).clinical

    @property
    def pivotal_study(self) -> bool:
        """The current study is the pivotal one: phase 2/3 and phase 3 always, earlier phases when flagged.
        Only for a development IND."""
        if not self.clinical or self.ind_type != "development":
            return False
        return self.pivotal or self.stage in (Stage.PHASE_2_3, Stage.PHASE_3)

    @property
    def bla_planning(self) -> bool:
        """BLA-enabling work is due now: the pivotal study runs, or the BLA is filed."""
        return self.pivotal_study or self.stage == Stage.BLA

    @property
    def approved(self) -> bool:
        return self.stage == Stage.POST_APPROVAL

    @property
    def part_211_expected(self) -> bool:
        """Part 211 applies to product made now: from phase 2 on, for any phase 2 part of a seamless
        phase 1/2 study, and for product made outside a phase 1 study (21 CFR 210.2(c))."""
        if self.stage_index >= stage_index(Stage.PHASE_1_2):
            return True
        return self.clinical and self.ind_type != "development"

    @property
    def reporting(self) -> tuple[str, bool]:
        """After approval: the 601.12 category of the planned change and whether cgtkit assumed it
        (from "major" or "minor") because the profile does not set it."""
        if self.reporting_category != "not_set":
            return self.reporting_category, False
        if self.planned_change == "major":
            return "prior_approval", True
        if self.planned_change == "minor":
            return "annual_report", True
        return "not_set", True

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
    changes = load_change_kinds()
    if p.change_type not in changes:
        problems.append(f"Unknown kind of change {p.change_type!r}; choose one of: {', '.join(changes)}.")
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
    if p.stage_index < stage_index("phase 2") and lots.ppq > 0 and not (p.pivotal and p.clinical):
        problems.append(
            "PPQ lots are made when the commercial process is being qualified, usually while the pivotal study "
            "runs or before the BLA: set a later stage, tick 'the current study is pivotal', or count these lots "
            "as engineering or clinical."
        )
    if p.planned_change != "none" and not p.change_description.strip():
        problems.append("Describe the planned manufacturing change in a few words (what changes, and why).")
    if p.ind_type != "development" and not p.clinical:
        problems.append(
            "Expanded access and single-patient INDs are INDs: choose a clinical stage (phase 1 to phase 3; for a "
            "single-patient IND with no other study, phase 1), or set the IND type to 'development'."
        )
    return problems


#: Form labels of the "Start here" page, used in messages instead of field paths, and to name the
#: facts that decided a navigator verdict (:attr:`cgtkit.navigator.AssessmentItem.facts`).
FIELD_LABELS = {
    "lots_made.engineering": "Engineering lots",
    "lots_made.clinical": "Clinical lots",
    "lots_made.ppq": "PPQ lots",
    "lots_made.commercial": "Commercial lots",
    "lots_per_year": "Lots per year",
    "lot_volume_ml": "Lot volume (mL)",
    "doses_per_lot": "Doses per lot",
    "final_containers_per_lot": "Final containers per lot",
    "patient_population": "Patient population",
    "shelf_life_days": "Shelf life (days)",
    "name": "Product name",
    "stage": "Stage",
    "modality": "Modality",
    "ind_type": "IND type",
    "reporting_category": "Reporting category",
    "pivotal": "Pivotal study",
    "individualized": "Individualized",
    "lots_made": "Lots made",
    "serious_condition": "Serious condition",
    "genetic_target": "Genetic cause",
    "planned_change": "Planned change",
    "change_type": "Kind of change",
    "new_technology_interest": "Interest in new technology",
    "designation": "Designation",
    "accelerated_approval": "Accelerated approval",
    "potency_assay": "Potency assay",
    "process_bridge": "Pivotal vs commercial process",
    "ppq_material": "PPQ material",
}
_FIELD_NAMES = FIELD_LABELS


def _profile_message(exc: ValidationError) -> str:
    return "The product profile is not consistent. " + describe_validation_error(exc, labels=_FIELD_NAMES)
