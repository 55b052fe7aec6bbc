"""Training cases: the index, the prepared workbooks (exactly what the script builds), and opening a
case into a workbook of its own without touching the user's."""

from __future__ import annotations

import html
import re
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cgtkit import training
from cgtkit.datafiles import data_dir
from cgtkit.errors import CatalogError
from cgtkit.session import Session, WorkbookStore
from cgtkit.vocab import LotType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_training_cases.py"
CASES = training.load_cases()


def _script():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("make_training_cases", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _comparable(session: Session) -> dict:
    """A workbook as data: every field, data sets by their rows (not by pandas' JSON text)."""
    dump = session.model_dump(mode="json")
    for ds in dump["datasets"].values():
        table = json.loads(ds.pop("table_json"))
        ds["rows"] = table["data"]
        ds["columns"] = [f["name"] for f in table["schema"]["fields"]]
    return dump


def test_the_index_has_the_four_cases_of_the_issue() -> None:
    assert list(CASES) == ["car-t-end-of-phase-2", "aav-two-ppq-lots", "car-t-closed-automated",
                           "car-t-tight-specification"]
    for case in CASES.values():
        assert len(case.paragraphs) >= 2 and all("\n" not in p for p in case.paragraphs)


@pytest.mark.parametrize("case_id", list(CASES))
def test_prepared_workbook_is_what_the_script_builds(case_id: str) -> None:
    case = CASES[case_id]
    shipped = Session.load(training.prepared_workbook(case_id))
    built = _script().build_case(case)
    assert _comparable(shipped) == _comparable(built), (
        f"data/training/{case.workbook} differs from what scripts/make_training_cases.py builds; rerun the script")


@pytest.mark.parametrize("case_id", list(CASES))
def test_case_profile_counts_the_lots_the_case_keeps(case_id: str) -> None:
    case = CASES[case_id]
    session = Session.load(training.prepared_workbook(case_id))
    assert session.profile.name == case.profile["name"]
    counts = session.profile.lots_made
    lots = {t: set() for t in LotType}
    for spec in case.datasets:
        frame = session.dataset_frame(spec.name)
        assert set(frame["lot_type"].astype(str)) <= {t.value for t in spec.lot_types}
        if session.datasets[spec.name].kind.value == "lots":
            for lot_type, lot_id in zip(frame["lot_type"], frame["lot_id"], strict=True):
                lots[LotType(lot_type)].add(lot_id)
    assert (counts.engineering, counts.clinical, counts.ppq, counts.commercial) == tuple(len(lots[t]) for t in LotType)


def test_data_is_what_existed_on_the_case_date() -> None:
    """Before the end-of-phase-2 meeting: no PPQ or commercial lot, no stability result not yet tested."""
    session = Session.load(training.prepared_workbook("car-t-end-of-phase-2"))
    lots = session.dataset_frame("car_t_lots")
    assert set(lots["lot_type"]) == {"engineering", "clinical"}
    stability = session.dataset_frame("car_t_stability")
    days = stability["timepoint_months"] * _script().AVERAGE_MONTH_DAYS
    tested = stability["manufacture_date"] + pd.to_timedelta(days, unit="D")
    assert tested.max() <= pd.Timestamp(CASES["car-t-end-of-phase-2"].prepared_on)
    full = Session.example().dataset_frame("car_t_stability")
    assert len(stability) < len(full[full["lot_type"] == "clinical"])


def test_the_tight_specification_case_records_the_criterion_from_the_ppq_lots() -> None:
    session = Session.load(training.prepared_workbook("car-t-tight-specification"))
    (decision,) = session.decisions
    assert (decision.kind, decision.attribute, decision.candidate, decision.n) == (
        "commercial_criterion", "viability", "range", 3)
    ppq = session.dataset_frame("car_t_lots_at_licensure").query("lot_type == 'ppq' and attribute == 'viability'")
    assert decision.low == ppq["value"].min()
    later = session.dataset_frame("car_t_lots").query("lot_type == 'commercial' and attribute == 'viability'")
    assert (later["value"] < decision.low).sum() >= 3  # the point of the case: later lots fall below it


def _write_cases(tmp_path: Path, change) -> Path:  # noqa: ANN001
    raw = yaml.safe_load((data_dir() / training.CASES_FILE).read_text())
    change(raw["cases"][0])
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: c["profile"].update(lots_made={"clinical": 3}), "lots_made is computed"),
    (lambda c: c["tasks"].append({"page": "no_page", "do": "Something to work out."}), "names page 'no_page'"),
    (lambda c: c["datasets"][0].update(example="missing.csv"), "uses 'missing.csv'"),
    (lambda c: c.update(id="Bad Id"), "id"),
    (lambda c: c["datasets"][0].update(lot_types=["pilot"]), "lot_types"),
])
def test_a_bad_index_is_refused_with_the_reason(tmp_path: Path, change, expected: str) -> None:  # noqa: ANN001
    with pytest.raises(CatalogError, match=expected):
        training.read_cases(_write_cases(tmp_path, change))


