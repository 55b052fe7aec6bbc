"""The navigator: which catalog flexibilities matter for this product, now or later.

:func:`assess` runs one small rule per flexibility id (see :data:`RULES`) on a
:class:`~cgtkit.profile.ProductProfile` and returns an :class:`Assessment`:
one :class:`AssessmentItem` per catalog entry with a status, the reasons (plain
sentences naming the deciding facts of the profile), the names of those facts
(``facts``: profile fields such as ``"stage"``, ``"pivotal"`` or
``"reporting_category"``), the evidence checklist from the catalog, the next
step (an FDA meeting) and the workbook page that helps. The assessment also
carries the BLA-readiness check (:func:`bla_readiness`).

Statuses:

* ``applies_now``: worth acting on at the current stage;
* ``later_stage``: will matter at a later stage of this product;
* ``not_applicable``: does not fit the profile as entered, or its stage is past.

The development path is the profile's: process validation and commercial
specification rules turn on the pivotal study and BLA planning
(:attr:`ProductProfile.bla_planning`), not on "phase 3", because many cell and
gene therapies were licensed on phase 1/2 or phase 2 data. After approval they
turn on the 21 CFR 601.12 reporting category of the planned change.

The rules are cgtkit's reading of the catalog, not FDA's: where a rule uses a
threshold of cgtkit's own (the named constants below), its reason says so with
"cgtkit rule". Every item's next step leads to GEN-SCOPE-ENGAGE (meet FDA before
implementing), which is always ``applies_now``. An entry added to the catalog
without a rule falls back to :func:`stage_window_rule` (its ``stages`` field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cgtkit.catalog import AREAS, Catalog, Flexibility, load_catalog, load_meeting_types
from cgtkit.profile import (
    DESIGNATION_LABELS,
    IND_TYPE_LABELS,
    POTENCY_LABELS,
    REPORTING_LABELS,
    ProductProfile,
    load_product_types,
    stage_index,
)
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
#: RP-EXPEDITED-PROGRAMS and the lot-size proxies: a population this small (US
#: patients who could be treated) counts as "very small".
VERY_SMALL_POPULATION_MAX = 100
#: CS-ALT-METHODS: at or below this shelf life, release tests that take weeks (a
#: compendial sterility test incubates for 14 days) leave little time to use the product.
SHORT_SHELF_LIFE_DAYS = 30
#: CS-AMV-FEWER-LOTS and CS-SPEC-LIFECYCLE: this many lots or fewer counts as
#: "few" (the exact 95%/95% two-sided tolerance factor is still about 3.4 at n = 10).
FEW_LOTS_MAX = 10
#: CS-RESERVE-SAMPLES: cgtkit's reading of "relatively few final containers" in
#: 21 CFR 600.13, which gives no number.
FEW_CONTAINERS_MAX = 3
#: CS-RESERVE-SAMPLES: cgtkit's reading of lots made "in large number and in close
#: succession" (21 CFR 600.13 gives no number): at least this many lots a year.
MANY_LOTS_PER_YEAR = 50
#: CS-RESERVE-SAMPLES: a lot of this volume or less is small (one infusion bag).
SMALL_LOT_ML = 100.0
#: CS-AMV-FEWER-LOTS after approval: kinds of change that bring a new, changed or transferred release method.
METHOD_CHANGES = frozenset({"analytical_method", "site_transfer", "unspecified", "other"})

#: Where process validation stands (FDA's 2011 guidance, stages 1-3).
_PV_STAGES = {
    1: "stage 1 (process design)",
    2: "stage 2 (process qualification, including PPQ)",
    3: "stage 3 (continued process verification)",
}


@dataclass(frozen=True)
class Verdict:
    """What a rule decides: a status, the reasons (plain sentences) and the profile facts that decided."""

    status: Status
    reasons: tuple[str, ...]
    facts: tuple[str, ...] = ()


def _v(status: Status, *reasons: str, facts: tuple[str, ...] = ()) -> Verdict:
    return Verdict(status, tuple(r for r in reasons if r), tuple(dict.fromkeys(facts)))


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


def _before(p: ProductProfile, stage: Stage | str) -> bool:
    return p.stage_index < stage_index(stage)


def _in(p: ProductProfile, *stages: str) -> bool:
    return p.stage in stages


def _stage(p: ProductProfile) -> str:
    """"Stage is phase 2 (pivotal study)": the stage, with the study's role and the IND type when they matter."""
    notes = []
    if p.pivotal_study:
        notes.append("pivotal study")
    if p.ind_type != "development":
        notes.append(p.ind_type.replace("_", "-") + " IND" if p.ind_type == "single_patient" else "expanded access")
    return f"Stage is {p.stage}" + (f" ({', '.join(notes)})" if notes else "")


def _stage_facts(p: ProductProfile) -> tuple[str, ...]:
    return ("stage", "pivotal") if p.pivotal and p.clinical else ("stage",)


def _modality(p: ProductProfile) -> str:
    types = load_product_types()
    return types[p.modality].label if p.modality in types else p.modality


def _lots(p: ProductProfile) -> str:
    lots = p.lots_made
    counts = (("engineering", lots.engineering), ("clinical", lots.clinical), ("PPQ", lots.ppq),
              ("commercial", lots.commercial))
    parts = [f"{n} {kind}" for kind, n in counts if n]
    return f"{lots.total} lot{'s' if lots.total != 1 else ''} made so far" + (f" ({', '.join(parts)})" if parts else "")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _change(p: ProductProfile) -> str:
    kind = "" if p.change_type in ("unspecified", "other") else f" ({p.change.label.lower()})"
    return f"a {p.planned_change} change{kind} is planned ({p.change_description.strip()!r})"


def _reporting(p: ProductProfile) -> tuple[str, str, tuple[str, ...]]:
    """The 601.12 category of the planned change, a phrase naming it, and the deciding fact."""
    category, assumed = p.reporting
    if not assumed:
        return category, f"its reporting category is a {REPORTING_LABELS[category]}", ("reporting_category",)
    return (category, f"cgtkit assumes a {REPORTING_LABELS[category]} from the label '{p.planned_change}' "
                      "(set the reporting category in the profile)", ("planned_change",))


def _very_small_population(p: ProductProfile) -> bool:
    return p.patient_population <= VERY_SMALL_POPULATION_MAX


def _patient_derived(p: ProductProfile) -> bool:
    """Made from each patient's own cells (starting material varies from patient to patient)."""
    return p.individualized and p.product_type.patient_cells_when_individualized


def _developing_or_changing(p: ProductProfile) -> bool:
    return p.stage != "post-approval" or p.planned_change != "none" or p.new_technology_interest


