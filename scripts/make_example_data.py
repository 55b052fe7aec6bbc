"""Generate cgtkit's SYNTHETIC example lot data (data/examples/*.csv).

The numbers are drawn from the distributions below with a fixed seed; they are
not from any real product. Running the script rewrites the CSV files byte for
byte identically (same numpy version).

Usage::

    python scripts/make_example_data.py            # writes data/examples/
    python scripts/make_example_data.py --out DIR  # writes elsewhere

Files (long format, see data/README.md):

* ``car_t_lots.csv``       autologous CAR-T release data, 60 lots
* ``aav_lots.csv``         AAV gene therapy release data, 18 lots
* ``car_t_stability.csv``  CAR-T stability study, 4 lots, 0-24 months
* ``aav_stability.csv``    AAV stability study, 3 lots, 0-36 months
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np

#: Picked from a scan of seeds so that the small samples show the designed features
#: (see data/examples/README.md); the scan is not part of this script.
SEED = 20261065
#: Data cut-off: stability time points later than this have not been tested yet.
CUTOFF = dt.date(2026, 4, 30)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "examples"

LOT_COLUMNS = ["lot_id", "attribute", "value", "unit", "lot_type", "manufacture_date", "process_version", "phase"]
STABILITY_COLUMNS = LOT_COLUMNS + ["timepoint_months", "storage_condition"]

CAR_T_STORAGE = "≤ -150 °C (LN2 vapour phase)"
AAV_STORAGE = "≤ -60 °C"

#: Lots per lot type, as documented in data/examples/README.md (tests check these).
CAR_T_LOT_COUNTS = {"engineering": 3, "clinical": 24, "ppq": 3, "commercial": 30}
AAV_LOT_COUNTS = {"engineering": 2, "clinical": 8, "ppq": 2, "commercial": 6}

CAR_T_UNITS = {
    "viability": "%",
    "cd3_purity": "% CD3+",
    "transduction_efficiency": "% CAR+",
    "vector_copy_number": "copies/transduced cell",
    "ifng_potency": "pg/mL",
    "cell_dose": "×10^8 CAR+ viable T cells",
    "endotoxin": "EU/mL",
    "sterility": "",
    "mycoplasma": "",
    "rcl": "",
}
AAV_UNITS = {
    "vector_genome_titer": "vg/mL",
    "full_capsid_pct": "% full",
    "relative_potency": "% of reference",
    "residual_hcdna": "ng/dose",
    "residual_hcp": "ng/mL",
    "aggregates": "% HMW",
    "endotoxin": "EU/mL",
    "sterility": "",
    "rcaav": "",
}


class Lot:
    """One generated lot: its lot-level fields, reported values (text) and raw draws."""

    def __init__(self, lot_id: str, lot_type: str, date: dt.date, process_version: str, phase: str) -> None:
        self.lot_id = lot_id
        self.lot_type = lot_type
        self.date = date
        self.process_version = process_version
        self.phase = phase
        self.values: dict[str, str] = {}
        self.raw: dict[str, float] = {}


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _weekday(day: dt.date) -> dt.date:
    """Move a Saturday or Sunday to the next Monday."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _dates(rng: np.random.Generator, start: dt.date, end: dt.date, n: int, jitter: int = 5) -> list[dt.date]:
    """n manufacture dates spread evenly from start to end, with a few days' jitter, increasing."""
    span = (end - start).days
    days = [round(span * i / max(n - 1, 1)) for i in range(n)]
    out = []
    for d in days:
        shift = int(rng.integers(-jitter, jitter + 1)) if 0 < d < span else 0
        out.append(_weekday(start + dt.timedelta(days=d + shift)))
    for i in range(1, n):  # keep strictly increasing after jitter
        if out[i] <= out[i - 1]:
            out[i] = _weekday(out[i - 1] + dt.timedelta(days=1))
    return out


