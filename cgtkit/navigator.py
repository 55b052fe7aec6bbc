"""The navigator: which catalog flexibilities matter for this product, now or later.

:func:`assess` runs one small rule per flexibility id (see :data:`RULES`) on a
:class:`~cgtkit.profile.ProductProfile` and returns an :class:`Assessment`:
one :class:`AssessmentItem` per catalog entry with a status, the reasons (plain
sentences naming the deciding facts of the profile), the evidence checklist from
the catalog, the next step (an FDA meeting) and the workbook page that helps.

Statuses:

* ``applies_now``: worth acting on at the current stage;
* ``later_stage``: will matter at a later stage of this product;
* ``not_applicable``: does not fit the profile as entered, or its stage is past.

The rules are cgtkit's reading of the catalog, not FDA's: where a rule uses a
threshold of cgtkit's own (the named constants below), its reason says so with
"cgtkit rule". Every item's next step leads to GEN-SCOPE-ENGAGE (meet FDA before
implementing), which is always ``applies_now``. An entry added to the catalog
without a rule falls back to :func:`stage_window_rule` (its ``stages`` field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cgtkit.catalog import AREAS, MEETING_LABELS, MEETING_STAGES, Catalog, Flexibility, load_catalog
from cgtkit.profile import ProductProfile, load_product_types, stage_index
from cgtkit.vocab import STAGES, Stage

if TYPE_CHECKING:
    import pandas as pd

Status = Literal["applies_now", "later_stage", "not_applicable"]
STATUSES: tuple[Status, ...] = ("applies_now", "later_stage", "not_applicable")
STATUS_LABELS: dict[str, str] = {
    "applies_now": "Applies now",
    "later_stage": "At a later stage",
    "not_applicable": "Not applicable",
}
Relevance = Literal["past", "now", "planned", "not applicable"]
#: Timeline vocabulary: a stage already passed, the current stage, a later stage
#: at which the entry can matter for this product, or not applicable.
RELEVANCES: tuple[Relevance, ...] = ("past", "now", "planned", "not applicable")

# -- thresholds: cgtkit's own design choices, not numbers from FDA --------------
#: RP-PLAUSIBLE-MECHANISM and CS-RESERVE-SAMPLES: a population this small (US
#: patients who could be treated) counts as "very small" - individualized or
#: ultra-rare therapies, made in few, small lots.
VERY_SMALL_POPULATION_MAX = 100
#: CS-ALT-METHODS: at or below this shelf life, release tests that take weeks (a
#: compendial sterility test incubates for 14 days) leave little time to use the product.
SHORT_SHELF_LIFE_DAYS = 30
#: CS-AMV-FEWER-LOTS and CS-SPEC-LIFECYCLE: this many lots or fewer counts as
#: "few" (the exact 95%/95% two-sided tolerance factor is still about 3.4 at n = 10).
FEW_LOTS_MAX = 10
#: CD-SAFETY-ATTRIBUTES: modalities usually made with an integrating vector, for
#: which vector copy number is the example attribute.
INTEGRATING_VECTOR_MODALITIES = frozenset(
    {"autologous_cell", "allogeneic_cell", "lv_rv_ex_vivo", "genome_edited_cells"}
)

#: Cell-based modalities; when individualized, the starting material is the patient's own cells.
PATIENT_CELL_MODALITIES = frozenset({"autologous_cell", "lv_rv_ex_vivo", "genome_edited_cells"})

#: Where process validation stands at each stage (FDA's 2011 guidance, stages 1-3).
_PV_STAGE: dict[str, str] = {
    "pre-IND": "stage 1 (process design)",
    "phase 1": "stage 1 (process design)",
    "phase 2": "stage 1 (process design)",
    "phase 3": "stage 2 (process qualification, including PPQ)",
    "BLA": "stage 2 (process qualification, including PPQ)",
    "post-approval": "stage 3 (continued process verification)",
}


@dataclass(frozen=True)
class Verdict:
    """What a rule decides: a status and the reasons (plain sentences)."""

    status: Status
    reasons: tuple[str, ...]


def _v(status: Status, *reasons: str) -> Verdict:
    return Verdict(status, tuple(r for r in reasons if r))


Rule = Callable[[ProductProfile, Flexibility], Verdict]
#: One rule per flexibility id; each is a small function tested on its own.
RULES: dict[str, Rule] = {}


def rule(flexibility_id: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` as the rule for ``flexibility_id``."""

    def register(fn: Rule) -> Rule:
        if flexibility_id in RULES:
            raise ValueError(f"Two rules registered for {flexibility_id}.")
        RULES[flexibility_id] = fn
        return fn

    return register


