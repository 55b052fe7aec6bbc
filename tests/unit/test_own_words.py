"""cgtkit states facts in its own words: no catalog text, data-file text, navigator reason, next step,
meeting-plan question or Start here text shares a run of 6 or more words with the news articles the
facts were taken from (issue #17.4).

Excepted: the titles of cited documents and the names of institutions (a title is a name, not
prose), and text marked as a quotation (between “curly” or "straight" double quotes), which is how
cgtkit marks quoted regulation text.

The articles live outside the repository (``../shared/seeds``, or ``CGTKIT_SEEDS_DIR``); on a clean
clone without them the test skips. It reads five short articles and checks the texts of every
profile of test_navigator.py: about a second.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import yaml

from cgtkit.catalog import load_catalog, load_guidances, load_not_flexible, meeting_sources
from cgtkit.datafiles import data_dir
from cgtkit.meeting_plan import meeting_plan
from cgtkit.navigator import assess
from cgtkit.profile import ProductProfile
from tests.unit.test_navigator import PROFILES

SEEDS_DIR = Path(os.environ.get("CGTKIT_SEEDS_DIR", Path(__file__).resolve().parents[3] / "shared" / "seeds"))
WINDOW = 6  # consecutive words
#: Data files whose prose must be cgtkit's own (keys of citation records are left out, see _prose).
DATA_FILES = ("flexibilities.yaml", "meetings.yaml", "not_flexible.yaml", "guidances.yaml", "change_kinds.yaml",
              "product_types.yaml")
#: Names of institutions and programs: names, not prose.
NAMES = (
    "Center for Biologics Evaluation and Research",
    "Friends of Cancer Research and the Parker Institute for Cancer Immunotherapy",
    "Friends of Cancer Research / Parker Institute",
    "U.S. Food and Drug Administration",
    "Food and Drug Administration",
    "Advanced Manufacturing Technologies",
    "Division of Cellular and Gene Therapies",
    "Office of Therapeutic Products",
)
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_SEEDS_PRESENT = SEEDS_DIR.is_dir() and any(SEEDS_DIR.glob("*.txt"))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "").replace("'", ""))


def _titles() -> list[str]:
    """Titles of every document cgtkit cites, with and without a trailing parenthesis, longest first."""
    catalog = load_catalog()
    titles = {s.title for e in catalog for s in e.sources} | {s.title for s in catalog.references.values()}
    titles |= {g.title for g in load_guidances()} | {s.title for s in meeting_sources()}
    titles |= {catalog.metadata.guidance.source.title}
    titles |= {re.sub(r"\s*\([^()]*\)\s*$", "", t) for t in titles}
    return sorted((*titles, *NAMES), key=len, reverse=True)


def segments(text: str, titles: list[str]) -> Iterator[list[str]]:
    """The words of ``text`` in runs that no title, name or quotation interrupts."""
    text = _QUOTED.sub(" | ", text)
    for title in titles:
        text = re.sub(re.escape(title), " | ", text, flags=re.IGNORECASE)
    for part in text.split("|"):
        w = words(part)
        if w:
            yield w


def shared_runs(texts: Iterable[str], seed_windows: set[tuple[str, ...]], titles: list[str]) -> list[str]:
    hits = []
    for text in texts:
        for w in segments(text, titles):
            hits.extend(" ".join(w[i:i + WINDOW]) for i in range(len(w) - WINDOW + 1)
                        if tuple(w[i:i + WINDOW]) in seed_windows)
    return hits


def seed_windows() -> tuple[set[tuple[str, ...]], list[list[str]]]:
    windows: set[tuple[str, ...]] = set()
    seeds = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        w = words(path.read_text(encoding="utf-8", errors="replace"))
        seeds.append(w)
        windows.update(tuple(w[i:i + WINDOW]) for i in range(len(w) - WINDOW + 1))
    return windows, seeds


def _prose(obj: object) -> Iterator[str]:
    """Every string of a data file except the fields of citation records (title, issuer, url, section)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        citation = "provenance" in obj or "issuer" in obj or ("status" in obj and "why" in obj)
        for key, value in obj.items():
            if citation and key in ("title", "issuer", "url", "section"):
                continue
            yield from _prose(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _prose(value)


def _strip_tags(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " | ", markup))


def navigator_texts() -> Iterator[str]:
    """Reasons, next steps, readiness, meeting plans and Start here HTML for every rule-test profile."""
    from cgtkit.ui.start_here import (
        assessment_html,
        catalog_note_html,
        guidances_html,
        not_flexible_html,
        plan_html,
        readiness_html,
    )

    catalog = load_catalog()
    yield _strip_tags(not_flexible_html(load_not_flexible()))
    yield _strip_tags(catalog_note_html(catalog))
    for fields in PROFILES.values():
        a = assess(ProductProfile.build(**fields))
        plan = meeting_plan(a)
        for item in a.items:
            yield from item.reasons
            yield item.next_step
        for check in a.readiness:
            yield check.reason
        yield plan.why
        for q in plan.questions:
            yield q.question
            yield q.position
        yield _strip_tags(plan_html(plan) + readiness_html(a) + guidances_html(load_guidances(), a))
    yield _strip_tags(assessment_html(assess(ProductProfile.build(**PROFILES["rmat_accelerated"]))))


pytestmark = pytest.mark.skipif(
    not _SEEDS_PRESENT, reason=f"seed articles not available at {SEEDS_DIR} (clean clone); wording check needs them")


@pytest.fixture(scope="module")
def seeds() -> tuple[set[tuple[str, ...]], list[list[str]]]:
    return seed_windows()


@pytest.fixture(scope="module")
def titles() -> list[str]:
    return _titles()


def test_the_detector_catches_a_lifted_run_and_spares_titles_and_quotes(seeds, titles) -> None:  # noqa: ANN001
    windows, texts = seeds
    longest = max(texts, key=len)
    lifted = " ".join(longest[200:200 + WINDOW])
    assert shared_runs([f"Some words first. {lifted}."], windows, titles)
    assert not shared_runs([f"As FDA put it, “{lifted}”."], windows, titles)
    # a run split by a title is two runs, and each is too short
    five = longest[200:200 + WINDOW - 1]
    assert not shared_runs([" ".join(five) + " Potency Assurance for Cellular and Gene Therapy Products"], windows,
                           titles)


@pytest.mark.parametrize("name", DATA_FILES)
def test_data_files_share_no_six_word_run_with_the_articles(seeds, titles, name: str) -> None:  # noqa: ANN001
    data = yaml.safe_load((data_dir() / name).read_text(encoding="utf-8"))
    assert shared_runs(_prose(data), seeds[0], titles) == []


def test_navigator_reasons_plans_and_page_texts_share_no_six_word_run(seeds, titles) -> None:  # noqa: ANN001
    assert shared_runs(navigator_texts(), seeds[0], titles) == []


def test_start_here_texts_are_own_words(seeds, titles, tmp_path) -> None:  # noqa: ANN001
    from cgtkit.session import WorkbookStore
    from cgtkit.ui.start_here import build_page

    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    texts = []

    def collect(widget) -> None:  # noqa: ANN001
        value = getattr(widget, "value", None)
        if isinstance(value, str) and "<" in value:
            texts.append(_strip_tags(value))
        description = getattr(widget, "description", None)
        if isinstance(description, str):
            texts.append(description)
        for child in getattr(widget, "children", ()):
            collect(child)

    collect(view.widget)
    assert texts and shared_runs(texts, seeds[0], titles) == []
