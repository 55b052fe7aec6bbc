"""The flexibility catalog: complete, validated, sourced and graded; the meeting, not-flexible and
guidance data files. (That every text is in cgtkit's own words is tested in test_own_words.py.)"""

from __future__ import annotations

import datetime

import copy
import re
from pathlib import Path

import pytest
import yaml

from cgtkit.catalog import (
    AREAS,
    BASIS_LABELS,
    PROVENANCE_LABELS,
    QUESTION_FIELDS,
    Catalog,
    load_catalog,
    load_guidances,
    load_meeting_types,
    load_not_flexible,
    meetings_for_stage,
)
from cgtkit.datafiles import data_dir
from cgtkit.errors import CatalogError
from cgtkit.pages import load_pages
from cgtkit.profile import STAGES, load_product_types

REQUIRED_IDS = [
    "GEN-SCOPE-ENGAGE",
    "CD-CGMP-PHASE",
    "CD-RELEASE-PERMISSIVE",
    "CD-SAFETY-ATTRIBUTES",
    "CD-MINOR-CHANGES",
    "CD-PRIOR-KNOWLEDGE",
    "CD-CONSENSUS-STANDARDS",
    "PV-LIFECYCLE",
    "PV-PPQ-LOT-NUMBER",
    "PV-CONCURRENT-RELEASE",
    "PV-PPQ-CLINICAL-USE",
    "CS-SPEC-FLEX-BLA",
    "CS-SPEC-LIFECYCLE",
    "CS-AMV-FEWER-LOTS",
    "CS-STABILITY-CLINICAL-LOTS",
    "CS-RESERVE-SAMPLES",
    "CS-ALT-METHODS",
    "RP-AMT",
    "RP-EXPEDITED-PROGRAMS",
    "RP-PLAUSIBLE-MECHANISM",
]
CATALOG_PATH = data_dir() / "flexibilities.yaml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture()
def raw() -> dict:
    """The catalog as plain data (anchors resolved), for making broken copies."""
    return yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))


def _entry(data: dict, entry_id: str) -> dict:
    return next(e for e in data["flexibilities"] if e["id"] == entry_id)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "flexibilities.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# -- completeness -----------------------------------------------------------------
def test_exactly_the_required_ids_in_order(catalog: Catalog) -> None:
    assert list(catalog.ids) == REQUIRED_IDS


@pytest.mark.parametrize("entry_id", REQUIRED_IDS)
def test_every_entry_is_sourced_and_complete(catalog: Catalog, entry_id: str) -> None:
    entry = catalog.get(entry_id)
    assert entry.sources, entry_id
    assert all(s.provenance in PROVENANCE_LABELS for s in entry.sources)
    assert entry.conditions and entry.evidence and entry.stages and entry.meeting.types
    assert entry.page in {p.id for p in load_pages()}
    assert entry.product_types == "all" or set(entry.product_types) <= set(load_product_types())
    assert list(entry.stages) == sorted(entry.stages, key=STAGES.index)


def test_no_separate_part_600_flexibility(catalog: Catalog) -> None:
    for entry in catalog:
        assert "600" not in entry.id
        assert not re.search(r"(part|chapter)s? 600", entry.title, re.I), entry.title
    # ... the seed's "Chapter 600" claim is recorded as a misreading of the part 211 statement instead
    cgmp = catalog.get("CD-CGMP-PHASE")
    chapter_600 = [m for m in cgmp.misreadings if "Chapter 600" in m.misreading]
    assert chapter_600 and "part 211" in chapter_600[0].correction
    assert any("never applies" in m.misreading for m in cgmp.misreadings)


def test_alias_resolves_to_canonical_entry(catalog: Catalog) -> None:
    assert catalog.get("CS-RELEASE-STRATEGY") is catalog.get("CS-SPEC-FLEX-BLA")
    assert catalog.resolve("CS-RELEASE-STRATEGY") == "CS-SPEC-FLEX-BLA"
    assert "CS-RELEASE-STRATEGY" in catalog and "CS-NOPE" not in catalog
    with pytest.raises(CatalogError, match="Unknown flexibility id 'CS-NOPE'"):
        catalog.get("CS-NOPE")