# -- small predicates and phrases shared by the rules --------------------------
def _on_page(page_id: str) -> str:
    """" on the <Title> page" when that page is built; "" while it is planned (never point to a page
    a user cannot open)."""
    from cgtkit.pages import page

    p = page(page_id)
    return f" on the {p.title} page" if p.available else ""


def _at_least(p: ProductProfile, stage: Stage) -> bool:
    return p.stage_index >= stage_index(stage)


def _before(p: ProductProfile, stage: Stage) -> bool:
    return p.stage_index < stage_index(stage)


def _in(p: ProductProfile, *stages: Stage) -> bool:
    return p.stage in stages


def _stage(p: ProductProfile) -> str:
    return f"Stage is {p.stage}"


def _modality(p: ProductProfile) -> str:
    types = load_product_types()
    return types[p.modality].label if p.modality in types else p.modality


def _lots(p: ProductProfile) -> str:
    lots = p.lots_made
    counts = (("engineering", lots.engineering), ("clinical", lots.clinical), ("PPQ", lots.ppq),
              ("commercial", lots.commercial))
    parts = [f"{n} {kind}" for kind, n in counts if n]
    return f"{lots.total} lot{'s' if lots.total != 1 else ''} made so far" + (f" ({', '.join(parts)})" if parts else "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _change(p: ProductProfile) -> str:
    return f"a {p.planned_change} change is planned ({p.change_description.strip()!r})"


def _very_small_population(p: ProductProfile) -> bool:
    return p.patient_population <= VERY_SMALL_POPULATION_MAX


def _small_lots(p: ProductProfile) -> bool:
    """cgtkit proxy for small lots (the profile has no lot size): individualized, or a very small population."""
    return p.individualized or _very_small_population(p)


def _small_lots_reason(p: ProductProfile) -> str:
    if p.individualized:
        return "the product is individualized (one lot per patient), so each lot is small"
    return (f"the patient population ({p.patient_population}) is at or below cgtkit's very-small-population "
            f"threshold of {VERY_SMALL_POPULATION_MAX}, so lots are assumed small (cgtkit rule)")


def _scarce_lots(p: ProductProfile) -> bool:
    return p.individualized or p.lots_made.total <= FEW_LOTS_MAX


def _scarce_lots_reason(p: ProductProfile) -> str:
    if p.individualized:
        return "the product is individualized (one lot per patient), so little material from any lot is spare"
    return f"only {_lots(p)} (cgtkit rule: {FEW_LOTS_MAX} or fewer counts as few)"


def _patient_derived(p: ProductProfile) -> bool:
    """Made from each patient's own cells (starting material varies from patient to patient)."""
    return p.individualized and p.modality in PATIENT_CELL_MODALITIES


def _developing_or_changing(p: ProductProfile) -> bool:
    return p.stage != "post-approval" or p.planned_change != "none" or p.new_technology_interest


# -- rules ----------------------------------------------------------------------
_NEXT_MEETING_BY_STAGE: dict[str, str] = {
    "pre-IND": "an INTERACT or pre-IND meeting",
    "phase 1": "a Type C meeting or the next milestone meeting (end of phase 1 or end of phase 2)",
    "phase 2": "the end-of-phase 2 meeting",
    "phase 3": "the pre-BLA meeting",
    "BLA": "the pre-BLA meeting or communications with the review team",
    "post-approval": "a Type C meeting before the supplement",
}


@rule("GEN-SCOPE-ENGAGE")
def gen_scope_engage(p: ProductProfile, f: Flexibility) -> Verdict:
    return _v(
        "applies_now",
        f"Modality is {_modality(p)}: the 2026 guidance covers CBER-regulated human cell and gene therapy products "
        "developed for a BLA under 21 CFR part 601; confirm your product is one.",
        "Every flexibility works within the existing statute and regulations, must be justified with data or a "
        "scientific rationale, and should be discussed with FDA before it is implemented.",
        f"{_stage(p)}: the next occasion to raise CMC questions is {_NEXT_MEETING_BY_STAGE[p.stage]}.",
    )


@rule("CD-CGMP-PHASE")
def cd_cgmp_phase(p: ProductProfile, f: Flexibility) -> Verdict:
    if _before(p, "phase 2"):
        return _v(
            "applies_now",
            f"{_stage(p)}: part 211 compliance is not expected until material is made for phase 2 or 3 trials "
            "(21 CFR 210.2(c)).",
            "The exemption ends once the product is made available for a phase 2 or 3 study: plan the move to "
            "part 211 before the first such lot.",
            "Phase 1 production stays under statutory CGMP (FD&C Act 501(a)(2)(B), FDA's 2008 phase 1 CGMP "
            "guidance); parts 600-680 and part 1271 are not exempted.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: product made for phase 2 or 3 studies or for commercial use must comply with part 211; "
        "the phase 1 exemption of 21 CFR 210.2(c) is past.",
    )


@rule("CD-RELEASE-PERMISSIVE")
def cd_release_permissive(p: ProductProfile, f: Flexibility) -> Verdict:
    if _in(p, "pre-IND"):
        return _v(
            "later_stage",
            f"{_stage(p)}: no lot is made under an IND yet; wide, phase-appropriate release criteria matter once "
            "you propose them in the IND (21 CFR 312.23(a)(7)).",
            f"{_cap(_lots(p))}: engineering runs are the first data for the width of each criterion.",
        )
    if _in(p, "phase 1", "phase 2", "phase 3"):
        return _v(
            "applies_now",
            f"{_stage(p)}: lots made under the IND may be released against wide criteria suited to investigational "
            "use; final specifications are not expected until the end of the investigational stage "
            "(21 CFR 312.23(a)(7)).",
            f"{_cap(_lots(p))}: these inform each criterion; a lot outside even wide criteria is a reason to "
            "contact FDA (remarks of a CBER official).",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: commercial release specifications are now what counts (see CS-SPEC-FLEX-BLA and "
        "CS-SPEC-LIFECYCLE); IND criteria remain only for lots still made under an IND.",
    )


@rule("CD-SAFETY-ATTRIBUTES")
def cd_safety_attributes(p: ProductProfile, f: Flexibility) -> Verdict:
    if _in(p, "post-approval"):
        return _v(
            "not_applicable",
            f"{_stage(p)}: attribute classifications and limits are part of the approved specification; revisiting "
            "them goes through CS-SPEC-LIFECYCLE and 21 CFR 601.12.",
        )
    reasons = [
        f"{_stage(p)}: whether an attribute counts as a safety attribute is open to discussion with FDA "
        "(remarks of a CBER official, who named the pre-IND meeting as one place for it)."
    ]
    if p.modality in INTEGRATING_VECTOR_MODALITIES:
        reasons.append(
            f"Modality is {_modality(p)}: if the cells carry an integrating vector, vector copy number is the "
            "example - FDA has no predefined limit for CAR-T cells, and nonclinical and engineering-run data "
            f"({p.lots_made.engineering} engineering lots so far) should inform the initial limit."
        )
    else:
        reasons.append(
            f"Modality is {_modality(p)}: list the attributes you treat as safety attributes and bring the "
            "contested ones to the meeting."
        )
    return _v("applies_now", *reasons)


@rule("CD-MINOR-CHANGES")
def cd_minor_changes(p: ProductProfile, f: Flexibility) -> Verdict:
    if _in(p, "pre-IND"):
        return _v(
            "later_stage",
            f"{_stage(p)}: there is no clinical product yet to compare with; this flexibility applies from phase 1 "
            "toward the studies meant to support licensure.",
        )
    if _in(p, "BLA", "post-approval"):
        after = ("a change to the licensed product is reported under 21 CFR 601.12 with comparability data"
                 if p.stage == "post-approval" else
                 "a change now affects the application under review and needs comparability data discussed with "
                 "the review team")
        planned = (f"{_cap(_change(p))}: plan its comparability data{_on_page('comparability')}."
                   if p.planned_change != "none" else "")
        return _v(
            "not_applicable",
            f"{_stage(p)}: this flexibility covers changes during clinical development; {after}.",
            planned,
        )
    if p.planned_change == "minor":
        return _v(
            "applies_now",
            f"{_stage(p)} and {_change(p)}: FDA will allow minor changes during development when comparability "
            "data show the product before and after the change is comparable.",
            "Comparable means highly similar with no adverse impact (ICH Q5E), not identical; keep the data package "
            "proportionate to the risk of the change.",
        )
    if p.planned_change == "major":
        return _v(
            "not_applicable",
            f"{_stage(p)} and {_change(p)}: this flexibility covers minor changes only.",
            "A major change still needs a full comparability assessment (ICH Q5E; FDA's July 2023 draft guidance "
            "on CGT manufacturing changes and comparability), possibly with nonclinical or clinical data; plan it"
            f"{_on_page('comparability')} and discuss it with FDA.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)} and no manufacturing change is planned: this flexibility matters when a minor change is "
        "planned before the studies that support licensure.",
    )


@rule("CD-PRIOR-KNOWLEDGE")
def cd_prior_knowledge(p: ProductProfile, f: Flexibility) -> Verdict:
    if not _developing_or_changing(p):
        return _v(
            "not_applicable",
            f"{_stage(p)}, no change planned and no new technology of interest: prior knowledge has no current use "
            "here; it returns if you plan a change.",
        )
    changing_licensed = p.stage == "post-approval" and p.planned_change != "none"
    why = (f"{_change(p)}, and prior knowledge can support it" if changing_licensed
           else "knowledge from outside the product's own lots (platform data, other products, published data) can "
                "support CMC development, with a rationale that it applies")
    return _v("applies_now", f"{_stage(p)}: {why}.",
              f"{_cap(_lots(p))}: where the product's own data leave gaps, outside knowledge with a stated rationale "
              "can help fill them.")


@rule("CD-CONSENSUS-STANDARDS")
def cd_consensus_standards(p: ProductProfile, f: Flexibility) -> Verdict:
    if not _developing_or_changing(p):
        return _v(
            "not_applicable",
            f"{_stage(p)}, no change planned and no new technology of interest: no development work for standards "
            "to support now.",
        )
    extra = " (for example standards for new equipment or automation)" if p.new_technology_interest else ""
    return _v(
        "applies_now",
        f"{_stage(p)}: voluntary consensus standards may be used in developing and assessing the product{extra}.",
    )


@rule("PV-LIFECYCLE")
def pv_lifecycle(p: ProductProfile, f: Flexibility) -> Verdict:
    return _v(
        "applies_now",
        f"{_stage(p)}: process validation is in {_PV_STAGE[p.stage]} of the lifecycle described in FDA's 2011 "
        "process validation guidance.",
        "Analytical methods mature along the same lifecycle: fit for purpose now, validated for commercial use "
        "(ICH Q14, ICH Q2(R2)).",
    )


@rule("PV-PPQ-LOT-NUMBER")
def pv_ppq_lot_number(p: ProductProfile, f: Flexibility) -> Verdict:
    if _before(p, "phase 3"):
        return _v(
            "later_stage",
            f"{_stage(p)}: PPQ comes before the BLA, usually around phase 3; the number of PPQ lots will need a "
            "scientific justification, not a default of three.",
            f"{_cap(_lots(p))}: this process knowledge is what the justification will draw on.",
        )
    if _in(p, "phase 3", "BLA"):
        ppq = p.lots_made.ppq
        made = (f"{ppq} PPQ lot{'s' if ppq != 1 else ''} made so far: the protocol must justify that this number is "
                "enough, and FDA evaluates that justification in BLA review."
                if ppq else "No PPQ lots made yet: settle the number and its justification before PPQ starts.")
        return _v(
            "applies_now",
            f"{_stage(p)}: three PPQ lots are not required, but PPQ is; the PPQ protocol justifies the number of lots "
            "from process understanding and product-specific considerations.",
            made,
        )
    if p.planned_change != "none":
        return _v(
            "applies_now",
            f"{_stage(p)} and {_change(p)}: if the change calls for PPQ of the changed process, the number of PPQ "
            "lots again needs a justification.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)} and no change planned: PPQ was completed for the BLA; continued process verification "
        "(PV-LIFECYCLE) applies.",
    )


@rule("PV-CONCURRENT-RELEASE")
def pv_concurrent_release(p: ProductProfile, f: Flexibility) -> Verdict:
    conditions = ("the lot meets the commercial release specification, is within its commercial shelf life, "
                  "and the PPQ protocol provides for it")
    if p.stage != "post-approval":
        reasons = [
            f"{_stage(p)}: commercial concurrent release of PPQ lots can be considered only after BLA approval, when "
            f"{conditions}.",
            "Before approval, PPQ lots go to patients only under the IND (PV-PPQ-CLINICAL-USE).",
        ]
        if _at_least(p, "phase 3"):
            reasons.append("If you intend to use it, write the circumstances and rationale into the PPQ protocol now; "
                           "FDA's 2011 process validation guidance expects concurrent release to be rare.")
        return _v("later_stage", *reasons)
    if p.planned_change != "none":
        return _v(
            "applies_now",
            f"{_stage(p)} and {_change(p)}: PPQ lots of the changed process may be released for commercial use "
            f"before the PPQ protocol is complete if {conditions}.",
            "FDA's 2011 process validation guidance expects concurrent release to be rare; justify the circumstances "
            "in the protocol.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)} and no change planned: no new PPQ lots are expected, so concurrent release has no current use.",
    )


@rule("PV-PPQ-CLINICAL-USE")
def pv_ppq_clinical_use(p: ProductProfile, f: Flexibility) -> Verdict:
    ppq = p.lots_made.ppq
    if _in(p, "phase 3", "BLA") or (_in(p, "phase 2") and ppq > 0):
        made = f"{ppq} PPQ lot{'s' if ppq != 1 else ''} made so far"
        reasons = [
            f"{_stage(p)}: PPQ lots are made (or about to be) while the IND is open ({made}); lots that meet the IND "
            "release criteria may be used in the clinical investigation under the IND.",
        ]
        if p.individualized:
            reasons.append("The product is individualized, so each PPQ lot is made for a patient: this route lets "
                           "that patient be treated under the IND (cgtkit inference).")
        return _v("applies_now", *reasons)
    if _before(p, "phase 3"):
        return _v(
            "later_stage",
            f"{_stage(p)} and no PPQ lots made: PPQ is usually run around phase 3; lots made then may be used "
            "clinically under the IND if they meet its release criteria.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: the clinical route matters only if PPQ lots are made while an IND is still open (for example "
        "for a new indication); the profile does not record an open IND, so cgtkit does not flag it (cgtkit rule).",
    )


@rule("CS-SPEC-FLEX-BLA")
def cs_spec_flex_bla(p: ProductProfile, f: Flexibility) -> Verdict:
    if _before(p, "phase 3"):
        return _v(
            "later_stage",
            f"{_stage(p)}: commercial specifications are proposed in the BLA; {_lots(p)} are the first of the data "
            "they will rest on, so test every lot with that in mind.",
        )
    if _in(p, "phase 3", "BLA"):
        reasons = [
            f"{_stage(p)}: FDA will consider justified flexibility in release specifications in BLA review, given the "
            "product, its process and the number of lots available.",
            f"{_cap(_lots(p))}: state how limits drawn from these lots were set and the chance that later lots "
            "of an unchanged process fall outside them.",
        ]
        if _very_small_population(p):
            reasons.append(f"The patient population ({p.patient_population}) keeps the number of lots low.")
        return _v("applies_now", *reasons)
    return _v(
        "not_applicable",
        f"{_stage(p)}: release specifications were set at approval; revisiting them is CS-SPEC-LIFECYCLE.",
    )


@rule("CS-SPEC-LIFECYCLE")
def cs_spec_lifecycle(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.stage != "post-approval":
        reasons = [
            f"{_stage(p)}: re-evaluation uses post-approval manufacturing experience; propose how you will collect "
            "commercial data and when you will re-evaluate, ideally in the BLA.",
        ]
        if _patient_derived(p):
            reasons.append("For a product made from each patient's own cells, clinical studies should show the "
                           "patient-to-patient variability before commercial criteria are set (remarks of a CBER "
                           "official).")
        return _v("later_stage", *reasons)
    n = p.lots_made.commercial
    reasons = [
        f"{_stage(p)} with {n} commercial lot{'s' if n != 1 else ''} made: FDA will consider revising release "
        "acceptance criteria from post-approval experience, particularly when quality is shown to be consistent "
        "over time; the revision goes to FDA under 21 CFR 601.12.",
    ]
    if n < FEW_LOTS_MAX:
        reasons.append(f"cgtkit rule: with fewer than {FEW_LOTS_MAX} commercial lots, gather more before proposing "
                       "revised criteria; limits from so few lots are still very uncertain.")
    else:
        reasons.append(f"cgtkit rule: {n} commercial lots ({FEW_LOTS_MAX} or more) are a reasonable basis for "
                       "re-estimating limits and checking that the process is stable.")
    return _v("applies_now", *reasons)


@rule("CS-AMV-FEWER-LOTS")
def cs_amv_fewer_lots(p: ProductProfile, f: Flexibility) -> Verdict:
    if _before(p, "phase 3"):
        return _v(
            "later_stage",
            f"{_stage(p)}: methods are validated for licensure before PPQ and the BLA; if lots stay scarce, plan a "
            "validation with fewer lots.",
        )
    scarce = _scarce_lots(p)
    if _in(p, "phase 3", "BLA"):
        if scarce:
            return _v(
                "applies_now",
                f"{_stage(p)}: {_scarce_lots_reason(p)}; methods may be validated with fewer lots, even one "
                "representative lot, when the strategy is scientifically supported.",
            )
        return _v(
            "not_applicable",
            f"{_stage(p)}: {_lots(p)} and the product is not individualized, so enough lots are likely available for "
            f"a conventional validation (cgtkit rule: more than {FEW_LOTS_MAX} lots); the flexibility stays open if "
            "material is scarce.",
        )
    if p.planned_change != "none" and scarce:
        return _v(
            "applies_now",
            f"{_stage(p)} and {_change(p)}: a new or changed method may be validated with fewer lots; "
            f"{_scarce_lots_reason(p)}.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: the release methods were validated for the BLA; this returns if a change brings a new method "
        "and material is scarce.",
    )


@rule("CS-STABILITY-CLINICAL-LOTS")
def cs_stability_clinical_lots(p: ProductProfile, f: Flexibility) -> Verdict:
    if _before(p, "phase 3"):
        return _v(
            "later_stage",
            f"{_stage(p)}: put clinical lots on stability now, so that data exist when commercial expiry "
            f"(shelf life entered: {p.shelf_life_days:g} days) is proposed in the BLA.",
        )
    if _in(p, "phase 3", "BLA"):
        return _v(
            "applies_now",
            f"{_stage(p)}: stability data from the {p.lots_made.clinical} clinical lots made so far may support the "
            f"expiry of commercial lots (shelf life entered: {p.shelf_life_days:g} days).",
            "Biotech products follow ICH Q5C; ICH Q1E's regression method is written for small molecules and its "
            "extrapolation allowances do not carry over unchanged.",
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: commercial expiry was set at approval; stability studies continue on commercial lots "
        "(21 CFR 211.166), and a change to the dating period goes to FDA under 21 CFR 601.12.",
    )


@rule("CS-RESERVE-SAMPLES")
def cs_reserve_samples(p: ProductProfile, f: Flexibility) -> Verdict:
    if not _small_lots(p):
        return _v(
            "not_applicable",
            f"The product is not individualized and the patient population ({p.patient_population}) is above "
            f"cgtkit's very-small-population threshold of {VERY_SMALL_POPULATION_MAX}: cgtkit assumes lots are large "
            "enough to keep reserve samples (cgtkit rule; the profile does not record lot size - if your lots are "
            "small, this may still apply).",
        )
    if _before(p, "phase 2"):
        return _v(
            "later_stage",
            f"{_stage(p)}: part 211, including the reserve-sample rule of 21 CFR 211.170(b), applies from phase 2 "
            f"and 3 manufacturing on (21 CFR 210.2(c)); {_small_lots_reason(p)}: plan the sample budget and any "
            "exception request before then.",
        )
    return _v(
        "applies_now",
        f"{_stage(p)}: part 211 applies, so 21 CFR 211.170(b) calls for a reserve sample of twice the test quantity "
        "(sterility and pyrogen tests excluded) kept 1 year past expiry; for a licensed product 21 CFR 600.13 adds "
        "retention samples kept 6 months past expiry.",
        f"Here {_small_lots_reason(p)}: FDA may grant an exception for small or individualized lots, but it must "
        "be requested and granted - under 21 CFR 600.13 the CBER Director authorizes exceptions; it cannot be "
        "self-granted.",
    )


@rule("CS-ALT-METHODS")
def cs_alt_methods(p: ProductProfile, f: Flexibility) -> Verdict:
    short = p.shelf_life_days <= SHORT_SHELF_LIFE_DAYS
    if not (short or p.individualized):
        return _v(
            "not_applicable",
            f"Shelf life is {p.shelf_life_days:g} days and the product is not individualized: cgtkit does not flag "
            f"alternative release methods (cgtkit rule: flagged at a shelf life of {SHORT_SHELF_LIFE_DAYS} days or "
            "less, or for individualized lots); they remain an option if sample volume or testing time is a problem.",
        )
    drivers = []
    if short:
        drivers.append(
            f"Shelf life is {p.shelf_life_days:g} days (cgtkit rule: {SHORT_SHELF_LIFE_DAYS} days or less counts as "
            "short): tests that take weeks, such as a compendial sterility test incubated for 14 days, leave little "
            "time to use the product."
        )
    if p.individualized:
        drivers.append("The product is individualized: every sample used for testing comes out of one patient's "
                       "lot, so smaller-volume methods matter.")
    if _in(p, "pre-IND"):
        return _v("later_stage", *drivers,
                  f"{_stage(p)}: choose release methods with this in mind for the first IND lots.")
    licensed = ("The product is licensed: replacing a required test method needs a showing of equal or greater "
                "assurance in a supplement and written CBER approval (21 CFR 610.9); sterility tests must be "
                "validated (21 CFR 610.12)."
                if p.stage == "post-approval" else
                "Each method must be shown fit for its use; for a licensed product, 21 CFR 610.12 requires a "
                "validated sterility test, and replacing a required method needs the 21 CFR 610.9 showing and "
                "written CBER approval.")
    return _v("applies_now", *drivers, licensed)


@rule("RP-AMT")
def rp_amt(p: ProductProfile, f: Flexibility) -> Verdict:
    if not p.new_technology_interest:
        return _v(
            "not_applicable",
            "The profile records no interest in new manufacturing technology: AMT designation is for a novel "
            "manufacturing technology (or an established one used in a novel way).",
        )
    reasons = [
        f"{_stage(p)} and the profile records interest in new manufacturing technology: AMT designation "
        "(FD&C Act 506L) can expedite development and assessment of applications and supplements that use a "
        "designated method; it is not limited to post-approval changes.",
    ]
    if p.stage == "post-approval":
        reasons.append("For a switch of a licensed product's process, comparability with the approved product is the "
                       "key evidence (industry experience).")
        if p.planned_change != "none":
            reasons.append(f"{_cap(_change(p))}: check whether its technology fits the program.")
    return _v("applies_now", *reasons)


@rule("RP-PLAUSIBLE-MECHANISM")
def rp_plausible_mechanism(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.stage == "post-approval":
        return _v("not_applicable",
                  f"{_stage(p)}: the framework concerns the evidence for approval, and the product is licensed.")
    facts = (f"Modality is {_modality(p)}, {'individualized' if p.individualized else 'not individualized'}, for "
             f"a population of {p.patient_population} (cgtkit rule: {VERY_SMALL_POPULATION_MAX} patients or fewer)")
    if p.individualized and _very_small_population(p):
        return _v(
            "applies_now",
            f"{facts}: the draft plausible mechanism framework (February 2026) may fit an individualized therapy "
            "aimed at a known genetic cause when randomized trials are not feasible.",
            "It concerns evidence of effectiveness and safety, not CMC: CMC expectations stay as they are.",
        )
    missing = "the product is not individualized" if not p.individualized else "the population is above the threshold"
    return _v("not_applicable", f"{facts}: {missing}, so cgtkit does not flag this framework.")


def stage_window_rule(p: ProductProfile, f: Flexibility) -> Verdict:
    """Fallback for a catalog entry with no registered rule: its ``stages`` decide."""
    first, last = stage_index(f.stages[0]), stage_index(f.stages[-1])
    if p.stage in f.stages:
        return _v("applies_now", f"{_stage(p)}: the catalog lists this entry for {', '.join(f.stages)}.")
    if p.stage_index < first:
        return _v("later_stage", f"{_stage(p)}: the catalog lists this entry from {f.stages[0]} on.")
    if p.stage_index > last:
        return _v("not_applicable", f"{_stage(p)}: the catalog lists this entry up to {f.stages[-1]} only.")
    return _v("not_applicable", f"{_stage(p)}: the catalog does not list this entry for this stage.")


def _modality_mismatch(p: ProductProfile, f: Flexibility) -> Verdict:
    types = load_product_types()
    listed = ", ".join(types[t].label if t in types else t for t in f.product_types)
    return _v("not_applicable", f"Modality is {_modality(p)}: cgtkit screens this entry only for {listed}.")


# -- results ----------------------------------------------------------------------
@dataclass(frozen=True)
class AssessmentItem:
    """One catalog entry assessed for one profile.

    ``reasons`` and ``evidence`` are tuples of plain sentences (immutable lists).
    ``relevant_from`` is the first stage at which the entry matters (catalog ``stages``).
    """

    flexibility_id: str
    status: Status
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    next_step: str
    page: str
    relevant_from: Stage
    flexibility: Flexibility

    @property
    def area(self) -> str:
        return self.flexibility.area

    @property
    def title(self) -> str:
        return self.flexibility.title

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Assessment:
    """All catalog entries assessed for one profile, in catalog order."""

    profile: ProductProfile
    items: tuple[AssessmentItem, ...]

    def item(self, id_or_alias: str) -> AssessmentItem:
        for it in self.items:
            if it.flexibility_id == id_or_alias or id_or_alias in it.flexibility.aliases:
                return it
        raise KeyError(f"No assessed flexibility {id_or_alias!r}.")

    def status_of(self, id_or_alias: str) -> Status:
        return self.item(id_or_alias).status

    def by_status(self) -> dict[str, list[AssessmentItem]]:
        """Items grouped by status, every status present (applies_now, later_stage, not_applicable)."""
        grouped: dict[str, list[AssessmentItem]] = {s: [] for s in STATUSES}
        for it in self.items:
            grouped[it.status].append(it)
        return grouped

    def by_area(self) -> dict[str, list[AssessmentItem]]:
        """Items grouped by catalog area, areas in display order."""
        grouped: dict[str, list[AssessmentItem]] = {a: [] for a in AREAS}
        for it in self.items:
            grouped[it.area].append(it)
        return grouped

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: flexibility_id, area, title, status, reasons (joined), page, next_step."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "flexibility_id": it.flexibility_id,
                    "area": it.area,
                    "title": it.title,
                    "status": it.status,
                    "reasons": " ".join(it.reasons),
                    "page": it.page,
                    "next_step": it.next_step,
                }
                for it in self.items
            ],
            columns=["flexibility_id", "area", "title", "status", "reasons", "page", "next_step"],
        )

    def timeline_rows(self) -> list[dict[str, object]]:
        """Which entries matter at which stage, for this product (see :meth:`timeline`)."""
        rows: list[dict[str, object]] = []
        now = self.profile.stage_index
        for it in self.items:
            stages = list(it.flexibility.stages)
            if it.status == "applies_now" and self.profile.stage not in stages:
                stages = sorted([*stages, self.profile.stage], key=STAGES.index)
            for stage in stages:
                rows.append({
                    "flexibility_id": it.flexibility_id,
                    "title": it.title,
                    "area": it.area,
                    "stage": stage,
                    "stage_index": stage_index(stage),
                    "relevance": _relevance(it, stage_index(stage), now),
                })
        return rows

    def timeline(self) -> pd.DataFrame:
        """Tidy rows (flexibility_id, title, area, stage, stage_index, relevance) for a plotly timeline.

        One row per entry per stage the catalog lists it for. ``relevance`` is
        ``past``, ``now``, ``planned`` or ``not applicable`` for this product.
        """
        import pandas as pd

        return pd.DataFrame(self.timeline_rows(),
                            columns=["flexibility_id", "title", "area", "stage", "stage_index", "relevance"])


def _relevance(it: AssessmentItem, stage_i: int, now: int) -> Relevance:
    if it.status == "not_applicable":
        window_past = stage_index(it.flexibility.stages[-1]) < now
        return "past" if window_past else "not applicable"
    if stage_i < now:
        return "past"
    if stage_i == now:
        return "now" if it.status == "applies_now" else "planned"
    return "planned"


def _meeting_for(f: Flexibility, from_index: int) -> str:
    """The first of the entry's meetings (catalog order, earliest first) still ahead at ``from_index``."""
    for m in f.meeting.types:
        if any(stage_index(s) >= from_index for s in MEETING_STAGES[m]):
            return MEETING_LABELS[m]
    return MEETING_LABELS["Type C"]


def _next_step(p: ProductProfile, f: Flexibility, status: Status) -> str:
    engage = "Do not implement it before discussing it with FDA (GEN-SCOPE-ENGAGE)."
    if f.id == "GEN-SCOPE-ENGAGE":
        return (f"Meet FDA before implementing any flexibility: at this stage, {_NEXT_MEETING_BY_STAGE[p.stage]}. "
                f"{f.meeting.note} (GEN-SCOPE-ENGAGE)")
    if status == "applies_now":
        return f"Raise it with FDA at {_meeting_for(f, p.stage_index)}. {f.meeting.note} {engage}"
    if status == "later_stage":
        return (f"Plan ahead: it matters from {f.relevant_from}; raise it with FDA at "
                f"{_meeting_for(f, p.stage_index)}. {f.meeting.note} {engage}")
    return (f"Nothing to prepare now. If your plans change so that it applies, raise it with FDA at "
            f"{_meeting_for(f, p.stage_index)} first (GEN-SCOPE-ENGAGE: meet FDA before implementing).")


def assess_one(profile: ProductProfile, flexibility: Flexibility) -> AssessmentItem:
    """Assess one catalog entry for one profile."""
    if not flexibility.covers(profile.modality):
        verdict = _modality_mismatch(profile, flexibility)
    else:
        verdict = RULES.get(flexibility.id, stage_window_rule)(profile, flexibility)
    return AssessmentItem(
        flexibility_id=flexibility.id,
        status=verdict.status,
        reasons=verdict.reasons,
        evidence=tuple(flexibility.evidence),
        next_step=_next_step(profile, flexibility, verdict.status),
        page=flexibility.page,
        relevant_from=flexibility.relevant_from,
        flexibility=flexibility,
    )


def assess(profile: ProductProfile, catalog: Catalog | None = None) -> Assessment:
    """Assess every catalog entry for ``profile`` (catalog defaults to :func:`load_catalog`)."""
    catalog = catalog or load_catalog()
    return Assessment(profile=profile, items=tuple(assess_one(profile, f) for f in catalog))
