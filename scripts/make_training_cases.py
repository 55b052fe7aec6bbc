"""Build the training cases' workbooks (data/training/*.json) from data/training/cases.yaml.

Each case's data sets are the shipped SYNTHETIC example files (data/examples/)
keeping only the lot types the case names and the results that existed on the
case's date (lots made by then, stability time points reached); its profile is the YAML's fields with
the lot counts computed from those lots; a decision the case records is made by
the page's own model from the case's data, as a user would record it. Every
time stamp is the case's ``prepared_on`` date, so running the script again
writes the same workbooks (tests/unit/test_training.py checks the committed
files against it).

Usage::

    python scripts/make_training_cases.py            # writes data/training/
    python scripts/make_training_cases.py --out DIR  # writes elsewhere
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pandas as pd

from cgtkit.datafiles import data_dir
from cgtkit.decisions import DecisionBase
from cgtkit.errors import CgtkitError
from cgtkit.io import load_lots
from cgtkit.profile import ProductProfile
from cgtkit.session import Session
from cgtkit.training import CaseDecision, TrainingCase, load_cases, lot_counts

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "training"
AVERAGE_MONTH_DAYS = 365.25 / 12


def _when(case: TrainingCase) -> dt.datetime:
    return dt.datetime.combine(case.prepared_on, dt.time(9, 0), tzinfo=dt.UTC)


def _decision(session: Session, wanted: CaseDecision, case: TrainingCase, number: int) -> DecisionBase:
    """The decision as the Commercial specifications page records it, from the case's data."""
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel

    model = CommercialSpecificationsModel(session)
    sel = model.selection
    sel.dataset = wanted.dataset
    sel.lot_types = [t.value for t in wanted.lot_types]
    sel.attribute = wanted.attribute
    model.candidate = wanted.candidate
    chosen = (sel.dataset, sel.attribute, tuple(sel.lot_types), model.candidate)
    asked = (wanted.dataset, wanted.attribute, tuple(t.value for t in wanted.lot_types), wanted.candidate)
    if model.problem or chosen != asked:
        raise CgtkitError(f"case {case.id}: the decision on {wanted.attribute} cannot be made as described "
                          f"({model.problem or f'the page chose {chosen}, not {asked}'}).")
    decision = model.decision(wanted.justification, wanted.flexibility_id)
    return decision.model_copy(update={"id": f"{case.id}-{number}", "timestamp": _when(case)})


def _known_by(frame: pd.DataFrame, case: TrainingCase) -> pd.Series:
    """Rows whose result existed on the case's date: lots made by then, stability time points reached."""
    made = pd.to_datetime(frame["manufacture_date"])
    tested = made
    if "timepoint_months" in frame:
        months = frame["timepoint_months"].astype(float).fillna(0.0)  # NaN: a release result, not stability
        tested = made + pd.to_timedelta(months * AVERAGE_MONTH_DAYS, unit="D")
    return tested <= pd.Timestamp(case.prepared_on)


def build_case(case: TrainingCase) -> Session:
    """The case's workbook, built from the example data."""
    when = _when(case)
    session = Session(created_at=when)
    for spec in case.datasets:
        frame = load_lots(data_dir() / "examples" / spec.example)
        keep = frame["lot_type"].astype(str).isin([t.value for t in spec.lot_types]) & _known_by(frame, case)
        session = session.with_dataset(spec.name, frame[keep].reset_index(drop=True),
                                       source=f"example:{spec.example}")
    session = session.model_copy(update={
        "datasets": {k: v.model_copy(update={"loaded_at": when}) for k, v in session.datasets.items()}})
    session = session.with_profile(ProductProfile.build(**case.profile, lots_made=lot_counts(session)))
    for number, wanted in enumerate(case.decisions, 1):
        session = session.with_decision(_decision(session, wanted, case, number))
    return session


def write_cases(out_dir: str | Path = DEFAULT_OUT) -> list[Path]:
    """Write every case's workbook into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in load_cases().values():
        path = out / case.workbook
        build_case(case).save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/training)")
    args = parser.parse_args(argv)
    for path in write_cases(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