def test_by_area_groups_every_entry_once(catalog: Catalog) -> None:
    grouped = catalog.by_area()
    assert list(grouped) == list(AREAS)
    assert sorted(e.id for es in grouped.values() for e in es) == sorted(REQUIRED_IDS)
    assert [e.id for e in grouped["related_program"]] == ["RP-AMT", "RP-EXPEDITED-PROGRAMS", "RP-PLAUSIBLE-MECHANISM"]
    assert [e.id for e in grouped["cross_cutting"]] == ["GEN-SCOPE-ENGAGE"]


def test_provenance_labels_strongest_first() -> None:
    assert list(PROVENANCE_LABELS) == [
        "regulation", "final_guidance", "fda_announcement", "draft_guidance", "fda_official_remarks",
        "industry_commentary",
    ]
    for label in PROVENANCE_LABELS.values():
        assert label.label and len(label.explanation) > 20


def test_metadata(catalog: Catalog) -> None:
    meta = catalog.metadata
    assert meta.guidance.source.title.startswith(
        "Chemistry, Manufacturing, and Controls Flexibilities for Developing Human Cellular and Gene Therapy "
        "Products for a Biologics License Application"
    )
    assert meta.guidance.issued == "2026-05" and meta.guidance.reported_issue_date == "2026-05-05"
    assert meta.guidance.source.needs_verification
    assert {s.date for s in meta.announcement} == {"2026-01-11"}
    assert {s.provenance for s in meta.announcement} == {"fda_announcement"}
    assert meta.last_reviewed == "2026-11-30"
    assert datetime.date.fromisoformat(meta.last_reviewed) <= datetime.date.today()  # a review is never dated ahead
    assert meta.verification.checked and meta.verification.not_checked
    assert "needs_verification" not in meta.verification_note  # no internal field names on screen
    assert "not regulatory" in meta.disclaimer


def test_final_guidance_wording_is_flagged_for_verification(catalog: Catalog) -> None:
    for entry in catalog:
        for s in entry.sources:
            if s.title.startswith("Chemistry, Manufacturing, and Controls Flexibilities"):
                assert s.needs_verification, entry.id
            if s.provenance in ("fda_official_remarks", "industry_commentary"):
                assert s.needs_verification, (entry.id, s.title)


def test_official_remarks_identified_as_required(catalog: Catalog) -> None:
    remarks = [s for e in catalog for s in e.sources if s.provenance == "fda_official_remarks"]
    assert remarks
    assert all("Division of Cellular and Gene Therapies" in s.title and "Friends of Cancer Research" in s.title
               and "Parker Institute for Cancer Immunotherapy" in s.title for s in remarks)
    safety = catalog.get("CD-SAFETY-ATTRIBUTES")
    assert "fda_official_remarks" in {s.provenance for s in safety.sources}
    assert "no fixed number" in safety.allows and "engineering" in safety.allows
    assert safety.basis == "fda_official_remarks"
    assert any("January 2024" in c.text and safety.basis_of(c) == "final_guidance" for c in safety.conditions)


def test_industry_commentary_is_graded_as_such(catalog: Catalog) -> None:
    amt = catalog.get("RP-AMT")
    industry = [s for s in amt.sources if "Cellares" in s.title]
    assert industry and industry[0].provenance == "industry_commentary"
    allogene = [s for e in catalog for s in e.sources if "Allogene" in s.title]
    assert allogene and {s.provenance for s in allogene} == {"industry_commentary"}


# -- the facts of DOMAIN.md, as the catalog states them ---------------------------
def _text(entry) -> str:  # noqa: ANN001
    parts = [entry.allows, entry.justification, *(c.text for c in entry.conditions),
             *(r.id + " " + r.note for r in entry.regulations)]
    return " ".join(parts)


def test_cgmp_phase_facts(catalog: Catalog) -> None:
    e = catalog.get("CD-CGMP-PHASE")
    assert "21 CFR 210.2(c)" in {r.id for r in e.regulations}
    assert "2008" in e.allows and "part 211" in e.allows
    assert "parts 600" in _text(e) and "part 1271" in _text(e)
    assert e.stages == ["pre-IND", "phase 1"]


