"""The Start here page's state, without widgets: the profile form's fields as traits,
and the profile, navigator assessment and meeting plan derived from them.

Every field change rebuilds the profile through :meth:`ProductProfile.build`.
A valid profile replaces :attr:`profile`, :attr:`assessment` and :attr:`plan`; an
invalid one sets :attr:`problem` and keeps the last valid ones, so the page keeps
showing the last valid results.

Optional lot facts (lot volume, doses and final containers per lot) are 0 in the
form when not entered, and ``None`` in the profile.
"""

from __future__ import annotations

from typing import Any

from traitlets import Bool, Enum, Float, HasTraits, Instance, Int, Unicode, observe

from cgtkit.catalog import Catalog
from cgtkit.errors import CgtkitError
from cgtkit.meeting_plan import MeetingPlan, meeting_plan
from cgtkit.navigator import Assessment, assess
from cgtkit.profile import ProductProfile
from cgtkit.vocab import LOT_TYPES, STAGES

LOT_FIELDS = LOT_TYPES  # the lot counts of the form, one per lot type
#: Optional numbers of the profile: 0 in the form means "not entered" (None in the profile).
OPTIONAL_FIELDS = ("lot_volume_ml", "doses_per_lot", "final_containers_per_lot")
FIELDS = ("name", "modality", "stage", "pivotal", "ind_type", "individualized", *LOT_FIELDS, "lots_per_year",
          *OPTIONAL_FIELDS, "patient_population", "serious_condition", "genetic_target", "shelf_life_days",
          "planned_change", "change_type", "change_description", "reporting_category", "new_technology_interest",
          "designation", "accelerated_approval", "potency_assay", "process_bridge", "ppq_material")
FILTERS = ("all", "applies_now", "later_stage", "not_applicable")


class StartHereModel(HasTraits):
    """The form's values, and what they give."""

    name = Unicode()
    modality = Unicode()
    stage = Enum(list(STAGES), default_value=STAGES[0])
    pivotal = Bool()
    ind_type = Unicode("development")
    individualized = Bool()
    engineering = Int()
    clinical = Int()
    ppq = Int()
    commercial = Int()
    lots_per_year = Int()
    lot_volume_ml = Float(0.0, help="0 when not entered.")
    doses_per_lot = Int(0, help="0 when not entered.")
    final_containers_per_lot = Int(0, help="0 when not entered.")
    patient_population = Int()
    serious_condition = Bool(True)
    genetic_target = Unicode("not_genetic")
    shelf_life_days = Float()
    planned_change = Unicode("none")
    change_type = Unicode("unspecified")
    change_description = Unicode()
    reporting_category = Unicode("not_set")
    new_technology_interest = Bool()
    designation = Unicode("none")
    accelerated_approval = Bool()
    potency_assay = Unicode("not_set")
    process_bridge = Unicode("not_set")
    ppq_material = Unicode("not_set")
    show = Enum(list(FILTERS), default_value="all", help="Which flexibilities the results list shows.")

    profile = Instance(ProductProfile, allow_none=True, read_only=True)
    assessment = Instance(Assessment, allow_none=True, read_only=True)
    plan = Instance(MeetingPlan, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True, help="Why the form's values are not a valid profile; '' when they are.")

    def __init__(self, profile: ProductProfile, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self.fill(profile)

    def values(self) -> dict[str, Any]:
        """The form's values in the shape :meth:`ProductProfile.build` takes."""
        v: dict[str, Any] = {f: getattr(self, f) for f in FIELDS if f not in LOT_FIELDS}
        v["lots_made"] = {f: getattr(self, f) for f in LOT_FIELDS}
        for f in OPTIONAL_FIELDS:
            v[f] = v[f] or None
        return v

    def fill(self, profile: ProductProfile) -> None:
        """Show ``profile`` in the form (e.g. the example, or one saved elsewhere) and assess it."""
        with self.hold_trait_notifications():
            for f in FIELDS:
                value = getattr(profile.lots_made, f) if f in LOT_FIELDS else getattr(profile, f)
                setattr(self, f, 0 if f in OPTIONAL_FIELDS and value is None else value)
        self.recompute()

    @observe(*FIELDS)
    def _on_field(self, _change: dict[str, Any]) -> None:
        self.recompute()

    def recompute(self) -> None:
        """Rebuild the profile from the form; assess it when valid and new."""
        try:
            profile = ProductProfile.build(**self.values())
        except CgtkitError as exc:
            self.set_trait("problem", str(exc))
            return
        with self.hold_trait_notifications():
            self.set_trait("problem", "")
            if profile != self.profile:
                assessment = assess(profile, self.catalog)
                self.set_trait("assessment", assessment)
                self.set_trait("plan", meeting_plan(assessment))
                self.set_trait("profile", profile)