def _fixed(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def _sig(x: float, digits: int = 3) -> str:
    """Round to significant digits and print as a plain integer (for numbers >= 100)."""
    return str(int(float(f"{x:.{digits}g}")))


def _sci(x: float) -> str:
    """Three significant digits in e-notation: 1.07e13."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _months_later(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, min(day.day, 28))


def _lot_ids(prefix: str, dates: list[dt.date], width: int) -> list[str]:
    """Lot ids like CT23-007: prefix, two-digit year, sequence within the year."""
    counters: dict[int, int] = {}
    ids = []
    for day in dates:
        counters[day.year] = counters.get(day.year, 0) + 1
        ids.append(f"{prefix}{day.year % 100:02d}-{counters[day.year]:0{width}d}")
    return ids


def _endotoxin(rng: np.random.Generator, p_detected: float) -> str:
    if rng.random() < p_detected:
        return _fixed(rng.uniform(0.5, 1.2), 2)
    return "<0.5"


# --------------------------------------------------------------------------- #
# CAR-T
# --------------------------------------------------------------------------- #
def _car_t_lots(rng: np.random.Generator) -> list[Lot]:
    groups = [
        # lot_type, phase, process version, n, first date, last date
        ("engineering", "", "v1", 3, dt.date(2023, 1, 16), dt.date(2023, 3, 13)),
        ("clinical", "phase 1", "v1", 9, dt.date(2023, 5, 8), dt.date(2024, 3, 18)),
        ("clinical", "phase 2", "v1", 15, dt.date(2024, 4, 15), dt.date(2025, 1, 27)),
        ("ppq", "", "v2", 3, dt.date(2025, 3, 3), dt.date(2025, 4, 14)),
        ("commercial", "commercial", "v2", 30, dt.date(2025, 7, 7), dt.date(2026, 3, 30)),
    ]
    plan = []
    for lot_type, phase, version, n, start, end in groups:
        for day in _dates(rng, start, end, n):
            plan.append((lot_type, phase, version, day))
    ids = _lot_ids("CT", [p[3] for p in plan], 3)

    lots = []
    for lot_id, (lot_type, phase, version, day) in zip(ids, plan):
        lot = Lot(lot_id, lot_type, day, version, phase)
        # patient-to-patient variability: widest in phase 1 (heavily pre-treated patients)
        spread = {"engineering": 0.9, "phase 1": 1.3, "phase 2": 1.1, "ppq": 0.9, "commercial": 0.9}[phase or lot_type]
        v2 = version == "v2"

        viability = min(rng.normal(88.0, 4.0 * spread), 98.5)
        cd3 = min(rng.normal(96.0, 1.8 * spread), 99.8)
        transduction = float(np.clip(rng.normal(49.0 if v2 else 45.0, 10.0 * spread), 8.0, 85.0))
        vcn = math.exp(rng.normal(math.log(1.8), 0.28 * spread))
        ifng = math.exp(rng.normal(math.log(2400.0), 0.40 * spread))
        dose = float(np.clip(rng.normal(3.6, 0.35), 2.6, 4.6))
        endotoxin = _endotoxin(rng, 0.12)

        lot.raw.update(viability=viability, ifng_potency=ifng)
        lot.values.update(
            viability=_fixed(viability, 1),
            cd3_purity=_fixed(cd3, 1),
            transduction_efficiency=_fixed(transduction, 1),
            vector_copy_number=_fixed(vcn, 2),
            ifng_potency=_sig(ifng),
            cell_dose=_fixed(dose, 2),
            endotoxin=endotoxin,
            sterility="No growth",
            mycoplasma="Negative",
            rcl="Not detected",
        )
        lots.append(lot)

    # Two commercial lots near the low end of viability, about 2 SD below the
    # mean: ordinary variability of an unchanged process, not a shift.
    commercial = [lot for lot in lots if lot.lot_type == "commercial"]
    for lot, viability in ((commercial[11], 81.6), (commercial[24], 80.9)):
        lot.raw["viability"] = viability
        lot.values["viability"] = _fixed(viability, 1)
    return lots


def _car_t_stability(rng: np.random.Generator, lots: list[Lot]) -> list[dict[str, str]]:
    clinical_p1 = [lot for lot in lots if lot.phase == "phase 1"]
    clinical_p2 = [lot for lot in lots if lot.phase == "phase 2"]
    ppq = [lot for lot in lots if lot.lot_type == "ppq"]
    chosen = [clinical_p1[4], clinical_p2[2], ppq[0], ppq[2]]
    rows = []
    for lot in chosen:
        via0 = lot.raw["viability"] + rng.normal(0.0, 0.8)
        via_slope = rng.normal(-0.12, 0.04)  # % per month
        log_ifng0 = math.log(lot.raw["ifng_potency"]) + rng.normal(0.0, 0.05)
        ifng_slope = rng.normal(-0.006, 0.002)  # log units per month (about -13 % over 24 months)
        for months in (0, 3, 6, 9, 12, 18, 24):
            if _months_later(lot.date, months) > CUTOFF:
                break
            viability = min(via0 + via_slope * months + rng.normal(0.0, 0.9), 98.5)
            ifng = math.exp(log_ifng0 + ifng_slope * months + rng.normal(0.0, 0.07))
            for attribute, value in (("viability", _fixed(viability, 1)), ("ifng_potency", _sig(ifng))):
                rows.append(_row(lot, attribute, value, CAR_T_UNITS[attribute], months, CAR_T_STORAGE))
    return rows


# --------------------------------------------------------------------------- #
# AAV
# --------------------------------------------------------------------------- #
def _aav_lots(rng: np.random.Generator) -> list[Lot]:
    groups = [
        ("engineering", "", "v1", 2, dt.date(2023, 2, 6), dt.date(2023, 6, 5)),
        ("clinical", "phase 1/2", "v1", 4, dt.date(2023, 9, 11), dt.date(2024, 6, 3)),
        ("clinical", "phase 3", "v1", 4, dt.date(2024, 8, 12), dt.date(2025, 4, 7)),
        ("ppq", "", "v2", 2, dt.date(2025, 6, 9), dt.date(2025, 8, 4)),
        ("commercial", "commercial", "v2", 6, dt.date(2025, 10, 6), dt.date(2026, 4, 13)),
    ]
    plan = []
    for lot_type, phase, version, n, start, end in groups:
        for day in _dates(rng, start, end, n, jitter=10):
            plan.append((lot_type, phase, version, day))
    ids = _lot_ids("AV", [p[3] for p in plan], 2)

    lots = []
    for lot_id, (lot_type, phase, version, day) in zip(ids, plan):
        lot = Lot(lot_id, lot_type, day, version, phase)
        v2 = version == "v2"
        titer = math.exp(rng.normal(math.log(1.1e13), 0.22))
        full = float(np.clip(rng.normal(71.0 if v2 else 68.0, 4.5), 40.0, 95.0))
        potency = rng.normal(100.0, 12.0)
        hcdna = math.exp(rng.normal(math.log(16.0), 0.55))
        hcp = math.exp(rng.normal(math.log(35.0), 0.50))
        aggregates = max(rng.normal(1.6, 0.45), 0.3)
        endotoxin = _endotoxin(rng, 0.10)

        lot.raw.update(vector_genome_titer=titer, relative_potency=potency)
        lot.values.update(
            vector_genome_titer=_sci(titer),
            full_capsid_pct=_fixed(full, 1),
            relative_potency=_fixed(potency, 0),
            residual_hcdna="<10" if hcdna < 10.0 else _fixed(hcdna, 1),
            residual_hcp=_fixed(hcp, 0),
            aggregates=_fixed(aggregates, 1),
            endotoxin=endotoxin,
            sterility="No growth",
            rcaav="Not detected",
        )
        lots.append(lot)
    return lots


def _aav_stability(rng: np.random.Generator, lots: list[Lot]) -> list[dict[str, str]]:
    chosen = [
        next(lot for lot in lots if lot.phase == "phase 1/2"),
        next(lot for lot in lots if lot.phase == "phase 3"),
        next(lot for lot in lots if lot.lot_type == "ppq"),
    ]
    rows = []
    for lot in chosen:
        log_titer0 = math.log(lot.raw["vector_genome_titer"]) + rng.normal(0.0, 0.03)
        titer_slope = rng.normal(-0.0015, 0.001)  # log units per month: nearly flat
        potency0 = lot.raw["relative_potency"] + rng.normal(0.0, 3.0)
        potency_slope = rng.normal(-0.25, 0.08)  # % of reference per month
        for months in (0, 3, 6, 9, 12, 18, 24, 36):
            if _months_later(lot.date, months) > CUTOFF:
                break
            titer = math.exp(log_titer0 + titer_slope * months + rng.normal(0.0, 0.05))
            potency = potency0 + potency_slope * months + rng.normal(0.0, 5.0)
            for attribute, value in (("vector_genome_titer", _sci(titer)), ("relative_potency", _fixed(potency, 0))):
                rows.append(_row(lot, attribute, value, AAV_UNITS[attribute], months, AAV_STORAGE))
    return rows


# --------------------------------------------------------------------------- #
# tables and files
# --------------------------------------------------------------------------- #
def _row(lot: Lot, attribute: str, value: str, unit: str, months: int | None = None, storage: str | None = None) -> dict[str, str]:
    row = {
        "lot_id": lot.lot_id,
        "attribute": attribute,
        "value": value,
        "unit": unit,
        "lot_type": lot.lot_type,
        "manufacture_date": lot.date.isoformat(),
        "process_version": lot.process_version,
        "phase": lot.phase,
    }
    if months is not None:
        row["timepoint_months"] = str(months)
        row["storage_condition"] = storage or ""
    return row


def _release_rows(lots: list[Lot], units: dict[str, str]) -> list[dict[str, str]]:
    return [_row(lot, attribute, lot.values[attribute], unit) for lot in lots for attribute, unit in units.items()]


def build_tables(seed: int = SEED) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """All example tables: file name -> (columns, rows as dicts of text)."""
    car_t_rng, aav_rng, car_t_stab_rng, aav_stab_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    car_t = _car_t_lots(car_t_rng)
    aav = _aav_lots(aav_rng)
    return {
        "car_t_lots.csv": (LOT_COLUMNS, _release_rows(car_t, CAR_T_UNITS)),
        "aav_lots.csv": (LOT_COLUMNS, _release_rows(aav, AAV_UNITS)),
        "car_t_stability.csv": (STABILITY_COLUMNS, _car_t_stability(car_t_stab_rng, car_t)),
        "aav_stability.csv": (STABILITY_COLUMNS, _aav_stability(aav_stab_rng, aav)),
    }


def render_csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """CSV bytes: UTF-8 without BOM, LF line ends, minimal quoting."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_example_data(out_dir: str | Path = DEFAULT_OUT, seed: int = SEED) -> list[Path]:
    """Write the example CSV files into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, (columns, rows) in build_tables(seed).items():
        path = out / file_name
        path.write_bytes(render_csv(columns, rows))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/examples)")
    args = parser.parse_args(argv)
    for path in write_example_data(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