def test_concurrent_release_conditions(catalog: Catalog) -> None:
    e = catalog.get("PV-CONCURRENT-RELEASE")
    text = " ".join(c.text for c in e.conditions)
    for needle in ("approved", "commercial release specification", "commercial shelf life", "protocol"):
        assert needle in text
    assert "rare" in text
    assert "601.12(b)" in text and "annual report" in text
    assert e.stages == ["post-approval"]
    assert any("before BLA approval" in m.misreading for m in e.misreadings)


def test_ppq_lot_number_keeps_ppq_required(catalog: Catalog) -> None:
    e = catalog.get("PV-PPQ-LOT-NUMBER")
    assert any("optional" in m.misreading and "still required" in m.correction for m in e.misreadings)
    assert e.statistics and "success-run" in e.statistics


def test_reserve_sample_baseline_and_authority(catalog: Catalog) -> None:
    e = catalog.get("CS-RESERVE-SAMPLES")
    text = _text(e)
    for needle in ("211.170(b)", "twice", "sterility and pyrogen", "1 year", "600.13", "6 months", "Director",
                   "final container", "the dose itself", "relatively few final containers", "one soon after another",
                   "does not govern lots made under an IND"):
        assert needle in text, needle
    assert any("CBER Director" in m.correction for m in e.misreadings)
    assert not any("600.13" in c.text and "IND" in c.text and e.basis_of(c) == "regulation" and "not" not in c.text
                   for c in e.conditions)


def test_alternative_methods_610_9_and_610_12(catalog: Catalog) -> None:
    e = catalog.get("CS-ALT-METHODS")
    text = _text(e)
    assert "610.9" in text and "equal or greater" in text and "writing" in text
    assert "610.12" in text and "sterility only" in text and "Mycoplasma" in text
    assert "Since 2012" in text and "culture-based or not" in text
    assert "original BLA as well as to licensed products" in text
    assert "treating physician" in text


def test_stability_scope_of_q1e(catalog: Catalog) -> None:
    e = catalog.get("CS-STABILITY-CLINICAL-LOTS")
    text = _text(e)
    assert "small molecules" in text and "Q5C" in text and "Annex 3" in text


def test_spec_lifecycle_goes_through_601_12(catalog: Catalog) -> None:
    e = catalog.get("CS-SPEC-LIFECYCLE")
    assert "601.12" in " ".join(c.text for c in e.conditions)
    assert any("itself" in m.misreading for m in e.misreadings)


def test_related_programs_are_marked_as_such(catalog: Catalog) -> None:
    amt, pm = catalog.get("RP-AMT"), catalog.get("RP-PLAUSIBLE-MECHANISM")
    assert "506L" in amt.allows and "not a flexibility of the 2026 guidance" in amt.allows
    assert any("only for post-approval" in m.misreading for m in amt.misreadings)
    assert any("relaxes CMC" in m.misreading for m in pm.misreadings)
    assert {s.provenance for s in pm.sources} == {"draft_guidance"}


def test_comparability_is_not_identity(catalog: Catalog) -> None:
    e = catalog.get("CD-MINOR-CHANGES")
    assert any("identical" in m.misreading for m in e.misreadings)
    assert "ICH Q5E" in {r.id for r in e.regulations}


def test_scope_entry_names_part_601_and_meeting_first(catalog: Catalog) -> None:
    e = catalog.get("GEN-SCOPE-ENGAGE")
    text = " ".join(c.text for c in e.conditions)
    assert "21 CFR part 601" in text and "CBER" in text and "before putting it into practice" in text
    assert e.stages == list(STAGES)


# -- invalid content gives CatalogError naming the entry and the field ----------------
def test_valid_copy_round_trips(tmp_path: Path, raw: dict) -> None:
    assert Catalog.from_yaml(_write(tmp_path, raw)).ids == tuple(REQUIRED_IDS)


