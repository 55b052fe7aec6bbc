"""The flexibility catalog: complete, validated, sourced, and in cgtkit's own words."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml

from cgtkit.catalog import AREAS, PROVENANCE_LABELS, Catalog, load_catalog
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
    "RP-PLAUSIBLE-MECHANISM",
]
CATALOG_PATH = data_dir() / "flexibilities.yaml"
SEEDS_DIR = Path(os.environ.get("CGTKIT_SEEDS_DIR", Path(__file__).resolve().parents[3] / "shared" / "seeds"))
COPY_WINDOW = 12  # consecutive words


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
    assert [e.id for e in grouped["related_program"]] == ["RP-AMT", "RP-PLAUSIBLE-MECHANISM"]
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
    assert meta.last_reviewed == "2026-11-23"
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
    assert "no predefined limit" in safety.allows and "engineering" in safety.allows


def test_industry_commentary_is_graded_as_such(catalog: Catalog) -> None:
    amt = catalog.get("RP-AMT")
    industry = [s for s in amt.sources if "Cellares" in s.title]
    assert industry and industry[0].provenance == "industry_commentary"
    allogene = [s for e in catalog for s in e.sources if "Allogene" in s.title]
    assert allogene and {s.provenance for s in allogene} == {"industry_commentary"}


# -- the facts of DOMAIN.md, as the catalog states them ---------------------------
def _text(entry) -> str:  # noqa: ANN001
    parts = [entry.allows, entry.justification, *entry.conditions, *(r.id + " " + r.note for r in entry.regulations)]
    return " ".join(parts)


def test_cgmp_phase_facts(catalog: Catalog) -> None:
    e = catalog.get("CD-CGMP-PHASE")
    assert "21 CFR 210.2(c)" in {r.id for r in e.regulations}
    assert "2008" in e.allows and "part 211" in e.allows
    assert "parts 600" in _text(e) and "part 1271" in _text(e)
    assert e.stages == ["pre-IND", "phase 1"]


def test_concurrent_release_conditions(catalog: Catalog) -> None:
    e = catalog.get("PV-CONCURRENT-RELEASE")
    text = " ".join(e.conditions)
    for needle in ("approved", "commercial release specification", "commercial shelf life", "protocol"):
        assert needle in text
    assert "rare" in e.justification
    assert e.stages == ["post-approval"]
    assert any("before BLA approval" in m.misreading for m in e.misreadings)


def test_ppq_lot_number_keeps_ppq_required(catalog: Catalog) -> None:
    e = catalog.get("PV-PPQ-LOT-NUMBER")
    assert any("optional" in m.misreading and "still required" in m.correction for m in e.misreadings)
    assert e.statistics and "success-run" in e.statistics


def test_reserve_sample_baseline_and_authority(catalog: Catalog) -> None:
    e = catalog.get("CS-RESERVE-SAMPLES")
    text = _text(e)
    for needle in ("211.170(b)", "twice", "sterility and pyrogen", "1 year", "600.13", "6 months", "CBER Director"):
        assert needle in text, needle
    assert any("CBER Director" in m.correction for m in e.misreadings)


def test_alternative_methods_610_9_and_610_12(catalog: Catalog) -> None:
    text = _text(catalog.get("CS-ALT-METHODS"))
    assert "610.9" in text and "equal or greater" in text and "written" in text
    assert "610.12" in text and "sterility only" in text and "mycoplasma" in text


def test_stability_scope_of_q1e(catalog: Catalog) -> None:
    e = catalog.get("CS-STABILITY-CLINICAL-LOTS")
    text = _text(e)
    assert "small molecules" in text and "Q5C" in text and "Annex 3" in text


def test_spec_lifecycle_goes_through_601_12(catalog: Catalog) -> None:
    e = catalog.get("CS-SPEC-LIFECYCLE")
    assert "601.12" in " ".join(e.conditions)
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
    text = " ".join(e.conditions)
    assert "21 CFR part 601" in text and "CBER" in text and "before it is put into practice" in text
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


# -- wording: cgtkit's own, not the seed articles' -----------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "").replace("'", ""))


def _prose(obj: object):  # noqa: ANN202
    """Every string in the catalog except citation fields (source titles, issuers, URLs)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if "provenance" in obj and key in ("title", "issuer", "url"):
                continue
            yield from _prose(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _prose(value)


def _copied_runs(texts, seed_windows: set[tuple[str, ...]]) -> list[str]:  # noqa: ANN001
    hits = []
    for text in texts:
        w = _words(text)
        for i in range(len(w) - COPY_WINDOW + 1):
            if tuple(w[i : i + COPY_WINDOW]) in seed_windows:
                hits.append(" ".join(w[i : i + COPY_WINDOW]))
    return hits


def _seed_windows() -> tuple[set[tuple[str, ...]], list[list[str]]]:
    windows: set[tuple[str, ...]] = set()
    seeds = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        w = _words(path.read_text(encoding="utf-8", errors="replace"))
        seeds.append(w)
        windows.update(tuple(w[i : i + COPY_WINDOW]) for i in range(len(w) - COPY_WINDOW + 1))
    return windows, seeds


@pytest.mark.skipif(not any(SEEDS_DIR.glob("*.txt")) if SEEDS_DIR.is_dir() else True,
                    reason=f"seed articles not available at {SEEDS_DIR} (clean clone); wording check needs them")
def test_no_twelve_word_run_copied_from_the_seed_articles(raw: dict) -> None:
    windows, seeds = _seed_windows()
    # the detector itself works: a run lifted from a seed is caught
    longest = max(seeds, key=len)
    planted = "Some words first. " + " ".join(longest[100 : 100 + COPY_WINDOW + 3]) + "."
    assert _copied_runs([planted], windows)
    assert _copied_runs(_prose(raw), windows) == []