def _small_lot(p: ProductProfile) -> tuple[bool, str, str]:
    """Whether a lot is small, why, and the profile field that decided (the lot facts first, then proxies)."""
    if p.final_containers_per_lot is not None:
        k = p.final_containers_per_lot
        return (k <= FEW_CONTAINERS_MAX,
                f"a lot fills {_n(k, 'final container')} (cgtkit rule: {FEW_CONTAINERS_MAX} or fewer is few)",
                "final_containers_per_lot")
    if p.doses_per_lot is not None:
        return (p.doses_per_lot == 1, f"a lot yields {_n(p.doses_per_lot, 'dose')}", "doses_per_lot")
    if p.lot_volume_ml is not None:
        return (p.lot_volume_ml <= SMALL_LOT_ML,
                f"a lot holds {p.lot_volume_ml:g} mL (cgtkit rule: {SMALL_LOT_ML:g} mL or less is small)",
                "lot_volume_ml")
    if p.individualized:
        return (True, "the product is individualized, so each lot is one patient's (lot size not entered)",
                "individualized")
    return (_very_small_population(p),
            f"lot size not entered; the patient population ({p.patient_population}) is "
            f"{'at or below' if _very_small_population(p) else 'above'} cgtkit's very-small-population threshold "
            f"of {VERY_SMALL_POPULATION_MAX} (cgtkit rule)", "patient_population")


def _scarce_material(p: ProductProfile) -> tuple[bool, str, str]:
    """Whether material for method validation is scarce, why, and the deciding field."""
    if p.individualized:
        return True, "the product is individualized, so little material from any lot is spare", "individualized"
    if p.doses_per_lot == 1:
        return True, "each lot yields a single dose, so little material is spare", "doses_per_lot"
    total = p.lots_made.total
    if total <= FEW_LOTS_MAX:
        return True, f"only {_lots(p)} (cgtkit rule: {FEW_LOTS_MAX} or fewer counts as few)", "lots_made"
    return False, f"{_lots(p)}, more than cgtkit's {FEW_LOTS_MAX}", "lots_made"


def _months(lots: int, per_year: int) -> str:
    """How long ``lots`` lots take at ``per_year`` a year, in words.

    >>> _months(3, 40), _months(3, 12), _months(3, 0)
    ('about 1 month', 'about 3 months', 'an open-ended time')
    """
    if not per_year:
        return "an open-ended time"
    months = round(12 * lots / per_year)
    return "less than a month" if months < 1 else f"about {months} month{'s' if months != 1 else ''}"


# -- the next FDA meeting --------------------------------------------------------
def next_meeting(p: ProductProfile) -> tuple[str, str]:
    """The id of the next FDA meeting for this product (``data/meetings.yaml``) and why it is that one.

    The choice is cgtkit's: the stage's milestone meeting, a CMC-only Type C meeting
    while the pivotal study runs and PPQ has not started, the review team while a BLA
    is under review, and a Type C or D meeting after approval.
    """
    if p.approved:
        if p.planned_change == "none":
            return "Type D", "no change is planned; a Type D meeting answers a narrow question if one comes up"
        category, _assumed = p.reporting
        if category == "annual_report":
            return "Type D", ("a change reported in an annual report rarely needs a meeting; a Type D meeting "
                              "answers a narrow question about it")
        return "Type C", "the planned change goes to FDA as a supplement; agree the data package first"
    if p.stage == Stage.BLA:
        return "BLA-review", "the BLA is under review: CMC questions go through the review team"
    if p.stage == Stage.PRE_IND:
        if p.lots_made.engineering == 0:
            return "INTERACT", "no engineering run yet: early, informal advice fits best (cgtkit rule)"
        return "pre-IND", "the clinical process has engineering runs behind it: the pre-IND meeting is next"
    if p.ind_type == "single_patient":
        return "Type D", "a single-patient IND raises narrow questions, which a Type D meeting suits"
    if p.pivotal_study:
        if p.lots_made.ppq == 0:
            return "Type C", ("the pivotal study runs and PPQ has not started: a CMC-only meeting on PPQ, "
                              "commercial specifications and comparability comes before the pre-BLA meeting, "
                              "which is too late to reshape PPQ (cgtkit rule)")
        return "pre-BLA", "the pivotal study runs and PPQ has started: the pre-BLA meeting is next"
    if p.stage == Stage.PHASE_1:
        if p.serious_condition:
            return "EOP1", ("phase 1 is under way: an end-of-phase 1 meeting agrees the next study, often the "
                            "pivotal one for these products, and the CMC readiness for it")
        return "Type C", ("phase 1 is under way and the condition is not recorded as serious: an end-of-phase 1 "
                          "discussion is then held as a Type C meeting (the Type B (EOP) end-of-phase 1 meeting is "
                          "for products for life-threatening or severely debilitating illnesses)")
    return "EOP2", "the next study is the pivotal one: the end-of-phase 2 meeting agrees it and the CMC for it"


def _meeting_for(p: ProductProfile, f: Flexibility) -> str:
    """Where to raise this entry: during BLA review the review team; otherwise the product's next meeting
    if the entry lists it, else the entry's first milestone meeting still ahead, else a Type C meeting."""
    meetings = load_meeting_types()
    nxt, _why = next_meeting(p)
    if nxt == "BLA-review" or nxt in f.meeting.types:
        return meetings[nxt].name
    if not p.approved:
        for m in f.meeting.types:
            mt = meetings[m]
            if mt.formal and not mt.any_stage and any(stage_index(s) >= p.stage_index for s in mt.stages):
                return mt.name
    return meetings["Type C"].name


# -- rules ----------------------------------------------------------------------
@rule("GEN-SCOPE-ENGAGE")
def gen_scope_engage(p: ProductProfile, f: Flexibility) -> Verdict:
    meeting_id, why = next_meeting(p)
    scope = ""
    if p.ind_type != "development":
        scope = (f"The IND is {IND_TYPE_LABELS[p.ind_type]}: the guidance is written for products developed toward "
                 "a BLA, so its flexibilities reach this use only as far as a BLA is in view; the IND still has to "
                 "describe adequate CMC (cgtkit reading).")
    return _v(
        "applies_now",
        f"Modality is {_modality(p)}: the 2026 guidance covers CBER-regulated human cell and gene therapy products "
        "developed for a BLA under 21 CFR part 601; confirm your product is one.",
        scope,
        "Every flexibility works within the existing statute and regulations, needs its own justification from "
        "data or scientific reasoning, and should be discussed with FDA before it is put into practice.",
        f"{_stage(p)}: the next occasion to raise CMC questions is {load_meeting_types()[meeting_id].name}; {why}.",
        facts=(*_stage_facts(p), "ind_type") if scope else _stage_facts(p),
    )