def _at(entry_id: str, field: str) -> str:
    """The start of a message about ``field`` of the entry with this id (at any position)."""
    return rf"entry \d+ \(id '{re.escape(entry_id)}'\): field '{re.escape(field)}': "


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: _entry(d, "PV-PPQ-LOT-NUMBER").update(sources=[]),
         _at("PV-PPQ-LOT-NUMBER", "sources") + "must have at least 1 item"),
        (lambda d: _entry(d, "CS-RESERVE-SAMPLES")["sources"][0].update(provenance="blog_post"),
         _at("CS-RESERVE-SAMPLES", "sources.0.provenance") + "must be one of 'regulation'.*; got 'blog_post'"),
        (lambda d: _entry(d, "CS-ALT-METHODS").update(page="lab_tests"),
         _at("CS-ALT-METHODS", "page") + "unknown page id 'lab_tests'; use one of"),
        (lambda d: _entry(d, "RP-PLAUSIBLE-MECHANISM").update(product_types=["plasmid"]),
         _at("RP-PLAUSIBLE-MECHANISM", "product_types") + r"unknown id\(s\) plasmid"),
        (lambda d: _entry(d, "RP-AMT").update(id="AMT-DESIGNATION"),
         _at("AMT-DESIGNATION", "id") + "must match the pattern"),
        (lambda d: _entry(d, "CD-RELEASE-PERMISSIVE").update(colour="red"),
         _at("CD-RELEASE-PERMISSIVE", "colour") + "is not a known field; remove it or correct its spelling"),
        (lambda d: _entry(d, "CD-MINOR-CHANGES").update(area="manufacturing"),
         _at("CD-MINOR-CHANGES", "area") + "must be one of"),
        (lambda d: _entry(d, "PV-LIFECYCLE").update(stages=["phase 4"]),
         _at("PV-LIFECYCLE", "stages.0") + "must be one of 'pre-IND'"),
        (lambda d: _entry(d, "CD-PRIOR-KNOWLEDGE")["sources"][0].pop("date"),
         _at("CD-PRIOR-KNOWLEDGE", "sources.0") + ".*needs a date"),
        (lambda d: _entry(d, "CD-PRIOR-KNOWLEDGE")["sources"][0].update(date="May 2026"),
         _at("CD-PRIOR-KNOWLEDGE", "sources.0.date") + ".*YYYY"),
        (lambda d: _entry(d, "CS-AMV-FEWER-LOTS").update(id="CS-STABILITY-CLINICAL-LOTS"),
         _at("CS-STABILITY-CLINICAL-LOTS", "id") + "'CS-STABILITY-CLINICAL-LOTS' is already used"),
        (lambda d: _entry(d, "CS-SPEC-LIFECYCLE").update(aliases=["CS-SPEC-FLEX-BLA"]),
         _at("CS-SPEC-LIFECYCLE", "aliases")
         + r"'CS-SPEC-FLEX-BLA' is already used by entry \d+ \(id 'CS-SPEC-FLEX-BLA'\)"),
        (lambda d: d["flexibilities"][3].pop("id"),
         r"entry 4: field 'id': is required; add it"),
        (lambda d: d["metadata"].pop("disclaimer"),
         r"field 'metadata\.disclaimer': is required; add it"),
    ],
)
def test_broken_content_names_entry_and_field(
    tmp_path: Path, raw: dict, breakage, message: str  # noqa: ANN001
) -> None:
    broken = copy.deepcopy(raw)
    breakage(broken)
    with pytest.raises(CatalogError, match=message) as info:
        Catalog.from_yaml(_write(tmp_path, broken))
    assert str(info.value).startswith("flexibilities.yaml")


