"""The Start here page's state, without widgets: the profile form's fields as traits,
and the profile and navigator assessment derived from them.

Every field change rebuilds the profile through :meth:`ProductProfile.build`.
A valid profile replaces :attr:`profile` and :attr:`assessment`; an invalid one
sets :attr:`problem` and keeps the last valid ones, so the page keeps showing
the last valid results.
"""

from __future__ import annotations

from typing import Any

from traitlets import Bool, Enum, Float, HasTraits, Instance, Int, Unicode, observe

from cgtkit.catalog import Catalog
from cgtkit.errors import CgtkitError
from cgtkit.navigator import Assessment, assess
from cgtkit.profile import ProductProfile
from cgtkit.vocab import LOT_TYPES, STAGES

LOT_FIELDS = LOT_TYPES  # the lot counts of the form, one per lot type
FIELDS = ("name", "modality", "stage", "individualized", *LOT_FIELDS, "lots_per_year", "patient_population",
          "shelf_life_days", "planned_change", "change_description", "new_technology_interest")
FILTERS = ("all", "applies_now", "later_stage", "not_applicable")


class StartHereModel(HasTraits):
    """The form's values, and what they give."""

    name = Unicode()
    modality = Unicode()
    stage = Enum(list(STAGES), default_value=STAGES[0])
    individualized = Bool()
    engineering = Int()
    clinical = Int()
    ppq = Int()
    commercial = Int()
    lots_per_year = Int()
    patient_population = Int()
    shelf_life_days = Float()
    planned_change = Unicode("none")
    change_description = Unicode()
    new_technology_interest = Bool()
    show = Enum(list(FILTERS), default_value="all", help="Which flexibilities the results list shows.")

    profile = Instance(ProductProfile, allow_none=True, read_only=True)
    assessment = Instance(Assessment, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True, help="Why the form's values are not a valid profile; '' when they are.")

    def __init__(self, profile: ProductProfile, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self.fill(profile)

    def values(self) -> dict[str, Any]:
        """The form's values in the shape :meth:`ProductProfile.build` takes."""
        v: dict[str, Any] = {f: getattr(self, f) for f in FIELDS if f not in LOT_FIELDS}
        v["lots_made"] = {f: getattr(self, f) for f in LOT_FIELDS}
        return v

    def fill(self, profile: ProductProfile) -> None:
        """Show ``profile`` in the form (e.g. the example, or one saved elsewhere) and assess it."""
        with self.hold_trait_notifications():
            for f in FIELDS:
                setattr(self, f, getattr(profile.lots_made, f) if f in LOT_FIELDS else getattr(profile, f))
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
                self.set_trait("assessment", assess(profile, self.catalog))
                self.set_trait("profile", profile)