@rule("CD-CGMP-PHASE")
def cd_cgmp_phase(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.ind_type != "development":
        return _v(
            "not_applicable",
            f"{_stage(p)}: 21 CFR 210.2(c) exempts product made for a phase 1 study (21 CFR 312.21(a)); use under "
            f"{IND_TYPE_LABELS[p.ind_type]} is not such a study, so cgtkit does not assume the exemption covers it "
            "(cgtkit reading). Plan on controls that meet part 211 and ask FDA.",
            facts=("ind_type",),
        )
    if _in(p, Stage.PRE_IND, Stage.PHASE_1):
        pivotal = ("The study is flagged as pivotal: the exemption still applies to a phase 1 study in law, but its "
                   "lots become the clinical basis of the BLA, so cgtkit suggests making them under controls that "
                   "meet part 211." if p.pivotal and p.stage == Stage.PHASE_1 else "")
        return _v(
            "applies_now",
            f"{_stage(p)}: making product for a phase 1 study is exempt from part 211 (21 CFR 210.2(c)).",
            "The exemption lapses once product is made available for a phase 2 or 3 study (or marketed): plan the "
            "move to part 211 before the first such lot.",
            "Phase 1 production stays under statutory CGMP (FD&C Act 501(a)(2)(B); FDA's 2008 phase 1 CGMP "
            "guidance); parts 600-680 and part 1271 are not exempted.",
            pivotal,
            facts=_stage_facts(p),
        )
    if p.stage == Stage.PHASE_1_2:
        return _v(
            "not_applicable",
            f"{_stage(p)}: once any product goes to the phase 2 part of the study, part 211 applies to all of its "
            "product, the phase 1 part included (21 CFR 210.2(c)); plan on part 211 from the start of the study.",
            facts=("stage",),
        )
    return _v(
        "not_applicable",
        f"{_stage(p)}: product made for phase 2 or 3 studies or for commercial use must comply with part 211; "
        "the phase 1 exemption of 21 CFR 210.2(c) is past.",
        facts=("stage",),
    )


@rule("CD-RELEASE-PERMISSIVE")
def cd_release_permissive(p: ProductProfile, f: Flexibility) -> Verdict:
    if _in(p, Stage.PRE_IND):
        return _v(
            "later_stage",
            f"{_stage(p)}: no lot is made under an IND yet; wide, phase-appropriate release criteria matter once "
            "you propose them in the IND (21 CFR 312.23(a)(7)).",
            f"{_cap(_lots(p))}: engineering runs are the first data for the width of each criterion.",
            facts=("stage",),
        )
    if p.clinical:
        reasons = [
            f"{_stage(p)}: lots made under the IND may be released against broad criteria set for investigational "
            "use; the IND is not expected to carry final specifications (21 CFR 312.23(a)(7)).",
            f"{_cap(_lots(p))}: these inform each criterion; a lot outside even broad criteria is a reason to "
            "call FDA (remarks of a CBER official).",
        ]
        facts: tuple[str, ...] = _stage_facts(p)
        if p.pivotal_study:
            reasons.append(
                "The pivotal study is running: the lots released now mark the clinical range that the commercial "
                "limits will be justified against, so keep them no wider than you could defend at BLA (cgtkit "
                "reading).")
            reasons.append(
                f"Potency assay: {POTENCY_LABELS[p.potency_assay]}. Pivotal lots need a potency assay fit for "
                "release; a licensed product needs a potency test (21 CFR 610.10).")
            facts = (*facts, "potency_assay")
        return _v("applies_now", *reasons, facts=facts)
    return _v(
        "not_applicable",
        f"{_stage(p)}: commercial release specifications are now what counts (see CS-SPEC-FLEX-BLA and "
        "CS-SPEC-LIFECYCLE); IND criteria remain only for lots still made under an IND.",
        facts=("stage",),
    )


@rule("CD-SAFETY-ATTRIBUTES")
def cd_safety_attributes(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.approved:
        return _v(
            "not_applicable",
            f"{_stage(p)}: attribute classifications and limits are part of the approved specification; revisiting "
            "them goes through CS-SPEC-LIFECYCLE and 21 CFR 601.12.",
            facts=("stage",),
        )
    reasons = [
        f"{_stage(p)}: whether an attribute counts as a safety attribute is open to discussion with FDA "
        "(remarks of a CBER official, who named the pre-IND meeting as one place for it)."
    ]
    facts: tuple[str, ...] = (*_stage_facts(p), "modality")
    if p.product_type.integrating_vector:
        if p.bla_planning:
            reasons.append(
                f"Modality is {_modality(p)}: for vector copy number the limit now rests on the "
                f"{_n(p.lots_made.clinical, 'clinical lot')} made and on what patients experienced, not on "
                "engineering runs (cgtkit reading); FDA's January 2024 CAR-T guidance addresses this attribute.")
        else:
            reasons.append(
                f"Modality is {_modality(p)}: if the cells carry an integrating vector, vector copy number is the "
                "example - FDA holds no fixed number for CAR-T cells, and nonclinical and engineering-run data "
                f"({_n(p.lots_made.engineering, 'engineering lot')} so far) should set the first limit (remarks of a "
                "CBER official); FDA's January 2024 CAR-T guidance addresses this attribute.")
    else:
        reasons.append(
            f"Modality is {_modality(p)}: list the attributes you treat as safety attributes and bring the "
            "contested ones to the meeting.")
    return _v("applies_now", *reasons, facts=facts)


@rule("CD-MINOR-CHANGES")
def cd_minor_changes(p: ProductProfile, f: Flexibility) -> Verdict:
    if _in(p, Stage.PRE_IND):
        return _v(
            "later_stage",
            f"{_stage(p)}: there is no clinical product yet to compare with; this entry matters from phase 1 on.",
            facts=("stage",),
        )
    if _in(p, Stage.BLA, Stage.POST_APPROVAL):
        after = ("a change to the licensed product goes to FDA under 21 CFR 601.12 with data showing no adverse "
                 "effect; a comparability protocol approved in advance (601.12(e)) can lower its category"
                 if p.approved else
                 "a change now affects the application under review and needs comparability data discussed with "
                 "the review team")
        planned = (f"{_cap(_change(p))}: plan its comparability data{_on_page('comparability')}."
                   if p.planned_change != "none" else "")
        return _v(
            "not_applicable",
            f"{_stage(p)}: this entry covers changes during clinical development; {after}.",
            planned,
            facts=("stage",),
        )
    if p.planned_change == "none":
        return _v(
            "not_applicable",
            f"{_stage(p)} and no manufacturing change is planned: this entry matters when a change is planned "
            "before or during the studies that support licensure.",
            facts=("planned_change",),
        )
    reasons = [
        f"{_stage(p)} and {_change(p)}: the 2026 guidance asks for comparability data matched to the risk of "
        "the change, without an excessive package.",
        "Comparable means highly similar with no adverse impact (ICH Q5E), not identical.",
    ]
    facts: tuple[str, ...] = ("planned_change",)
    if p.planned_change == "minor":
        reasons.insert(1, "FDA said in January 2026 that it will accept minor changes on this path when the "
                          "product is shown to be comparable before and after.")
        if p.change.minor_is_doubtful:
            reasons.append(
                f"The change is a {p.change.label.lower()}, which is rarely minor for a cell or gene therapy: "
                "confirm the label with a documented risk assessment before relying on it (cgtkit reading).")
            facts = (*facts, "change_type")
    else:
        reasons.append(
            "FDA's January statement covers minor changes only, but the risk-based approach to comparability "
            "applies to this change as well; expect extended characterization and possibly nonclinical or clinical "
            f"data (FDA's July 2023 draft guidance on CGT comparability). Plan it{_on_page('comparability')} and "
            "discuss it with FDA before post-change lots go into the pivotal study.")
    return _v("applies_now", *reasons, facts=facts)


@rule("CD-PRIOR-KNOWLEDGE")
def cd_prior_knowledge(p: ProductProfile, f: Flexibility) -> Verdict:
    if not _developing_or_changing(p):
        return _v(
            "not_applicable",
            f"{_stage(p)}, no change planned and no new technology of interest: prior knowledge has no current use "
            "here; it returns if you plan a change.",
            facts=("stage", "planned_change", "new_technology_interest"),
        )
    changing_licensed = p.approved and p.planned_change != "none"
    why = (f"{_change(p)}, and prior knowledge can support it" if changing_licensed
           else "knowledge from outside the product's own lots (a platform, related products, the literature) can "
                "support CMC development, with reasons why it carries over")
    return _v("applies_now", f"{_stage(p)}: {why}.",
              f"{_cap(_lots(p))}: where the product's own data leave gaps, outside knowledge with a stated rationale "
              "can help fill them.",
              "Data held by another company are referenced with its letter of authorization; a platform used "
              "across products may be designated under FD&C Act 506K.",
              facts=("stage", "planned_change") if changing_licensed else ("stage",))


@rule("CD-CONSENSUS-STANDARDS")
def cd_consensus_standards(p: ProductProfile, f: Flexibility) -> Verdict:
    if not _developing_or_changing(p):
        return _v(
            "not_applicable",
            f"{_stage(p)}, no change planned and no new technology of interest: no development work for standards "
            "to support now.",
            facts=("stage", "planned_change", "new_technology_interest"),
        )
    extra = " (for example standards for new equipment or automation)" if p.new_technology_interest else ""
    return _v(
        "applies_now",
        f"{_stage(p)}: voluntary consensus standards may be used in developing and assessing the product{extra}.",
        facts=("stage",),
    )


@rule("PV-LIFECYCLE")
def pv_lifecycle(p: ProductProfile, f: Flexibility) -> Verdict:
    pv = 3 if p.approved else 2 if p.bla_planning or p.lots_made.ppq else 1
    return _v(
        "applies_now",
        f"{_stage(p)}: process validation is in {_PV_STAGES[pv]} of the lifecycle in FDA's 2011 process "
        "validation guidance.",
        "Analytical methods mature along the same lifecycle: fit for purpose now, validated for commercial use "
        "(ICH Q14, ICH Q2(R2)).",
        facts=_stage_facts(p),
    )


@rule("PV-PPQ-LOT-NUMBER")
def pv_ppq_lot_number(p: ProductProfile, f: Flexibility) -> Verdict:
    ppq = p.lots_made.ppq
    if p.ind_type != "development":
        return _v(
            "not_applicable",
            f"{_stage(p)}: PPQ qualifies a commercial process; {IND_TYPE_LABELS[p.ind_type]} needs none unless the "
            "product is also developed toward a BLA.",
            facts=("ind_type",),
        )
    if p.approved:
        if p.planned_change == "none":
            return _v(
                "not_applicable",
                f"{_stage(p)} and no change planned: PPQ was completed for the BLA; continued process verification "
                "(PV-LIFECYCLE) applies.",
                facts=("planned_change",),
            )
        category, phrase, facts = _reporting(p)
        if category == "annual_report":
            return _v(
                "not_applicable",
                f"{_stage(p)} and {_change(p)}; {phrase}: a minor change of that kind usually needs no new PPQ "
                "(cgtkit reading of FDA's 2021 guidance on changes to approved biologics).",
                facts=facts,
            )
        return _v(
            "applies_now",
            f"{_stage(p)} and {_change(p)}; {phrase}: if the changed process needs PPQ, the number of PPQ lots again "
            "needs its own justification, and the results go with the submission.",
            facts=facts,
        )
    pace = (f"At {p.lots_per_year} lots a year, a three-lot PPQ would take {_months(3, p.lots_per_year)} of "
            "production (cgtkit arithmetic), one more reason to justify the number rather than default to it."
            if p.lots_per_year else "")
    if p.stage == Stage.BLA:
        if ppq == 0:
            return _v(
                "applies_now",
                f"{_stage(p)} with no PPQ lots recorded: readiness gap. The BLA review evaluates PPQ and the "
                "justification of its lot number; a BLA without PPQ results needs an agreed plan to provide them "
                "during review, before the pre-license inspection.",
                facts=("stage", "lots_made.ppq"),
            )
        return _v(
            "applies_now",
            f"{_stage(p)}: {_n(ppq, 'PPQ lot')} made so far; the protocol must show why this number is enough, and "
            "FDA weighs that in BLA review.",
            facts=("stage", "lots_made.ppq"),
        )
    if p.pivotal_study:
        made = (f"{_n(ppq, 'PPQ lot')} made so far: the protocol must show why the number is enough."
                if ppq else "No PPQ lots made yet: settle the number and its justification before PPQ starts.")
        return _v(
            "applies_now",
            f"{_stage(p)}: the pivotal study is running, so PPQ is due before the BLA; three PPQ lots are not "
            "required, but PPQ is, and the protocol justifies its number of lots from process and product "
            "knowledge.",
            made,
            pace,
            facts=(*_stage_facts(p), "lots_made.ppq", "lots_per_year"),
        )
    if ppq > 0 and p.clinical:
        return _v(
            "applies_now",
            f"{_stage(p)} with {_n(ppq, 'PPQ lot')} already made: the number of PPQ lots and its justification are "
            "in play now, not at a later stage.",
            pace,
            facts=("lots_made.ppq",),
        )
    return _v(
        "later_stage",
        f"{_stage(p)}: PPQ comes with the pivotal study, before the BLA; in cell and gene therapy that study is "
        "often a phase 1/2 or phase 2 study. The number of PPQ lots will need a scientific justification, not a "
        "default of three.",
        f"{_cap(_lots(p))}: this process knowledge is what the justification will draw on.",
        facts=_stage_facts(p),
    )


@rule("PV-CONCURRENT-RELEASE")
def pv_concurrent_release(p: ProductProfile, f: Flexibility) -> Verdict:
    conditions = ("the lot meets the commercial release specification, is within its commercial shelf life, "
                  "and the PPQ protocol provides for it")
    if p.ind_type != "development":
        return _v(
            "not_applicable",
            f"{_stage(p)}: concurrent release concerns PPQ lots of a licensed product, which "
            f"{IND_TYPE_LABELS[p.ind_type]} does not have.",
            facts=("ind_type",),
        )
    if not p.approved:
        reasons = [
            f"{_stage(p)}: commercial concurrent release of PPQ lots can be considered only after BLA approval, when "
            f"{conditions}.",
            "Before approval, PPQ lots go to patients only under the IND (PV-PPQ-CLINICAL-USE).",
        ]
        if p.bla_planning:
            reasons.append("If you intend to use it, write the circumstances and rationale into the PPQ protocol now; "
                           "FDA's 2011 process validation guidance expects concurrent release to be rare.")
        return _v("later_stage", *reasons, facts=("stage",))
    if p.planned_change == "none":
        return _v(
            "not_applicable",
            f"{_stage(p)} and no change planned: no new PPQ lots are expected, so concurrent release has no current "
            "use.",
            facts=("planned_change",),
        )
    category, phrase, facts = _reporting(p)
    if category == "prior_approval":
        return _v(
            "not_applicable",
            f"{_stage(p)} and {_change(p)}; {phrase}. Product made with such a change may not be distributed until "
            "FDA approves the supplement (21 CFR 601.12(b)), so PPQ lots of the changed process cannot be released "
            "before that, and the PPQ data go into the supplement.",
            facts=facts,
        )
    if category == "annual_report":
        return _v(
            "not_applicable",
            f"{_stage(p)} and {_change(p)}; {phrase}: a minor change of that kind usually needs no new PPQ, so "
            "there is nothing to release concurrently (cgtkit reading).",
            facts=facts,
        )
    when = "once FDA has received the supplement" if category == "cbe" else "30 days after FDA receives the supplement"
    return _v(
        "applies_now",
        f"{_stage(p)} and {_change(p)}; {phrase}: product of the change may be distributed {when} unless FDA "
        f"objects (cgtkit reading of 21 CFR 601.12(c)), so PPQ lots of the changed process could be released "
        f"before the PPQ protocol is complete if {conditions}.",
        "FDA's 2011 process validation guidance expects concurrent release to be rare; justify the circumstances "
        "in the protocol.",
        facts=facts,
    )


@rule("PV-PPQ-CLINICAL-USE")
def pv_ppq_clinical_use(p: ProductProfile, f: Flexibility) -> Verdict:
    ppq = p.lots_made.ppq
    if p.ind_type != "development":
        return _v("not_applicable",
                  f"{_stage(p)}: {IND_TYPE_LABELS[p.ind_type]} has no PPQ lots to use.", facts=("ind_type",))
    if p.approved:
        return _v(
            "not_applicable",
            f"{_stage(p)}: the clinical route matters only if PPQ lots are made while an IND is still open (for "
            "example for a new indication); the profile does not record an open IND, so cgtkit does not flag it "
            "(cgtkit rule).",
            facts=("stage",),
        )
    if p.bla_planning or ppq > 0:
        made = _n(ppq, "PPQ lot") + " made so far"
        not_new = ("This is not a new permission: any lot made as the IND describes and meeting its criteria can be "
                   "used in its study; the 2026 guidance confirms it for PPQ lots (cgtkit reading).")
        facts: tuple[str, ...] = (*_stage_facts(p), "lots_made.ppq") if ppq else _stage_facts(p)
        if _patient_derived(p):
            if p.ppq_material == "healthy_donor":
                return _v(
                    "not_applicable",
                    f"{_stage(p)} ({made}): the PPQ lots are made from healthy-donor cells, and a product made "
                    "from each patient's own cells cannot be given to anyone else, so these PPQ lots cannot treat "
                    "study patients.",
                    facts=("ppq_material",),
                )
            if p.ppq_material == "patient":
                why = ("The PPQ lots are made from study patients' own cells: each can treat the patient it was made "
                       "for, under the IND, if it meets the IND criteria.")
            else:
                why = ("Only PPQ lots made from a study patient's own cells can treat that patient; lots made from "
                       "healthy-donor cells cannot. Record the PPQ starting material in the profile.")
            facts = (*facts, "ppq_material")
        else:
            why = ""
        return _v(
            "applies_now",
            f"{_stage(p)}: PPQ lots are made (or about to be) while the IND is open ({made}); lots that meet the IND "
            "release criteria may be used in the clinical investigation under the IND.",
            why,
            not_new,
            facts=facts,
        )
    return _v(
        "later_stage",
        f"{_stage(p)} and no PPQ lots made: PPQ usually runs with the pivotal study; lots made then may be used "
        "clinically under the IND if they meet its release criteria.",
        facts=_stage_facts(p),
    )


@rule("CS-SPEC-FLEX-BLA")
def cs_spec_flex_bla(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.ind_type != "development":
        return _v("not_applicable",
                  f"{_stage(p)}: commercial specifications belong to a BLA, which {IND_TYPE_LABELS[p.ind_type]} "
                  "does not lead to by itself.", facts=("ind_type",))
    if p.approved:
        return _v(
            "not_applicable",
            f"{_stage(p)}: release specifications were set at approval; revisiting them is CS-SPEC-LIFECYCLE.",
            facts=("stage",),
        )
    if p.bla_planning:
        reasons = [
            f"{_stage(p)}: FDA will consider justified flexibility in release specifications in BLA review, given "
            "the product, its process and how few lots exist.",
            f"{_cap(_lots(p))}: state how limits drawn from these lots were set and the chance that later lots "
            "of an unchanged process fall outside them; the pivotal lots frame what can be justified.",
        ]
        if _very_small_population(p):
            reasons.append(f"The patient population ({p.patient_population}) keeps the number of lots low.")
        return _v("applies_now", *reasons, facts=_stage_facts(p))
    return _v(
        "later_stage",
        f"{_stage(p)}: commercial specifications are proposed in the BLA and drafted while the pivotal study runs; "
        f"{_lots(p)} are the first of the data they will rest on, so test every lot with that in mind.",
        facts=_stage_facts(p),
    )


@rule("CS-SPEC-LIFECYCLE")
def cs_spec_lifecycle(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.ind_type != "development":
        return _v("not_applicable", f"{_stage(p)}: there is no licensed product whose criteria could be revisited.",
                  facts=("ind_type",))
    if not p.approved:
        reasons = [
            f"{_stage(p)}: re-evaluation uses post-approval manufacturing experience; propose how you will collect "
            "commercial data and when you will re-evaluate, ideally in the BLA or as a comparability protocol "
            "(21 CFR 601.12(e)).",
        ]
        if _patient_derived(p):
            reasons.append("For a product made from each patient's own cells, clinical studies should show how much "
                           "patients' starting material varies before commercial criteria are set (remarks of a "
                           "CBER official).")
        return _v("later_stage", *reasons, facts=("stage",))
    n = p.lots_made.commercial
    reasons = [
        f"{_stage(p)} with {_n(n, 'commercial lot')} made: FDA will consider revising release acceptance criteria "
        "from post-approval experience, particularly when quality has held steady; the revision goes to FDA under "
        "21 CFR 601.12.",
        "Widening a criterion usually needs a prior-approval supplement (601.12(b)(2)(i) lists specification "
        "changes among major changes); FDA's 2021 guidance puts tightening in a lower category; a comparability "
        "protocol approved in advance (601.12(e)) can set the plan and lower the category.",
    ]
    facts: tuple[str, ...] = ("lots_made.commercial",)
    if n < FEW_LOTS_MAX:
        wait = (f" At {p.lots_per_year} lots a year, {FEW_LOTS_MAX - n} more take {_months(FEW_LOTS_MAX - n, p.lots_per_year)}."
                if p.lots_per_year else "")
        reasons.append(f"cgtkit rule: with fewer than {FEW_LOTS_MAX} commercial lots, gather more before proposing "
                       f"revised criteria; limits from so few lots are still very uncertain.{wait}")
        facts = (*facts, "lots_per_year")
    else:
        reasons.append(f"cgtkit rule: {n} commercial lots ({FEW_LOTS_MAX} or more) are a reasonable basis for "
                       "re-estimating limits and checking that the process is stable.")
    return _v("applies_now", *reasons, facts=facts)


@rule("CS-AMV-FEWER-LOTS")
def cs_amv_fewer_lots(p: ProductProfile, f: Flexibility) -> Verdict:
    scarce, why, fact = _scarce_material(p)
    if p.ind_type != "development":
        return _v("not_applicable",
                  f"{_stage(p)}: methods under {IND_TYPE_LABELS[p.ind_type]} are qualified for that use; validation "
                  "for licensure does not arise.", facts=("ind_type",))
    if p.bla_planning:
        if scarce:
            return _v(
                "applies_now",
                f"{_stage(p)}: release methods are validated for licensure now; {why}. A validation may rest on few "
                "lots, even one representative lot, when its design is scientifically supported.",
                facts=(*_stage_facts(p), fact),
            )
        return _v(
            "not_applicable",
            f"{_stage(p)}: {why}, and the product is not individualized, so enough material is likely available for "
            "a conventional validation; the flexibility stays open if material is scarce.",
            facts=(*_stage_facts(p), fact),
        )
    if p.approved:
        if p.planned_change != "none" and p.change_type in METHOD_CHANGES and scarce:
            return _v(
                "applies_now",
                f"{_stage(p)} and {_change(p)}: a new, changed or transferred method may be validated with fewer "
                f"lots; {why}.",
                facts=("planned_change", "change_type", fact),
            )
        if p.planned_change != "none" and p.change_type not in METHOD_CHANGES:
            return _v(
                "not_applicable",
                f"{_stage(p)} and {_change(p)}: a change of this kind brings no new release method; the methods "
                "validated for the BLA stay in use.",
                facts=("change_type",),
            )
        return _v(
            "not_applicable",
            f"{_stage(p)}: the release methods were validated for the BLA; this returns if a change brings a new "
            "method and material is scarce.",
            facts=("stage", "planned_change"),
        )
    return _v(
        "later_stage",
        f"{_stage(p)}: methods are validated for licensure while the pivotal study runs; if material stays scarce "
        f"({why}), plan a validation with fewer lots.",
        facts=_stage_facts(p),
    )


@rule("CS-STABILITY-CLINICAL-LOTS")
def cs_stability_clinical_lots(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.ind_type != "development":
        return _v("not_applicable", f"{_stage(p)}: there is no commercial shelf life to support.",
                  facts=("ind_type",))
    if p.approved:
        return _v(
            "not_applicable",
            f"{_stage(p)}: commercial expiry was set at approval; stability studies continue on commercial lots "
            "(21 CFR 211.166), and a change to the dating period goes to FDA under 21 CFR 601.12.",
            facts=("stage",),
        )
    if p.bla_planning:
        return _v(
            "applies_now",
            f"{_stage(p)}: stability data from the {_n(p.lots_made.clinical, 'clinical lot')} made so far may "
            f"support the expiry of commercial lots (shelf life entered: {p.shelf_life_days:g} days).",
            "Biotech products follow ICH Q5C; ICH Q1E's regression method is written for small molecules and its "
            "extrapolation allowances do not carry over unchanged.",
            facts=_stage_facts(p),
        )
    return _v(
        "later_stage",
        f"{_stage(p)}: put clinical lots on stability now, so that data exist when commercial expiry "
        f"(shelf life entered: {p.shelf_life_days:g} days) is proposed in the BLA.",
        facts=_stage_facts(p),
    )


@rule("CS-RESERVE-SAMPLES")
def cs_reserve_samples(p: ProductProfile, f: Flexibility) -> Verdict:
    small, why, fact = _small_lot(p)
    if not small:
        return _v(
            "not_applicable",
            f"Here {why}: cgtkit assumes lots are large enough to keep reserve samples; the exception question does "
            "not arise.",
            facts=(fact,),
        )
    if not p.part_211_expected:
        return _v(
            "later_stage",
            f"{_stage(p)}: part 211, including the reserve-sample rule of 21 CFR 211.170(b), applies to product made "
            f"for phase 2 studies and later (21 CFR 210.2(c)); here {why}: plan the sample budget and any exception "
            "request before then.",
            facts=("stage", fact),
        )
    base = (f"{_stage(p)}: part 211 applies, so 21 CFR 211.170(b) calls for a reserve sample of twice the test "
            "quantity (sterility and pyrogen tests excluded) kept 1 year past expiry.")
    if not (p.stage == Stage.BLA or p.approved):
        return _v(
            "applies_now",
            base,
            f"Here {why}: FDA may agree to an exception for small or individualized lots; it is sought and agreed "
            "under the IND, not assumed. 21 CFR 600.13 governs licensed products, not IND lots.",
            facts=("stage", fact),
        )
    reasons = [
        base + " For a licensed product, 21 CFR 600.13 adds retention of representative material 6 months past "
        "expiry, including at least one final container.",
    ]
    facts: tuple[str, ...] = ("stage", fact)
    if p.final_containers_per_lot == 1:
        reasons.append("A lot fills a single final container, which is the dose itself: keeping it would take the "
                       "patient's product, so an exception is needed.")
    if p.final_containers_per_lot is not None and p.final_containers_per_lot <= FEW_CONTAINERS_MAX:
        if p.lots_per_year >= MANY_LOTS_PER_YEAR:
            reasons.append(
                f"21 CFR 600.13 names the case for an exception: few final containers per lot, with lots made the "
                f"same way in large number and quick succession. With {_n(p.final_containers_per_lot, 'container')} "
                f"per lot and {p.lots_per_year} lots a year, both appear to be met (cgtkit reading; the section gives "
                f"no numbers, cgtkit uses {MANY_LOTS_PER_YEAR} lots a year). Only the CBER Director can authorize it; "
                "it cannot be self-granted.")
        else:
            reasons.append(
                f"21 CFR 600.13 names the case for an exception as few final containers with lots made in large "
                f"number and quick succession; at {p.lots_per_year} lots a year the second part is not met on its face "
                f"(cgtkit rule: {MANY_LOTS_PER_YEAR}), so the request leans on the 2026 guidance's flexibility for "
                "small lots. The CBER Director authorizes it; it cannot be self-granted.")
        facts = (*facts, "final_containers_per_lot", "lots_per_year")
    else:
        reasons.append(f"Here {why}: FDA may grant an exception for small or individualized lots, but it must be "
                       "requested and granted - under 21 CFR 600.13 the CBER Director authorizes exceptions; it cannot "
                       "be self-granted.")
    return _v("applies_now", *reasons, facts=facts)


@rule("CS-ALT-METHODS")
def cs_alt_methods(p: ProductProfile, f: Flexibility) -> Verdict:
    short = p.shelf_life_days <= SHORT_SHELF_LIFE_DAYS
    small, why, fact = _small_lot(p)
    if not (short or small):
        return _v(
            "not_applicable",
            f"Shelf life is {p.shelf_life_days:g} days and {why}: cgtkit does not flag alternative release methods "
            f"(cgtkit rule: flagged at a shelf life of {SHORT_SHELF_LIFE_DAYS} days or less, or for small lots); they "
            "remain an option if sample volume or testing time is a problem.",
            facts=("shelf_life_days", fact),
        )
    drivers = []
    facts: list[str] = []
    if short:
        drivers.append(
            f"Shelf life is {p.shelf_life_days:g} days (cgtkit rule: {SHORT_SHELF_LIFE_DAYS} days or less counts as "
            "short): tests that take weeks, such as a compendial sterility test incubated for 14 days, leave little "
            "time to use the product.")
        facts.append("shelf_life_days")
    if small:
        drivers.append(f"Here {why}: every test sample comes out of a small lot, so methods needing less volume "
                       "matter.")
        facts.append(fact)
    if _in(p, Stage.PRE_IND):
        return _v("later_stage", *drivers,
                  f"{_stage(p)}: choose release methods with this in mind for the first IND lots.",
                  facts=("stage", *facts))
    if p.clinical:
        route = ("Under the IND the methods are phase-appropriate. When the shelf life is shorter than a sterility "
                 "test, product can be released on the results at hand while the final test runs, with a plan to "
                 "tell the treating physician if it turns positive (FDA's 2020 gene therapy CMC guidance).")
    else:
        route = ("Since 2012, 21 CFR 610.12 allows a validated culture or non-culture sterility method on material "
                 "approved in the BLA, so a rapid sterility method is proposed there; replacing another method that "
                 "part 610 requires needs the 21 CFR 610.9 showing of equal or greater assurance, in the BLA or a "
                 "supplement, and written CBER approval.")
    return _v("applies_now", *drivers, route, facts=tuple(facts))


@rule("RP-AMT")
def rp_amt(p: ProductProfile, f: Flexibility) -> Verdict:
    if not p.new_technology_interest:
        return _v(
            "not_applicable",
            "The profile records no interest in new manufacturing technology: AMT designation is for a novel "
            "manufacturing technology (or an established one used in a novel way).",
            facts=("new_technology_interest",),
        )
    reasons = [
        f"{_stage(p)} and the profile records interest in new manufacturing technology: AMT designation "
        "(FD&C Act 506L) can expedite development and assessment of applications and supplements that use a "
        "designated method; it is not limited to post-approval changes.",
    ]
    if p.approved:
        reasons.append("For a switch of a licensed product's process, comparability with the approved product is the "
                       "key evidence (industry experience).")
        if p.planned_change != "none":
            reasons.append(f"{_cap(_change(p))}: check whether its technology fits the program.")
    return _v("applies_now", *reasons, facts=("new_technology_interest",))


@rule("RP-EXPEDITED-PROGRAMS")
def rp_expedited_programs(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.approved:
        return _v("not_applicable", f"{_stage(p)}: designations and accelerated approval concern the path to "
                                    "approval.", facts=("stage",))
    held = p.designation != "none"
    if held or p.accelerated_approval:
        reasons = []
        facts: tuple[str, ...] = ()
        if held:
            reasons.append(
                f"{_stage(p)} with {DESIGNATION_LABELS[p.designation]} designation: more and earlier interaction "
                "with FDA is available; use some of it for CMC, because the CMC standard does not change.")
            facts = ("designation",)
        if p.accelerated_approval:
            reasons.append(
                "Accelerated approval is planned: the BLA may come on a surrogate endpoint, so PPQ, a validated "
                "potency assay and a facility ready for the pre-license inspection become the pacing items "
                "(cgtkit reading).")
            facts = (*facts, "accelerated_approval")
        gaps = [c.label.lower() for c in bla_readiness(p) if c.status in ("gap", "unknown")]
        if gaps:
            reasons.append(f"Readiness items still open or unknown: {', '.join(gaps)}.")
        return _v("applies_now", *reasons, facts=facts)
    if not p.serious_condition:
        return _v("not_applicable",
                  "The condition is not recorded as serious: RMAT and breakthrough designation and accelerated "
                  "approval are for serious conditions.", facts=("serious_condition",))
    if _in(p, Stage.PRE_IND, Stage.PHASE_1, Stage.PHASE_1_2):
        return _v(
            "later_stage",
            f"{_stage(p)}, serious condition, no designation recorded: once preliminary clinical evidence exists, "
            "RMAT (for a cell or gene therapy) or breakthrough designation may be requested; either brings more "
            "FDA interaction, CMC included.",
            facts=("stage", "designation"),
        )
    return _v(
        "not_applicable",
        f"{_stage(p)} and no designation or accelerated approval recorded: nothing to plan here unless you request "
        "one.",
        facts=("designation", "accelerated_approval"),
    )


@rule("RP-PLAUSIBLE-MECHANISM")
def rp_plausible_mechanism(p: ProductProfile, f: Flexibility) -> Verdict:
    if p.approved:
        return _v("not_applicable",
                  f"{_stage(p)}: the framework concerns the evidence for approval, and the product is licensed.",
                  facts=("stage",))
    if p.genetic_target == "individual_variant":
        if not p.serious_condition:
            return _v("not_applicable",
                      "The product is designed for each patient's own variant, but the condition is not recorded as "
                      "serious; the draft framework is aimed at serious conditions.",
                      facts=("serious_condition",))
        return _v(
            "applies_now",
            f"The product is designed for each patient's own genetic variant, for a serious condition (population "
            f"{p.patient_population}): the February 2026 draft plausible mechanism framework may fit when "
            "randomized trials are not feasible.",
            "It is mainly about the evidence of effectiveness, but the draft also covers the CMC data such products "
            "need, including what is shared across variant-specific versions.",
            facts=("genetic_target", "serious_condition"),
        )
    if p.genetic_target == "shared_variant":
        return _v(
            "not_applicable",
            "The product targets a known genetic cause with the same design for every patient: it is not "
            "individualized in the framework's sense, whatever the lot size; small-population trial designs are "
            "the more likely route (FDA's September 2025 draft on innovative designs).",
            facts=("genetic_target",),
        )
    return _v("not_applicable",
              "The profile records no genetic cause targeted: the framework is for therapies designed for a known "
              "genetic cause.", facts=("genetic_target",))


def stage_window_rule(p: ProductProfile, f: Flexibility) -> Verdict:
    """Fallback for a catalog entry with no registered rule: its ``stages`` decide."""
    first, last = stage_index(f.stages[0]), stage_index(f.stages[-1])
    if p.stage in f.stages:
        return _v("applies_now", f"{_stage(p)}: the catalog lists this entry for {', '.join(f.stages)}.",
                  facts=("stage",))
    if p.stage_index < first:
        return _v("later_stage", f"{_stage(p)}: the catalog lists this entry from {f.stages[0]} on.", facts=("stage",))
    if p.stage_index > last:
        return _v("not_applicable", f"{_stage(p)}: the catalog lists this entry up to {f.stages[-1]} only.",
                  facts=("stage",))
    return _v("not_applicable", f"{_stage(p)}: the catalog does not list this entry for this stage.", facts=("stage",))


def _modality_mismatch(p: ProductProfile, f: Flexibility) -> Verdict:
    types = load_product_types()
    listed = ", ".join(types[t].label if t in types else t for t in f.product_types)
    return _v("not_applicable", f"Modality is {_modality(p)}: cgtkit screens this entry only for {listed}.",
              facts=("modality",))


# -- BLA readiness --------------------------------------------------------------
ReadinessStatus = Literal["ok", "open", "gap", "unknown"]
READINESS_LABELS: dict[str, str] = {"ok": "in place", "open": "to do", "gap": "gap", "unknown": "not entered"}


@dataclass(frozen=True)
class ReadinessCheck:
    """One item of the BLA-readiness check: its status and why (a cgtkit checklist, not an FDA list)."""

    id: str
    label: str
    status: ReadinessStatus
    reason: str
    fact: str


def bla_readiness(p: ProductProfile) -> tuple[ReadinessCheck, ...]:
    """PPQ, potency assay, comparability of the pivotal and commercial processes, inspection readiness.

    Empty when a BLA is not yet in view (before the pivotal study) or after approval.
    At BLA stage anything not in place is a gap; while the pivotal study runs it is still to do.
    """
    if not p.bla_planning:
        return ()
    filed = p.stage == Stage.BLA
    due = "gap" if filed else "open"
    ppq = p.lots_made.ppq
    if ppq:
        ppq_check = ReadinessCheck("ppq", "PPQ", "ok" if filed else "open",
                                   f"{_n(ppq, 'PPQ lot')} made; completion of the protocol is not recorded.",
                                   "lots_made.ppq")
    else:
        ppq_check = ReadinessCheck("ppq", "PPQ", due,
                                   "No PPQ lots made: PPQ results are expected in the BLA review." if filed else
                                   "No PPQ lots made yet: plan PPQ so that its results are ready for the BLA.",
                                   "lots_made.ppq")
    potency = {
        "validated": ("ok", "The potency assay is validated."),
        "qualified": (due, "The potency assay is qualified; it is validated before it releases commercial lots."),
        "in_development": ("gap", "The potency assay is still in development: pivotal lots need an assay fit for "
                                  "release, and the BLA a validated one (21 CFR 610.10)."),
        "not_set": ("unknown", "The potency assay status is not entered."),
    }[p.potency_assay]
    bridge = {
        "same_process": ("ok", "The pivotal lots were made with the commercial process."),
        "comparability_shown": ("ok", "Comparability between the pivotal and the commercial process is shown."),
        "comparability_planned": (due, "Comparability between the pivotal and the commercial process is planned, "
                                       "not yet shown."),
        "not_addressed": ("gap", "Nothing yet bridges the pivotal-study process to the commercial one."),
        "not_set": ("unknown", "How the pivotal-study process relates to the commercial one is not entered."),
    }[p.process_bridge]
    return (
        ppq_check,
        ReadinessCheck("potency", "Potency assay validated", potency[0], potency[1], "potency_assay"),
        ReadinessCheck("bridge", "Pivotal and commercial processes bridged", bridge[0], bridge[1], "process_bridge"),
        ReadinessCheck("inspection", "Pre-license inspection readiness", "open",
                       "FDA inspects the commercial facility during BLA review (21 CFR 601.20(d)); plan readiness "
                       "with the review timeline.", "stage"),
    )


# -- results ----------------------------------------------------------------------
@dataclass(frozen=True)
class AssessmentItem:
    """One catalog entry assessed for one profile.

    ``reasons`` and ``evidence`` are tuples of plain sentences (immutable lists);
    ``facts`` names the profile fields that decided the status.
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
    facts: tuple[str, ...] = ()

    @property
    def area(self) -> str:
        return self.flexibility.area

    @property
    def title(self) -> str:
        return self.flexibility.title

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def basis(self) -> str:
        """What the entry's central claim rests on (catalog ``basis``)."""
        return self.flexibility.basis


@dataclass(frozen=True)
class Assessment:
    """All catalog entries assessed for one profile, in catalog order, with the BLA-readiness check."""

    profile: ProductProfile
    items: tuple[AssessmentItem, ...]
    readiness: tuple[ReadinessCheck, ...] = field(default=())

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
        """One row per entry: flexibility_id, area, title, status, basis, facts, reasons (joined), page, next_step."""
        import pandas as pd

        columns = ["flexibility_id", "area", "title", "status", "basis", "facts", "reasons", "page", "next_step"]
        return pd.DataFrame(
            [
                {
                    "flexibility_id": it.flexibility_id,
                    "area": it.area,
                    "title": it.title,
                    "status": it.status,
                    "basis": it.basis,
                    "facts": ", ".join(it.facts),
                    "reasons": " ".join(it.reasons),
                    "page": it.page,
                    "next_step": it.next_step,
                }
                for it in self.items
            ],
            columns=columns,
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


def _next_step(p: ProductProfile, f: Flexibility, status: Status) -> str:
    engage = "Do not implement it before discussing it with FDA (GEN-SCOPE-ENGAGE)."
    meeting = _meeting_for(p, f)
    # the catalog's meeting notes plan the way to a BLA; once it is filed they no longer fit
    note = f" {f.meeting.note}" if p.stage != Stage.BLA else ""
    if f.id == "GEN-SCOPE-ENGAGE":
        nxt, _why = next_meeting(p)
        return (f"Meet FDA before implementing any flexibility: next, {load_meeting_types()[nxt].name}.{note} "
                "(GEN-SCOPE-ENGAGE)")
    if not f.needs_agreement and status == "applies_now":
        return (f"No FDA agreement is needed for this itself (it follows from the regulation); describe it in the "
                f"IND and confirm the plan that follows from it at {meeting} (GEN-SCOPE-ENGAGE).{note}")
    if status == "applies_now":
        return f"Raise it with FDA at {meeting}.{note} {engage}"
    if status == "later_stage":
        return f"Plan ahead: raise it with FDA at {meeting}, before it applies.{note} {engage}"
    return (f"Nothing to prepare now. If your plans change so that it applies, raise it with FDA at "
            f"{meeting} first (GEN-SCOPE-ENGAGE: meet FDA before implementing).")


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
        facts=verdict.facts,
    )


def assess(profile: ProductProfile, catalog: Catalog | None = None) -> Assessment:
    """Assess every catalog entry for ``profile`` (catalog defaults to :func:`load_catalog`)."""
    catalog = catalog or load_catalog()
    return Assessment(profile=profile, items=tuple(assess_one(profile, f) for f in catalog),
                      readiness=bla_readiness(profile))