def test_malformed_yaml_and_shapes(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        Catalog.from_yaml("flexibilities: [unclosed\n")
    with pytest.raises(CatalogError, match="must be a mapping"):
        Catalog.from_yaml("- just\n- a list\n")
    with pytest.raises(CatalogError, match="is missing"):
        Catalog.from_yaml(tmp_path / "nowhere.yaml")


def test_broken_file_does_not_poison_the_cache(tmp_path: Path, raw: dict) -> None:
    broken = copy.deepcopy(raw)
    _entry(broken, "GEN-SCOPE-ENGAGE").update(sources=[])
    with pytest.raises(CatalogError, match=_at("GEN-SCOPE-ENGAGE", "sources")):
        load_catalog(_write(tmp_path, broken))
    assert load_catalog().get("GEN-SCOPE-ENGAGE").sources


def test_cross_checks_accept_injected_ids(raw: dict) -> None:
    with pytest.raises(CatalogError, match="field 'page': unknown page id 'start_here'"):
        Catalog.from_data(raw, page_ids={"somewhere_else"})


# -- grading: the basis of each claim, not the strongest source ------------------------
def test_claims_are_graded_by_their_basis_not_the_strongest_source(catalog: Catalog) -> None:
    """Issue #17.3: four entries showed "regulation, legally binding" and CD-SAFETY-ATTRIBUTES "final guidance"."""
    for fid in ("GEN-SCOPE-ENGAGE", "CS-SPEC-LIFECYCLE", "CS-RESERVE-SAMPLES", "CS-ALT-METHODS"):
        e = catalog.get(fid)
        assert e.strongest_provenance == "regulation" and e.basis != "regulation", fid
    assert catalog.get("CD-SAFETY-ATTRIBUTES").basis == "fda_official_remarks"
    assert catalog.get("CD-CGMP-PHASE").basis == "regulation" and catalog.get("CD-CGMP-PHASE").checked
    assert catalog.get("CD-MINOR-CHANGES").basis == "fda_announcement"
    assert catalog.get("RP-PLAUSIBLE-MECHANISM").basis == "draft_guidance"
    assert set(BASIS_LABELS) == {*PROVENANCE_LABELS, "cgtkit_reading"}


def test_statements_carry_their_own_basis_where_it_differs(catalog: Catalog) -> None:
    differing = [(e.id, c) for e in catalog for c in e.conditions if e.basis_of(c) != e.basis]
    assert len(differing) >= 20
    minor = catalog.get("CD-MINOR-CHANGES")
    assert {minor.basis_of(c) for c in minor.conditions} >= {"final_guidance", "draft_guidance", "cgtkit_reading"}
    reserve = catalog.get("CS-RESERVE-SAMPLES")
    assert [reserve.checked_of(c) for c in reserve.conditions if reserve.basis_of(c) == "regulation"] == [True] * 3


def test_verification_flag_is_kept_and_summarized(catalog: Catalog) -> None:
    summary = catalog.verification_summary()
    assert summary.checked > 0 and summary.sourced > summary.checked and summary.readings > 0
    assert "statements attributed to a source were checked" in summary.sentence()
    assert catalog.get("CD-CGMP-PHASE").needs_verification is False
    assert catalog.get("CS-SPEC-FLEX-BLA").needs_verification is True
    # a statement marked as checked against a regulation rests on a section named in the checked list
    checked_list = " ".join(catalog.metadata.verification.checked)
    for e in catalog:
        for text, basis, checked in e.statements():
            if checked and basis == "regulation":
                sections = re.findall(r"\b(\d{3}\.\d+)", text) + [
                    src.section for src in e.sources if src.provenance == "regulation" and src.section]
                assert any(sec.split("(")[0] in checked_list for sec in sections), (e.id, text)


def test_guidance_sources_name_a_topic_not_an_unverified_heading(catalog: Catalog) -> None:
    for e in catalog:
        for s in e.sources:
            if s.provenance != "regulation":
                assert s.section is None, (e.id, s.title, s.section)


def test_every_entry_has_a_draft_question(catalog: Catalog) -> None:
    for e in catalog:
        assert e.question.ask.rstrip().endswith("?"), e.id
        assert e.question.position


def test_cgmp_exemption_needs_no_agreement(catalog: Catalog) -> None:
    assert [e.id for e in catalog if not e.needs_agreement] == ["CD-CGMP-PHASE"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: _entry(d, "PV-LIFECYCLE")["meeting"].update(types=["EOP3"]),
         _at("PV-LIFECYCLE", "meeting.types") + "unknown meeting id"),
        (lambda d: _entry(d, "PV-LIFECYCLE")["question"].update(ask="Does FDA agree on {lot_count} lots?"),
         _at("PV-LIFECYCLE", "question") + r".*unknown placeholder"),
        (lambda d: _entry(d, "PV-LIFECYCLE").update(basis="blog"),
         _at("PV-LIFECYCLE", "basis") + "must be one of"),
        (lambda d: _entry(d, "PV-LIFECYCLE")["conditions"].append({"text": "A condition with a bad grade.",
                                                                     "basis": "rumour"}),
         _at("PV-LIFECYCLE", "conditions.3.basis") + "must be one of"),
    ],
)
def test_broken_grading_and_questions(tmp_path: Path, raw: dict, breakage, message: str) -> None:  # noqa: ANN001
    broken = copy.deepcopy(raw)
    breakage(broken)
    with pytest.raises(CatalogError, match=message):
        Catalog.from_yaml(_write(tmp_path, broken))