def test_opening_a_case_never_touches_the_own_workbook(tmp_path: Path) -> None:
    own = tmp_path / "workbook.json"
    store = WorkbookStore(own)
    store.load()
    before = own.read_bytes()
    session, new = training.open_case(store, "aav-two-ppq-lots", own=own)
    copy = tmp_path / "training" / "aav-two-ppq-lots.json"
    assert new and store.path == copy and copy.exists()
    assert training.open_case_id(store.path, own=own) == "aav-two-ppq-lots"
    assert session.profile.name == CASES["aav-two-ppq-lots"].profile["name"]
    store.update(lambda s: s.without_dataset("aav_stability"))  # work on the case
    assert training.return_to_own(store, own=own) == Session.load(own)
    assert own.read_bytes() == before and store.path == own
    again, new = training.open_case(store, "aav-two-ppq-lots", own=own)  # goes on where the user left it
    assert not new and "aav_stability" not in again.datasets
    restarted = training.restart_case(store, "aav-two-ppq-lots", own=own)
    assert "aav_stability" in restarted.datasets
    assert own.read_bytes() == before


def test_case_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert training.requested_case("case=car-t-closed-automated&page=home") == "car-t-closed-automated"
    assert training.requested_case("page=home") is None and training.requested_case("case=") is None
    with pytest.raises(CatalogError, match="no training case 'nope'; the cases are: car-t-end-of-phase-2"):
        training.requested_case("case=nope")
    monkeypatch.setenv("CGTKIT_WORKBOOK", str(tmp_path / "own" / "workbook.json"))
    store = training.store_for_query("case=car-t-end-of-phase-2")
    assert store.path == tmp_path / "own" / "training" / "car-t-end-of-phase-2.json"
    assert not (tmp_path / "own" / "workbook.json").exists()
    assert training.store_for_query("case=nope").path == tmp_path / "own" / "workbook.json"


def test_home_page_opens_a_case_and_goes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cgtkit.ui.home import HomeView

    monkeypatch.setenv("CGTKIT_WORKBOOK", str(tmp_path / "workbook.json"))
    monkeypatch.delenv("QUERY_STRING", raising=False)
    store = WorkbookStore()
    view = HomeView(store)
    own = store.path
    before = Session.load(own)
    panel = view.training
    assert panel.notice.value == "" and panel.case_buttons.layout.display == "none"
    panel.case_choice.value = "car-t-tight-specification"
    panel.open_button.click()
    assert "Training case open" in panel.notice.value and "too tight" in panel.notice.value
    assert "commercial_specifications" in panel.notice.value  # the task links to its page
    assert str(store.path) in view.panel.place.value and "copy of a training case" in view.panel.place.value
    assert "Decisions recorded: <b>1</b>" in view.panel.summary.value
    panel.restart_button.click()
    assert "is lost" in panel.case_status.value  # asks first
    panel.confirm.yes.click()
    assert "back to its prepared workbook" in panel.case_status.value
    panel.back_button.click()
    assert store.path == own and panel.notice.value == ""
    assert "Your workbook is kept" in view.panel.place.value
    assert Session.load(own) == before


def test_home_page_names_an_unknown_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cgtkit.ui.home import HomeView

    monkeypatch.setenv("QUERY_STRING", "case=car-t-nothing")
    view = HomeView(WorkbookStore(tmp_path / "workbook.json"))
    message = html.unescape(view.training.status.value)
    assert "no training case 'car-t-nothing'" in message and "Your own workbook is open" in message


def test_readme_has_a_binder_link_per_case_all_in_one_placeholder_block() -> None:
    from urllib.parse import parse_qs, unquote, urlparse

    readme = (ROOT / "README.md").read_text()
    links = dict(re.findall(r"^\[(binder-[a-z0-9-]+)\]: (\S+)$", readme, flags=re.MULTILINE))
    assert set(links) == {"binder-app", "binder-lab", *(f"binder-{c}" for c in CASES)}
    repos = {urlparse(u).path.split("/HEAD")[0] for u in links.values()}
    assert repos == {"/v2/gh/OWNER/REPO"} and "BINDER_REPO placeholder: OWNER/REPO" in readme
    assert "mybinder.org/v2/gh/" not in re.sub(r"^\[binder-[a-z0-9-]+\]: \S+$", "", readme, flags=re.MULTILINE)
    for name, url in links.items():
        target = unquote(parse_qs(urlparse(url).query)["urlpath"][0])
        path, _, query = target.partition("?")
        assert (ROOT / path.split("/", 2)[2]).exists(), name
        if name.removeprefix("binder-") in CASES:
            assert path == "voila/render/notebooks/app.ipynb"
            assert training.requested_case(query) == name.removeprefix("binder-")