def test_question_fields_are_the_documented_ones() -> None:
    assert {"product", "stage", "lots_detail", "doses_per_lot", "containers_per_lot", "change"} <= QUESTION_FIELDS


# -- meetings, what is not flexible, guidances ---------------------------------------------
def test_meeting_types_and_pdufa_timelines() -> None:
    m = load_meeting_types()
    assert m["EOP2"].pdufa_type == "Type B (EOP)" and m["EOP1"].pdufa_type == "Type B (EOP)"
    assert (m["EOP2"].meeting_within_days, m["EOP2"].package_days_before, m["EOP2"].request_response_days) == (70, 50, 14)
    assert (m["pre-BLA"].meeting_within_days, m["pre-BLA"].package_days_before) == (60, 30)
    assert (m["Type C"].meeting_within_days, m["Type C"].package_days_before) == (75, 47)
    assert (m["Type D"].meeting_within_days, m["Type D"].package_days_before) == (50, None)
    assert m["Type D"].package_text() == "with the meeting request"
    assert not m["BLA-review"].formal


def test_meetings_for_stage_keeps_its_contract() -> None:
    """Two specification pages call it with a stage string, 'BLA' and 'post-approval' included."""
    assert any("end-of-phase 2 meeting" in x for x in meetings_for_stage("phase 2"))
    assert meetings_for_stage("BLA") == ("the pre-BLA meeting (Type B)",)
    assert meetings_for_stage("post-approval") == ("a Type C meeting", "a Type D meeting")
    assert meetings_for_stage("phase 1/2")[0].startswith("an end-of-phase 1 meeting")
    assert meetings_for_stage(None) == ("a Type C meeting", "a Type D meeting")
    for stage in STAGES:
        assert meetings_for_stage(stage)


def test_not_flexible_items_cover_what_the_issue_lists() -> None:
    items = {i.id: i for i in load_not_flexible()}
    assert set(items) == {"NF-STERILITY", "NF-MYCOPLASMA", "NF-RCV", "NF-ADVENTITIOUS", "NF-ENDOTOXIN", "NF-DONOR",
                          "NF-POTENCY", "NF-EVERY-LOT", "NF-PPQ", "NF-PLI", "NF-CHANGE-REPORTING"}
    assert "21 CFR part 1271 subpart C" in items["NF-DONOR"].regulations
    assert items["NF-POTENCY"].regulations == ["21 CFR 610.10"]
    assert items["NF-EVERY-LOT"].regulations == ["21 CFR 610.1"]
    assert items["NF-CHANGE-REPORTING"].regulations == ["21 CFR 601.12"]
    assert items["NF-MYCOPLASMA"].basis == "final_guidance"  # 610.30 is written for virus vaccines


def test_guidances_include_the_primary_cgt_guidances() -> None:
    titles = " | ".join(g.title for g in load_guidances())
    for needle in ("Human Gene Therapy Investigational New Drug Applications", "Chimeric Antigen Receptor",
                   "Potency Assurance", "Replication Competent Retrovirus", "Changes to an Approved Application",
                   "Regenerative Medicine Therapies", "Expedited Programs for Serious Conditions"):
        assert needle in titles, needle
    assert {g.status for g in load_guidances()} == {"final", "draft"}
