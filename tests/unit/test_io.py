"""Tests of cgtkit.io: the long format, censoring, pass/fail, and every bad-file message."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import cgtkit.io
from cgtkit.errors import CgtkitError, LotDataError
from cgtkit.io import (
    LONG_FORMAT_COLUMNS,
    PHASES,
    Problem,
    ProblemKind,
    Severity,
    attribute_values,
    describe_warnings,
    load_lots,
    lots_summary,
    parse_phase,
    parse_value,
    problem_lines,
    problems_csv,
)
from cgtkit.vocab import LOT_TYPES

HEADER = "lot_id,attribute,value,unit,lot_type,manufacture_date"


def write(tmp_path: Path, text: str, name: str = "lots.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def load_error(source, **kwargs) -> str:
    with pytest.raises(LotDataError) as info:
        load_lots(source, **kwargs)
    return str(info.value)


def make_xlsx(tmp_path: Path, rows: list[list], name: str = "lots.xlsx", formats: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lots"
    for row in rows:
        ws.append(row)
    for coord, fmt in (formats or {}).items():
        ws[coord].number_format = fmt
    path = tmp_path / name
    wb.save(path)
    return path


# --------------------------------------------------------------------------- #
# the long format
# --------------------------------------------------------------------------- #
GOOD = csv_text(
    "L2,viability,88.5,%,clinical,2024-05-01",
    "L1,endotoxin,<0.5,EU/mL,PPQ,2024-03-01",
    "L1,sterility,No growth,,ppq,2024-03-01",
    "L1,ifng_potency,> 5000,pg/mL,PPQ,2024-03-01",
    "L1,viability,90.1,%,Ppq,2024-03-01",
    "L2,mycoplasma,Positive,,Clinical,2024-05-01",
)


def test_columns_dtypes_and_order(tmp_path):
    df = load_lots(write(tmp_path, GOOD))
    assert tuple(df.columns) == LONG_FORMAT_COLUMNS
    assert df["value"].dtype == np.float64
    assert df["timepoint_months"].dtype == np.float64
    assert df["manufacture_date"].dtype == "datetime64[ns]"
    assert df["source_row"].dtype == np.int64
    assert pd.api.types.is_string_dtype(df["lot_id"])
    # sorted by manufacture date, then lot, then attribute
    assert df["lot_id"].tolist() == ["L1"] * 4 + ["L2"] * 2
    assert df["attribute"].tolist()[:4] == ["endotoxin", "ifng_potency", "sterility", "viability"]
    assert set(df["lot_type"]) == {"ppq", "clinical"}
    assert df.attrs["source_name"] == "lots.csv"


def test_censoring_is_parsed_not_dropped(tmp_path):
    df = load_lots(write(tmp_path, GOOD)).set_index("attribute")
    lot1 = df[df["lot_id"] == "L1"]
    assert lot1.loc["endotoxin", "value"] == 0.5
    assert lot1.loc["endotoxin", "censoring"] == "left"
    assert lot1.loc["endotoxin", "original_value"] == "<0.5"
    assert lot1.loc["ifng_potency", "value"] == 5000.0
    assert lot1.loc["ifng_potency", "censoring"] == "right"
    assert lot1.loc["viability", "censoring"] == "none"
    assert pd.isna(lot1.loc["viability", "result"])


def test_pass_fail_is_parsed_not_dropped(tmp_path):
    df = load_lots(write(tmp_path, GOOD))
    sterility = df[df["attribute"] == "sterility"].iloc[0]
    assert sterility["result"] == "pass"
    assert math.isnan(sterility["value"])
    assert sterility["censoring"] == "none"
    assert sterility["original_value"] == "No growth"
    assert sterility["unit"] == ""
    mycoplasma = df[df["attribute"] == "mycoplasma"].iloc[0]
    assert mycoplasma["result"] == "fail"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("88.5", (88.5, "none", None)),
        ("1.2e13", (1.2e13, "none", None)),
        ("1.2E+13", (1.2e13, "none", None)),
        ("-0.3", (-0.3, "none", None)),
        ("88.5%", (88.5, "none", None)),
        ("<0.5", (0.5, "left", None)),
        ("< 0.5", (0.5, "left", None)),
        ("<=0.5", (0.5, "left", None)),
        ("≤0.5", (0.5, "left", None)),
        (">1e9", (1e9, "right", None)),
        (">= 1e9", (1e9, "right", None)),
        ("≥ 20", (20.0, "right", None)),
        ("pass", (math.nan, "none", "pass")),
        ("Not Detected", (math.nan, "none", "pass")),
        ("NEGATIVE", (math.nan, "none", "pass")),
        ("no  growth", (math.nan, "none", "pass")),
        ("Growth", (math.nan, "none", "fail")),
        ("detected", (math.nan, "none", "fail")),
        ("positive", (math.nan, "none", "fail")),
    ],
)
def test_parse_value(text, expected):
    value, censoring, result = parse_value(text)
    assert (censoring, result) == expected[1:]
    assert (math.isnan(value) and math.isnan(expected[0])) or value == expected[0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc", "not a number"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("0,5", "decimal point"),
        ("1,000", "thousands separator"),
        ("<LOQ", "limit as a number"),
        ("1e400", "too large"),
        ("", "empty"),
    ],
)
def test_parse_value_rejects(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_value(text)


def test_optional_columns_and_normalisation(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01,v1,Phase I,,",
        "L1,viability,86,%,clinical,2024-03-01,v1,phase 1,3,-150 C",
        "L1,viability,85,%,clinical,2024-03-01,,1,6,-150 C",
        "L2,viability,90,%,clinical,2024-04-01,v1,phase I/II,,",
        header=HEADER + ",Process Version,PHASE,timepoint-months,storage_condition",
    )
    df = load_lots(write(tmp_path, text))
    assert df["phase"].tolist() == ["phase 1"] * 3 + ["phase 1/2"]
    assert df["process_version"].tolist() == ["v1"] * 4  # blank filled from the lot
    assert df["timepoint_months"].iloc[:3].isna().tolist() == [True, False, False]
    assert df["timepoint_months"].iloc[1:3].tolist() == [3.0, 6.0]


def test_extra_columns_are_ignored_and_blank_rows_skipped(tmp_path):
    text = "lot_id,attribute,value,unit,lot_type,manufacture_date,comment\n\nL1,viability,88,%,clinical,2024-03-01,ok\n,,,,,,\n"
    df = load_lots(write(tmp_path, text))
    assert len(df) == 1
    assert df["source_row"].tolist() == [3]  # the blank line is row 2, as a spreadsheet shows it
    assert "comment" not in df.columns


def test_lot_id_kept_as_text(tmp_path):
    df = load_lots(write(tmp_path, csv_text("007,viability,88,%,clinical,2024-03-01")))
    assert df["lot_id"].tolist() == ["007"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters_accepted(tmp_path, delimiter):
    text = csv_text("L1,viability,88.5,%,clinical,2024-03-01").replace(",", delimiter)
    df = load_lots(write(tmp_path, text))
    assert df.loc[0, "value"] == 88.5
    assert df.attrs["delimiter"] == delimiter


def test_utf8_bom_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text("L1,viability,88,%,clinical,2024-03-01").encode())
    assert load_lots(path)["lot_id"].tolist() == ["L1"]


def test_cp1252_file_is_decoded(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01,≤ -150 °C (vapour phase) – LN2", header=HEADER + ",storage_condition")
    text = text.replace("≤ ", "")  # '≤' does not exist in cp1252
    path = write(tmp_path, text, encoding="cp1252")
    df = load_lots(path)
    assert df.loc[0, "storage_condition"] == "-150 °C (vapour phase) – LN2"
    assert df.attrs["encoding"] == "cp1252"


# --------------------------------------------------------------------------- #
# sources: path, bytes, file objects, uploads
# --------------------------------------------------------------------------- #
def test_bytes_and_file_objects(tmp_path):
    data = csv_text("L1,viability,88,%,clinical,2024-03-01").encode()
    assert len(load_lots(data)) == 1
    assert len(load_lots(io.BytesIO(data), name="upload.csv")) == 1
    upload = {"name": "from_widget.csv", "type": "text/csv", "size": len(data), "content": memoryview(data)}
    assert load_lots(upload).attrs["source_name"] == "from_widget.csv"
    with open(write(tmp_path, data.decode()), "rb") as handle:
        assert load_lots(handle).attrs["source_name"] == "lots.csv"


def test_default_names_in_messages(tmp_path):
    bad = csv_text("L1,viability,abc,%,clinical,2024-03-01").encode()
    assert "'uploaded file'" in load_error(bad)
    assert "'mine.csv'" in load_error(bad, name="mine.csv")
    assert "'lots.csv'" in load_error(write(tmp_path, bad.decode()))


def test_missing_path(tmp_path):
    message = load_error(tmp_path / "nope.csv")
    assert "'nope.csv'" in message and "does not exist" in message


# --------------------------------------------------------------------------- #
# bad files: each message names the file, the row and column, and the fix
# --------------------------------------------------------------------------- #
def test_missing_required_columns(tmp_path):
    text = "lot,attribute,value,lot_type\nL1,viability,88,clinical\n"
    message = load_error(write(tmp_path, text, "short.csv"))
    assert "'short.csv'" in message
    assert "missing required column(s) lot_id, unit, manufacture_date" in message
    assert "Columns found in row 1: 'lot', 'attribute', 'value', 'lot_type'" in message


def test_wrong_delimiter_is_explained(tmp_path):
    text = csv_text("L1|viability|88|%|clinical|2024-03-01").replace(",", "|")
    message = load_error(write(tmp_path, text, "pipes.csv"))
    assert "'pipes.csv'" in message
    assert "missing required column(s)" in message
    assert "seems to use '|' as delimiter; save it as comma-separated" in message


def test_non_numeric_value(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01", "L2,viability,eighty,%,clinical,2024-03-02")
    message = load_error(write(tmp_path, text))
    assert "'lots.csv'" in message
    assert "row 3, column 'value' (C)" in message
    assert "'eighty' is not a number" in message
    assert "Enter a number" in message


def test_decimal_comma_in_semicolon_file(tmp_path):
    text = csv_text("L1;viability;88,5;%;clinical;2024-03-01", header=HEADER.replace(",", ";"))
    message = load_error(write(tmp_path, text))
    assert "row 2, column 'value' (C)" in message
    assert "decimal point" in message


def test_unknown_lot_type(tmp_path):
    message = load_error(write(tmp_path, csv_text("L1,viability,88,%,pilot,2024-03-01")))
    assert "row 2, column 'lot_type' (E)" in message
    assert "'pilot' is not a lot type" in message
    assert "engineering, clinical, ppq, commercial" in message


@pytest.mark.parametrize(
    ("date", "fragment"),
    [("03/05/2024", "is not an ISO date"), ("2024-02-30", "not a valid calendar date"), ("", "the date is empty")],
)
def test_unparseable_date(tmp_path, date, fragment):
    message = load_error(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,{date}")))
    assert "row 2, column 'manufacture_date' (F)" in message
    assert fragment in message
    assert "YYYY-MM-DD" in message


def test_bad_phase_and_timepoint(tmp_path):
    # issue #16: the phase is descriptive, so an unknown phase is a warning; the time point is still an error
    text = csv_text("L1,viability,88,%,clinical,2024-03-01,phase 9,soon", header=HEADER + ",phase,timepoint_months")
    found: list[Problem] = []
    message = load_error(write(tmp_path, text), warnings=found)
    assert "1 problem found" in message
    assert "row 2, column 'timepoint_months' (H): 'soon' is not a number of months" in message
    assert "phase" not in message.split("\n", 1)[1]
    assert [str(w) for w in found] == [
        f"row 2, column 'phase' (G): 'phase 9' is not a phase cgtkit knows; it is kept as written. Fix: {cgtkit.io._PHASE_FIX}"
    ]


def test_empty_lot_id(tmp_path):
    message = load_error(write(tmp_path, csv_text(",viability,88,%,clinical,2024-03-01")))
    assert "row 2, column 'lot_id' (A): the cell is empty" in message


def test_duplicated_lot_attribute_rows(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01",
        "L1,cd3_purity,95,%,clinical,2024-03-01",
        "L1,viability,87,%,clinical,2024-03-01",
    )
    message = load_error(write(tmp_path, text))
    assert "rows 2 and 4 both hold lot 'L1', attribute 'viability'" in message
    assert "Keep one row per lot and attribute" in message


def test_same_lot_attribute_at_different_timepoints_is_fine(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01,0",
        "L1,viability,86,%,clinical,2024-03-01,3",
        header=HEADER + ",timepoint_months",
    )
    assert len(load_lots(write(tmp_path, text))) == 2
    duplicate = text + "L1,viability,85,%,clinical,2024-03-01,3\n"
    message = load_error(write(tmp_path, duplicate))
    assert "rows 3 and 4 both hold lot 'L1', attribute 'viability', time point 3 months" in message


def test_lot_with_two_dates_or_two_types(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01",
        "L1,cd3_purity,95,%,ppq,2024-03-02",
    )
    message = load_error(write(tmp_path, text))
    assert "lot 'L1' has more than one of its manufacture dates: '2024-03-01' (row 2) and '2024-03-02' (row 3)" in message
    assert "lot 'L1' has more than one of its lot types: 'clinical' (row 2) and 'ppq' (row 3)" in message


def test_two_units_for_one_attribute(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01", "L2,viability,0.9,fraction,clinical,2024-03-02")
    message = load_error(write(tmp_path, text))
    assert "attribute 'viability' has more than one unit: '%' (row 2) and 'fraction' (row 3)" in message


def test_row_with_too_many_values(tmp_path):
    text = csv_text("L1,viability,88,5,%,clinical,2024-03-01")
    message = load_error(write(tmp_path, text))
    assert "row 2: 7 values but the header has 6 columns" in message
    assert "quotes" in message


def test_many_problems_are_capped(tmp_path):
    # every other row is bad: 15 runs of one row; 10 are named, the rest counted
    rows = [f"L{i},viability,{'bad' if i % 2 == 0 else 88},%,clinical,2024-03-01" for i in range(29)]
    message = load_error(write(tmp_path, csv_text(*rows)))
    assert "15 problems found" in message
    assert "15 rows (2, 4, 6, 8, 10, 12, 14, 16, 18, 20 ... and 5 more) hold values that are not numbers" in message


def test_consecutive_rows_are_one_range(tmp_path):
    rows = [f"L{i},viability,bad,%,clinical,2024-03-01" for i in range(15)]
    message = load_error(write(tmp_path, csv_text(*rows)))
    assert "15 problems found" in message
    assert "- Column 'value' (C): 15 rows (2–16) hold values that are not numbers" in message


@pytest.mark.parametrize("content", [b"", b"   \n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    message = load_error(path)
    assert "'empty.csv'" in message and "empty" in message and "header row" in message


def test_header_only(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n", "header.csv"))
    assert "'header.csv'" in message
    assert "header row but no data rows" in message


def test_utf16_file(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes(csv_text("L1,viability,88,%,clinical,2024-03-01").encode("utf-16"))
    message = load_error(path)
    assert "'unicode.csv'" in message
    assert "UTF-16" in message and "CSV UTF-8" in message


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes(csv_text("L1,viability,88,%,clinical,2024-03-01").encode("utf-16-le"))
    assert "UTF-16" in load_error(path)


def test_binary_garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 4)
    message = load_error(path)
    assert "'garbage.csv'" in message and "not a CSV text file" in message


def test_control_characters(tmp_path):
    path = tmp_path / "ctrl.csv"
    path.write_bytes(b"\x01\x02\x03lot_id\x04,\x05")
    assert "does not look like a CSV text file" in load_error(path)


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "lots.json"
    path.write_text('{"lot_id": "L1"}')
    message = load_error(path)
    assert "'lots.json'" in message
    assert "'.json' are not supported" in message and ".csv" in message and ".xlsx" in message


def test_old_xls_refused(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "save the file as .xlsx" in load_error(path).lower()


def test_xlsx_saved_as_csv_name(tmp_path):
    xlsx = make_xlsx(tmp_path, [HEADER.split(",")])
    renamed = tmp_path / "really_excel.csv"
    renamed.write_bytes(xlsx.read_bytes())
    assert "is an Excel workbook" in load_error(renamed)


# --------------------------------------------------------------------------- #
# Excel
# --------------------------------------------------------------------------- #
def test_xlsx_reads_values_dates_and_percent(tmp_path):
    rows = [
        HEADER.split(",") + ["timepoint_months"],
        ["L1", "viability", 0.885, "%", "Clinical", dt.datetime(2024, 3, 1), 0],
        ["L1", "endotoxin", "<0.5", "EU/mL", "clinical", dt.datetime(2024, 3, 1), None],
        ["L1", "vector_genome_titer", 1.2e13, "vg/mL", "clinical", "2024-03-01", None],
        [1001, "sterility", "No growth", None, "PPQ", dt.date(2024, 4, 1), None],
    ]
    path = make_xlsx(tmp_path, rows, formats={"C2": "0.0%"})
    df = load_lots(path).set_index("attribute")
    assert df.loc["viability", "value"] == pytest.approx(88.5)
    assert df.loc["viability", "original_value"] == "88.5%"
    assert df.loc["viability", "timepoint_months"] == 0.0
    assert df.loc["endotoxin", "censoring"] == "left"
    assert df.loc["vector_genome_titer", "value"] == 1.2e13
    assert df.loc["sterility", "lot_id"] == "1001"
    assert df.loc["sterility", "result"] == "pass"
    assert df.loc["sterility", "manufacture_date"] == pd.Timestamp("2024-04-01")
    assert df.attrs["sheet"] == "Lots"


def test_xlsx_from_bytes_without_name_is_sniffed(tmp_path):
    path = make_xlsx(tmp_path, [HEADER.split(","), ["L1", "viability", 88, "%", "clinical", "2024-03-01"]])
    assert load_lots(path.read_bytes())["value"].tolist() == [88.0]


def test_xlsx_formula_without_cached_value(tmp_path):
    rows = [
        HEADER.split(","),
        ["L1", "viability", 88, "%", "clinical", "2024-03-01"],
        ["L2", "viability", 80, "%", "clinical", "2024-03-02"],
        ["L3", "viability", "=AVERAGE(C2:C3)", "%", "clinical", "2024-03-03"],
    ]
    message = load_error(make_xlsx(tmp_path, rows, "formulas.xlsx"))
    assert "'formulas.xlsx'" in message
    assert "cell C4 contains a formula without a saved value" in message
    assert "open the file in excel and save it, or paste values" in message.lower()


def test_xlsx_cell_error_names_row_and_column(tmp_path):
    rows = [HEADER.split(","), ["L1", "viability", "n/a", "%", "clinical", "2024-03-01"]]
    message = load_error(make_xlsx(tmp_path, rows, "cells.xlsx"))
    assert "'cells.xlsx'" in message and "row 2, column 'value' (C): 'n/a'" in message


def test_xlsx_data_not_on_first_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active.append(["Release data of product X"])
    data = wb.create_sheet("Data")
    data.append(HEADER.split(","))
    path = tmp_path / "two_sheets.xlsx"
    wb.save(path)
    message = load_error(path)
    assert "Columns found in row 1: 'Release data of product X'" in message
    assert "reads the first worksheet ('Cover')" in message


def test_xlsx_header_not_in_row_1(tmp_path):
    rows = [[None], HEADER.split(","), ["L1", "viability", 88, "%", "clinical", "2024-03-01"]]
    assert "header must be in row 1" in load_error(make_xlsx(tmp_path, rows))


def test_not_actually_xlsx(tmp_path):
    path = write(tmp_path, csv_text("L1,viability,88,%,clinical,2024-03-01"), "text.xlsx")
    message = load_error(path)
    assert "'text.xlsx'" in message
    assert "is not an .xlsx file" in message and "give it the .csv extension" in message


def test_corrupt_zip_named_xlsx(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    path = tmp_path / "broken.xlsx"
    path.write_bytes(buffer.getvalue())
    message = load_error(path)
    assert "'broken.xlsx'" in message and "not a readable .xlsx workbook" in message


# --------------------------------------------------------------------------- #
# problems as data: all checks run, problems are exposed and grouped
# --------------------------------------------------------------------------- #
def load_problems(source, **kwargs) -> tuple[str, tuple[Problem, ...]]:
    with pytest.raises(LotDataError) as info:
        load_lots(source, **kwargs)
    return str(info.value), info.value.problems


def test_problems_are_exposed_as_data(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01", "L2,viability,eighty,%,pilot,2024-03-02")
    message, problems = load_problems(write(tmp_path, text))
    assert [(p.row, p.column, p.column_letter, p.value, p.kind) for p in problems] == [
        (3, "value", "C", "eighty", ProblemKind.NOT_A_VALUE),
        (3, "lot_type", "E", "pilot", ProblemKind.NOT_A_LOT_TYPE),
    ]
    assert all(p.fix and str(p) in message for p in problems)
    assert str(problems[0]).startswith("row 3, column 'value' (C): 'eighty' is not a number")
    assert "Fix: Enter a number" in str(problems[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        problems[0].row = 4


def test_one_kind_of_problem_does_not_hide_another(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01",
        "L1,viability,n/a,%,clinical,2024-03-01",  # a bad value and a duplicate
        "L2,viability,0.9,fraction,clinical,2024-13-01",  # a second unit and a bad date
    )
    message, problems = load_problems(write(tmp_path, text))
    assert {p.kind for p in problems} == {
        ProblemKind.NOT_A_VALUE, ProblemKind.DUPLICATE, ProblemKind.UNIT_DISAGREES, ProblemKind.NOT_A_DATE,
    }
    assert "4 problems found" in message
    assert "row 3, column 'value' (C): 'n/a'" in message
    assert "rows 2 and 3 both hold lot 'L1', attribute 'viability'" in message
    assert "attribute 'viability' has more than one unit: '%' (row 2) and 'fraction' (row 4)" in message
    assert "row 4, column 'manufacture_date' (F): '2024-13-01' is not a valid calendar date" in message


def test_many_problems_of_one_kind_share_a_line(tmp_path):
    rows = [f"L{i},viability,88,%,clinical,{i % 9 + 1:02d}/2024" for i in range(12)]
    message, problems = load_problems(write(tmp_path, csv_text(*rows), "dates.csv"))
    assert len(problems) == 12 and {p.kind for p in problems} == {ProblemKind.NOT_A_DATE}
    lines = message.splitlines()
    assert lines[0] == "Cannot load lot data from 'dates.csv': 12 problems found."
    assert lines[1:] == [
        "- Column 'manufacture_date' (F): 12 rows (2–13) hold values that are not dates "
        "(e.g. '01/2024', '02/2024', '03/2024'). Fix: Write dates as YYYY-MM-DD (e.g. 2024-03-05)."
    ]


def test_few_problems_of_one_kind_get_a_line_each(tmp_path):
    rows = [f"L{i},viability,\"{v}\",%,clinical,2024-03-01" for i, v in enumerate(["88", "abc", "90", "0,5", "n/a"])]
    message, _ = load_problems(write(tmp_path, csv_text(*rows)))
    assert "row 3, column 'value' (C): 'abc' is not a number" in message
    assert "row 5, column 'value' (C): '0,5' uses a decimal comma. Fix: Write it with a decimal point" in message
    assert "row 6, column 'value' (C): 'n/a' is not a number" in message


def test_lot_conflict_problem_points_at_the_cell_as_written(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01", "L1,cd3_purity,95,%,PPQ ,2024-3-1")
    message, problems = load_problems(write(tmp_path, text))
    assert [(p.row, p.column_letter, p.value, p.kind) for p in problems] == [(3, "E", "PPQ", ProblemKind.LOT_DISAGREES)]
    assert (
        "row 3, column 'lot_type' (E): lot 'L1' has more than one of its lot types: 'clinical' (row 2) and 'ppq' (row 3)"
    ) in message


def test_rows_of_many_columns_keep_spreadsheet_letters(tmp_path):
    header = HEADER + "," + ",".join(f"note{i}" for i in range(22)) + ",timepoint_months,phase"
    row = "L1,viability,88,%,clinical,2024-03-01" + "," * 22 + ",soon,phase 9"
    found: list[Problem] = []
    message, problems = load_problems(write(tmp_path, csv_text(row, header=header)), warnings=found)
    assert problems[0].column_letter == "AC"
    assert "row 2, column 'timepoint_months' (AC): 'soon' is not a number of months" in message
    assert str(found[0]).startswith("row 2, column 'phase' (AD): 'phase 9' is not a phase cgtkit knows")


def test_date_outside_the_supported_years(tmp_path):
    message, problems = load_problems(write(tmp_path, csv_text("L1,viability,88,%,clinical,1500-01-01")))
    assert problems[0].kind is ProblemKind.NOT_A_DATE
    assert "row 2, column 'manufacture_date' (F): '1500-01-01' is outside the years 1678 to 2261" in message


def test_file_level_errors_have_no_problem_list(tmp_path):
    _, problems = load_problems(write(tmp_path, "lot,attribute\nL1,viability\n"))
    assert problems == ()


def test_lot_data_error_keeps_its_message():
    error = LotDataError("plain message")
    assert str(error) == "plain message" and error.problems == ()


def test_lot_types_come_from_the_shared_vocabulary(tmp_path):
    assert "LOT_TYPES" not in cgtkit.io.__all__  # no copy of its own: the one list is cgtkit.vocab's
    assert getattr(cgtkit.io, "LOT_TYPES", LOT_TYPES) is LOT_TYPES
    message = load_error(write(tmp_path, csv_text("L1,viability,88,%,pilot,2024-03-01")))
    assert f"Use one of: {', '.join(LOT_TYPES)}." in message
    df = load_lots(write(tmp_path, csv_text(*(f"L{t},viability,88,%,{t.upper()},2024-03-01" for t in LOT_TYPES))))
    assert sorted(df["lot_type"]) == sorted(LOT_TYPES)


@pytest.mark.parametrize("text", ["eighty", "0,5", "1,000", "<LOQ", "1e400", ""])
def test_parse_value_and_load_lots_explain_a_value_alike(tmp_path, text):
    with pytest.raises(ValueError) as info:
        parse_value(text)
    _, problems = load_problems(write(tmp_path, csv_text(f"L1,viability,\"{text}\",%,clinical,2024-03-01")))
    assert str(info.value) == f"{problems[0].detail}. {problems[0].fix}"


def test_errors_are_cgtkit_errors(tmp_path):
    with pytest.raises(CgtkitError):
        load_lots(b"", name="x.csv")


# --------------------------------------------------------------------------- #
# time units of stability time points (issue #20)
# --------------------------------------------------------------------------- #
TIMED = HEADER + ",timepoint,time_unit,storage_condition"


def test_time_points_in_hours_with_their_unit(tmp_path):
    """A post-thaw window in hours: kept in hours, converted to months only to tell release rows from later ones."""
    text = csv_text(
        "L1,viability,92,%,clinical,2024-03-01,,,",
        "L1,viability,91,%,clinical,2024-03-01,0,hours,20-25 °C",
        "L1,viability,88,%,clinical,2024-03-01,4,h,20-25 °C",
        "L1,viability,85,%,clinical,2024-03-01,8,Hours,20-25 °C",
        header=TIMED,
    )
    df = load_lots(write(tmp_path, text))
    assert tuple(df.columns) == LONG_FORMAT_COLUMNS
    assert df["timepoint"].tolist()[1:] == [0.0, 4.0, 8.0] and math.isnan(df["timepoint"].iloc[0])
    assert df["time_unit"].tolist()[1:] == ["hours"] * 3 and pd.isna(df["time_unit"].iloc[0])
    assert df["timepoint_months"].iloc[3] == pytest.approx(8 / (24 * 365.25 / 12))
    assert attribute_values(df, "viability")["value"].tolist() == [92.0, 91.0]  # release and time 0


@pytest.mark.parametrize(("column", "unit", "months"), [
    ("timepoint_days", "days", 14 / (365.25 / 12)), ("timepoint_minutes", "minutes", 30 / (60 * 24 * 365.25 / 12)),
    ("timepoint_months", "months", 6.0),
])
def test_a_time_column_named_after_its_unit(tmp_path, column, unit, months):
    value = {"days": 14, "minutes": 30, "months": 6}[unit]
    df = load_lots(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,2024-03-01,{value}",
                                            header=f"{HEADER},{column}")))
    assert df.loc[0, "time_unit"] == unit and df.loc[0, "timepoint"] == value
    assert df.loc[0, "timepoint_months"] == pytest.approx(months)


def test_mixed_time_units_name_the_rows(tmp_path):
    text = csv_text(
        "L1,viability,91,%,clinical,2024-03-01,0,months,-150 C",
        "L1,viability,90,%,clinical,2024-03-01,3,months,-150 C",
        "L1,viability,88,%,clinical,2024-03-01,4,hours,-150 C",
        "L1,viability,87,%,clinical,2024-03-01,6,weeks,-150 C",
        "L1,viability,86,%,clinical,2024-03-01,9,,-150 C",
        header=TIMED,
    )
    with pytest.raises(LotDataError) as info:
        load_lots(write(tmp_path, text))
    message = str(info.value)
    assert "3 problems found" in message
    assert "row 4, column 'time_unit' (H): 'hours' differs from months in row 2" in message
    assert "A data set has one time unit" in message
    assert "row 5, column 'time_unit' (H): 'weeks' is not a time unit" in message
    assert "row 6, column 'time_unit' (H): the time unit is empty" in message
    assert {p.kind for p in info.value.problems} == {ProblemKind.MIXED_TIME_UNITS, ProblemKind.NOT_A_TIME_UNIT,
                                                     ProblemKind.EMPTY}


def test_a_unit_column_that_contradicts_the_time_column(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01,3,hours", header=HEADER + ",timepoint_months,time_unit")
    message = load_error(write(tmp_path, text))
    assert "'hours' contradicts column 'timepoint_months', which holds months" in message


def test_two_time_columns_or_no_stated_unit_stop_the_load(tmp_path):
    two = csv_text("L1,viability,88,%,clinical,2024-03-01,3,72", header=HEADER + ",timepoint_months,timepoint_hours")
    message = load_error(write(tmp_path, two))
    assert "columns 'timepoint_months' (G) and 'timepoint_hours' (H) both hold time points" in message
    assert "A data set has one time unit" in message
    unstated = csv_text("L1,viability,88,%,clinical,2024-03-01,3", header=HEADER + ",timepoint")
    assert "no column states their unit. Add a column time_unit" in load_error(write(tmp_path, unstated))
    # an empty second time column is harmless
    one = csv_text("L1,viability,88,%,clinical,2024-03-01,3,", header=HEADER + ",timepoint_months,timepoint_hours")
    assert load_lots(write(tmp_path, one)).loc[0, "time_unit"] == "months"


def test_negative_unreadable_and_duplicated_time_points(tmp_path):
    text = csv_text(
        "L1,viability,91,%,clinical,2024-03-01,0,days,5 °C",
        "L1,viability,90,%,clinical,2024-03-01,-2,days,5 °C",
        "L1,viability,89,%,clinical,2024-03-01,two,days,5 °C",
        "L1,viability,88,%,clinical,2024-03-01,7,days,5 °C",
        "L1,viability,87,%,clinical,2024-03-01,7,days,5 °C",
        "L1,viability,86,%,clinical,2024-03-01,7,days,-150 °C",
        header=TIMED,
    )
    message = load_error(write(tmp_path, text))
    assert "row 3, column 'timepoint' (G): '-2' is negative" in message
    assert "row 4, column 'timepoint' (G): 'two' is not a number" in message
    assert "rows 5 and 6 both hold lot 'L1', attribute 'viability', time point 7 days, storage '5 °C'" in message
    assert "row 7" not in message  # another storage condition is another key


def test_time_unit_without_time_points_is_ignored(tmp_path):
    df = load_lots(write(tmp_path, csv_text("L1,viability,88,%,clinical,2024-03-01,,fortnights,",
                                            header=TIMED)))
    assert pd.isna(df.loc[0, "timepoint"]) and pd.isna(df.loc[0, "time_unit"])


# --------------------------------------------------------------------------- #
# summaries
# --------------------------------------------------------------------------- #
def _stability_df(tmp_path):
    text = csv_text(
        "B,viability,90,%,ppq,2025-03-01,v2,,,",
        "A,viability,88,%,clinical,2024-03-01,v1,phase 2,0,-150 C",
        "A,viability,86,%,clinical,2024-03-01,v1,phase 2,3,-150 C",
        "A,ifng_potency,2400,pg/mL,clinical,2024-03-01,v1,phase 2,0,-150 C",
        "C,viability,85,%,commercial,2025-01-01,v2,commercial,,",
        header=HEADER + ",process_version,phase,timepoint_months,storage_condition",
    )
    return load_lots(write(tmp_path, text))


def test_lots_summary(tmp_path):
    summary = lots_summary(_stability_df(tmp_path))
    assert summary.columns.tolist() == ["lot_id", "lot_type", "manufacture_date", "process_version", "phase", "n_attributes"]
    assert summary["lot_id"].tolist() == ["A", "C", "B"]  # manufacture order
    assert summary["n_attributes"].tolist() == [2, 1, 1]
    assert summary.loc[0, "phase"] == "phase 2"


def test_attribute_values_release_only(tmp_path):
    values = attribute_values(_stability_df(tmp_path), "viability")
    assert values["lot_id"].tolist() == ["A", "C", "B"]
    assert values["value"].tolist() == [88.0, 85.0, 90.0]  # the 3-month result is left out


def test_attribute_values_unknown_attribute(tmp_path):
    with pytest.raises(LotDataError, match="Attribute 'potency' is not in the data. Attributes present: ifng_potency, viability"):
        attribute_values(_stability_df(tmp_path), "potency")


# --------------------------------------------------------------------------- #
# issue #16, item 1: the phase is descriptive and never blocks a load
# --------------------------------------------------------------------------- #
PHASE_HEADER = HEADER + ",phase"
TODAY = dt.date(2025, 6, 30)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Phase 1/2 (dose escalation)", ("phase 1/2", "dose escalation", False)),
        ("Phase 1/2", ("phase 1/2", None, False)),
        ("1/2", ("phase 1/2", None, False)),
        ("I/II", ("phase 1/2", None, False)),
        ("Phase II/III", ("phase 2/3", None, False)),
        ("pivotal", (None, None, True)),
        ("Registrational", (None, None, True)),
        ("Phase 3 (pivotal)", ("phase 3", None, True)),
        ("pivotal phase 2", ("phase 2", None, True)),
        ("non-clinical", ("pre-IND", None, False)),
        ("Preclinical", ("pre-IND", None, False)),
        ("development", ("pre-IND", None, False)),
        ("marketed", ("post-approval", None, False)),
        ("Commercial", ("post-approval", None, False)),
        ("Phase I", ("phase 1", None, False)),
        ("phase 2", ("phase 2", None, False)),
        ("n/a", (None, None, False)),
    ],
)
def test_phase_forms_map_to_the_stages(tmp_path, cell, expected):
    assert parse_phase(cell) == (*expected, True)
    found: list[Problem] = []
    df = load_lots(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,2024-03-01,{cell}", header=PHASE_HEADER)),
                   warnings=found)
    phase, note, pivotal = df.loc[0, ["phase", "phase_note", "pivotal"]]
    assert (None if pd.isna(phase) else phase, None if pd.isna(note) else note, pivotal) == expected
    assert found == []
    assert expected[0] is None or expected[0] in PHASES


def test_phases_are_the_stages():
    """The seamless phases 1/2 and 2/3 are stages of their own (issue #17)."""
    from cgtkit.vocab import STAGES

    assert list(PHASES) == list(STAGES)


def test_phase_columns_in_the_output(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01,Phase 1/2 (dose escalation)",
        "L1,cd3_purity,95,% CD3+,clinical,2024-03-01,",  # blank: the lot's phase
        "L2,viability,90,%,clinical,2024-05-01,Pivotal",
        "L3,viability,91,%,commercial,2025-01-01,marketed",
        "L4,viability,87,%,engineering,2023-01-01,",
        header=PHASE_HEADER,
    )
    df = load_lots(write(tmp_path, text)).set_index(["lot_id", "attribute"])
    assert df["pivotal"].dtype == bool
    assert df.loc[("L1", "cd3_purity"), ["phase", "phase_note", "pivotal"]].tolist() == ["phase 1/2", "dose escalation", False]
    assert df.loc[("L2", "viability"), "pivotal"] and pd.isna(df.loc[("L2", "viability"), "phase"])
    assert df.loc[("L3", "viability"), "phase"] == "post-approval"
    assert pd.isna(df.loc[("L4", "viability"), "phase"]) and not df.loc[("L4", "viability"), "pivotal"]


def test_unknown_phase_is_kept_as_written_with_a_warning(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2024-03-01,Compassionate use", header=PHASE_HEADER)
    found: list[Problem] = []
    df = load_lots(write(tmp_path, text, "trial.csv"), warnings=found)
    assert df.loc[0, "phase"] == "Compassionate use"  # verbatim
    [warning] = found
    assert (warning.row, warning.column, warning.column_letter, warning.value) == (2, "phase", "G", "Compassionate use")
    assert (warning.kind, warning.severity) == (ProblemKind.NOT_A_PHASE, Severity.WARNING)
    message = describe_warnings(df.attrs["source_name"], found)
    assert message.startswith("'trial.csv': 1 warning (it does not stop the file from loading).")
    assert ("row 2, column 'phase' (G): 'Compassionate use' is not a phase cgtkit knows; it is kept as written. "
            "Fix: Nothing to do if it is meant; for cgtkit to recognise it, use one of pre-IND, phase 1") in message
    assert len(load_lots(write(tmp_path, text))) == 1  # callers that do not ask for warnings are unchanged


def test_lot_with_two_phases_is_a_warning_and_the_first_is_used(tmp_path):
    text = csv_text(
        "L1,viability,88,%,clinical,2024-03-01,Phase 1/2 (dose escalation)",
        "L1,cd3_purity,95,% CD3+,clinical,2024-03-01,phase 2",
        header=PHASE_HEADER,
    )
    found: list[Problem] = []
    df = load_lots(write(tmp_path, text, "two.csv"), warnings=found)
    assert set(df["phase"]) == {"phase 1/2"} and set(df["phase_note"]) == {"dose escalation"}
    [warning] = found
    assert (warning.row, warning.column_letter, warning.kind, warning.severity) == (
        3, "G", ProblemKind.LOT_DISAGREES, Severity.WARNING)
    message = describe_warnings("two.csv", found)
    assert "'two.csv'" in message
    assert ("row 3, column 'phase' (G): lot 'L1' has more than one phase; the first is used: "
            "'phase 1/2 (dose escalation)' (row 2) and 'phase 2' (row 3). Fix: None needed if the first is right") in message


def test_warnings_are_collected_when_the_load_fails_too(tmp_path):
    text = csv_text("L1,viability,eighty,%,clinical,01/17/2024,phase 9", header=PHASE_HEADER)
    found: list[Problem] = []
    _, problems = load_problems(write(tmp_path, text), warnings=found)
    assert [p.kind for p in problems] == [ProblemKind.NOT_A_VALUE]  # errors only
    assert [w.kind for w in found] == [ProblemKind.NON_ISO_DATE, ProblemKind.NOT_A_PHASE]
    assert {w.severity for w in found} == {Severity.WARNING}


# --------------------------------------------------------------------------- #
# issue #16, item 2: dates in other forms; grouped reports; the problems as CSV
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("cell", "iso", "pattern"),
    [
        ("01/17/2023", "2023-01-17", "US format MM/DD/YYYY"),
        ("17.01.2023", "2023-01-17", "day-first format DD.MM.YYYY"),
        ("17/01/2023", "2023-01-17", "day-first format DD/MM/YYYY"),
        ("17-01-2023", "2023-01-17", "day-first format DD-MM-YYYY"),
        ("2023/01/17", "2023-01-17", "year-first format YYYY/MM/DD"),
        ("17-Jan-2023", "2023-01-17", "day-first format with a month name, like 17-Jan-2023"),
        ("January 17, 2023", "2023-01-17", "month-first format with a month name, like Jan 17, 2023"),
        ("1/17/2023 10:30 AM", "2023-01-17", "US format MM/DD/YYYY"),
        ("05/05/2023", "2023-05-05", "DD/MM/YYYY or MM/DD/YYYY (day equals month)"),
    ],
)
def test_unambiguous_dates_are_read_with_a_warning(tmp_path, cell, iso, pattern):
    found: list[Problem] = []
    df = load_lots(write(tmp_path, csv_text(f'L1,viability,88,%,clinical,"{cell}"')), warnings=found)
    assert df.loc[0, "manufacture_date"] == pd.Timestamp(iso)
    [warning] = found
    assert (warning.row, warning.column, warning.column_letter) == (2, "manufacture_date", "F")
    assert (warning.kind, warning.severity, warning.pattern) == (ProblemKind.NON_ISO_DATE, Severity.WARNING, pattern)
    assert str(warning) == (f"row 2, column 'manufacture_date' (F): '{cell}' is not an ISO date; read as {iso} ({pattern}). "
                            "Fix: None needed if this reading is right; to be sure, write dates as YYYY-MM-DD.")


def test_iso_dates_give_no_warning(tmp_path):
    found: list[Problem] = []
    load_lots(write(tmp_path, csv_text("L1,viability,88,%,clinical,2023-01-17 08:00")), warnings=found)
    assert found == []


def test_ambiguous_date_is_refused_with_both_readings(tmp_path):
    message, problems = load_problems(write(tmp_path, csv_text("L1,viability,88,%,clinical,03/04/2023"), "amb.csv"))
    [problem] = problems
    assert (problem.row, problem.column_letter, problem.kind) == (2, "F", ProblemKind.AMBIGUOUS_DATE)
    assert problem.pattern == "DD/MM/YYYY or MM/DD/YYYY"
    assert "'amb.csv'" in message
    assert ("row 2, column 'manufacture_date' (F): '03/04/2023' is not an ISO date and is ambiguous: "
            "2023-04-03 (day first) or 2023-03-04 (month first). Fix: Write the date as YYYY-MM-DD") in message


def test_a_column_in_one_form_is_read_whole(tmp_path):
    # 03/04/2023 alone is ambiguous; the column's 01/17/2023 shows month first, and no cell shows day first
    text = csv_text("L1,viability,88,%,clinical,01/17/2023", "L2,viability,87,%,clinical,03/04/2023",
                    "L3,viability,86,%,clinical,2023-05-01")
    found: list[Problem] = []
    df = load_lots(write(tmp_path, text), warnings=found)
    assert df.set_index("lot_id")["manufacture_date"].to_dict() == {
        "L1": pd.Timestamp("2023-01-17"), "L2": pd.Timestamp("2023-03-04"), "L3": pd.Timestamp("2023-05-01")}
    assert [w.row for w in found] == [2, 3]
    assert "read as 2023-03-04 (US format MM/DD/YYYY), as '01/17/2023' in row 2 shows" in found[1].detail


def test_a_column_mixing_orders_reads_only_the_unambiguous_cells(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,01/17/2023", "L2,viability,87,%,clinical,17/01/2023",
                    "L3,viability,86,%,clinical,03/04/2023", "L4,viability,85,%,clinical,04.03.2023")
    found: list[Problem] = []
    message, problems = load_problems(write(tmp_path, text), warnings=found)
    assert [(p.row, p.kind) for p in problems] == [(4, ProblemKind.AMBIGUOUS_DATE), (5, ProblemKind.AMBIGUOUS_DATE)]
    assert [(w.row, w.pattern) for w in found] == [(2, "US format MM/DD/YYYY"), (3, "day-first format DD/MM/YYYY")]
    assert "row 5, column 'manufacture_date' (F): '04.03.2023' is not an ISO date and is ambiguous" in message


@pytest.mark.parametrize(("date", "fragment"), [("13/13/2023", "not a valid calendar date"),
                                                ("02/30/2023", "not a valid calendar date"),
                                                ("17/01/23", "not a date cgtkit can read"),
                                                ("1/2", "not a date cgtkit can read")])
def test_forms_that_are_no_date(tmp_path, date, fragment):
    message, problems = load_problems(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,{date}")))
    assert problems[0].kind is ProblemKind.NOT_A_DATE
    assert f"row 2, column 'manufacture_date' (F): '{date}' is {fragment}" in message
    assert "YYYY-MM-DD" in message


def test_us_format_column_is_one_warning_line():
    rows = [f"L{i},viability,88,%,clinical,{1 + i % 12:02d}/{13 + i % 15}/2023" for i in range(60)]
    found: list[Problem] = []
    load_lots(csv_text(*rows).encode(), name="us.csv", warnings=found)
    assert len(found) == 60
    message = describe_warnings("us.csv", found)
    assert message.splitlines() == [
        "'us.csv': 60 warnings (they do not stop the file from loading).",
        "- Column 'manufacture_date' (F): 60 rows (2–61) hold dates in US format MM/DD/YYYY, read as such "
        "(e.g. '01/13/2023', '02/14/2023', '03/15/2023'). Fix: None needed if this reading is right; "
        "to be sure, write dates as YYYY-MM-DD.",
    ]


def test_ambiguous_column_is_one_error_line_with_its_pattern():
    rows = [f"L{i},viability,88,%,clinical,{1 + i % 12:02d}/{1 + (i + 1) % 12:02d}/2023" for i in range(12)]
    rows.insert(5, "LX,viability,88,%,clinical,2023-01-01")
    message, problems = load_problems(csv_text(*rows).encode(), name="amb.csv")
    assert len(problems) == 12 and {p.kind for p in problems} == {ProblemKind.AMBIGUOUS_DATE}
    assert message.splitlines()[1:] == [
        "- Column 'manufacture_date' (F): 12 rows (2–6, 8–14) hold dates in an ambiguous form, "
        "DD/MM/YYYY or MM/DD/YYYY (e.g. '01/02/2023', '02/03/2023', '03/04/2023'). "
        "Fix: Write the date as YYYY-MM-DD (e.g. 2023-04-03 for 3 April 2023).",
    ]


def test_group_lines_name_count_and_row_ranges():
    problems = [Problem(r, "value", "C", "x", ProblemKind.NOT_A_VALUE, "d", "f") for r in (2, 3, 4, 5, 9, 11, 12)]
    problems += [Problem(7, None, None, "", ProblemKind.DUPLICATE, "rows 6 and 7 both hold lot 'L'", "Keep one.")]
    assert problem_lines(problems) == [
        "- Column 'value' (C): 7 rows (2–5, 9, 11–12) hold values that are not numbers, censored results or "
        "pass/fail words (e.g. 'x'). Fix: f",
        "- row 7: rows 6 and 7 both hold lot 'L'. Fix: Keep one.",
    ]


def test_problems_csv_has_every_problem_row(tmp_path):
    rows = [f"L{i},viability,{'bad' if i % 3 else -1},%,clinical,2024-03-01" for i in range(300)]
    message, problems = load_problems(write(tmp_path, csv_text(*rows)))
    assert len(message.splitlines()) == 3  # the header, the 200 bad values, the 100 negative viabilities
    data = problems_csv(problems)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(table) == 300 == len(problems)
    assert list(table[0]) == ["row", "column", "column_letter", "value", "severity", "kind", "detail", "fix"]
    assert table[0] == {"row": "2", "column": "value", "column_letter": "C", "value": "-1", "severity": "error",
                        "kind": "out_of_bounds", "detail": problems[0].detail, "fix": problems[0].fix}
    assert table[1]["kind"] == "not_a_value" and table[1]["row"] == "3"
    assert [int(r["row"]) for r in table] == sorted(int(r["row"]) for r in table)


def test_problems_csv_of_warnings_and_whole_row_problems():
    problems = [Problem(4, None, None, "", ProblemKind.DUPLICATE, "rows 2 and 4 both hold lot 'L1', a \"quote\"", "Keep one."),
                Problem(3, "phase", "G", "IIT", ProblemKind.NOT_A_PHASE, "kept", "None.", Severity.WARNING)]
    table = list(csv.reader(io.StringIO(problems_csv(problems).decode("utf-8-sig"))))
    assert table[1] == ["3", "phase", "G", "IIT", "warning", "not_a_phase", "kept", "None."]
    assert table[2] == ["4", "", "", "", "error", "duplicate", "rows 2 and 4 both hold lot 'L1', a \"quote\"", "Keep one."]


# --------------------------------------------------------------------------- #
# issue #16, item 3: values a laboratory would never report
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("attribute", "value", "unit", "detail", "fix"),
    [
        ("viability", "-5", "%", "'-5' is below 0, the lowest value viability can take",
         "viability lies between 0 and 100"),
        ("viability", "100.5 %", "%", "'100.5 %' is above 100, the highest value viability can take",
         "viability lies between 0 and 100"),
        ("cd3_purity", "112", "% CD3+", "'112' is above 100, the highest value cd3_purity can take",
         "cd3_purity lies between 0 and 100"),
        ("vector_genome_titer", "-1.2e13", "vg/mL", "'-1.2e13' is below 0, the lowest value vector_genome_titer can take",
         "vector_genome_titer cannot be below 0"),
        ("endotoxin", "<-0.5", "EU/mL", "'<-0.5' is below 0, the lowest value endotoxin can take",
         "endotoxin cannot be below 0"),
    ],
)
def test_values_outside_physical_bounds_are_refused(tmp_path, attribute, value, unit, detail, fix):
    text = csv_text("L1,cd3_purity,95,% CD3+,clinical,2024-03-01", f"L2,{attribute},{value},{unit},clinical,2024-03-02")
    message, problems = load_problems(write(tmp_path, text, "bounds.csv"))
    [problem] = problems
    assert (problem.row, problem.column, problem.column_letter, problem.kind) == (3, "value", "C", ProblemKind.OUT_OF_BOUNDS)
    assert "'bounds.csv'" in message
    assert f"row 3, column 'value' (C): {detail}. Fix: Check the result in the laboratory record and correct it: {fix}" in message
    assert "the range it can physically take" in message


def test_bounds_use_the_attribute_metadata():
    from cgtkit.attributes import get_attribute

    assert get_attribute("viability").physical_bounds.high == 100  # the bound the check above relies on


def test_values_at_the_bounds_and_attributes_without_bounds_load(tmp_path):
    text = csv_text(
        "L1,viability,0,%,clinical,2024-03-01",
        "L1,cd3_purity,100 %,% CD3+,clinical,2024-03-01",
        "L1,my_new_assay,-40,mV,clinical,2024-03-01",  # not in attributes.yaml: no bounds
        "L1,Viability ratio,-1,,clinical,2024-03-01",
        "L1,sterility,No growth,,clinical,2024-03-01",
        "L1,endotoxin,<0.5,EU/mL,clinical,2024-03-01",
    )
    assert len(load_lots(write(tmp_path, text))) == 6


def test_empty_attribute_with_a_number_is_reported_once(tmp_path):
    _, problems = load_problems(write(tmp_path, csv_text("L1,,-5,%,clinical,2024-03-01")))
    assert [(p.row, p.column_letter, p.kind) for p in problems] == [(2, "B", ProblemKind.EMPTY)]


def test_future_manufacture_date_is_refused(tmp_path):
    text = csv_text("L1,viability,88,%,clinical,2025-06-30", "L2,viability,88,%,clinical,2025-07-01",
                    "L3,viability,88,%,clinical,07/14/2025")
    message, problems = load_problems(write(tmp_path, text, "future.csv"), today=TODAY)
    assert [(p.row, p.column_letter, p.kind) for p in problems] == [
        (3, "F", ProblemKind.FUTURE_DATE), (4, "F", ProblemKind.FUTURE_DATE)]
    assert "'future.csv'" in message
    assert ("row 3, column 'manufacture_date' (F): '2025-07-01' is after today (2025-06-30). Fix: Correct the "
            "manufacture date: a lot cannot be made after today (2025-06-30); check the year") in message
    assert ("row 4, column 'manufacture_date' (F): '07/14/2025' is after today (2025-06-30), "
            "read as 2025-07-14 (US format MM/DD/YYYY)") in message
    assert len(load_lots(write(tmp_path, text), today=dt.date(2025, 7, 14))) == 3


def test_today_defaults_to_the_real_today(tmp_path):
    later = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    _, problems = load_problems(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,{later}")))
    assert problems[0].kind is ProblemKind.FUTURE_DATE
    assert load_lots(write(tmp_path, csv_text(f"L1,viability,88,%,clinical,{later}")),
                     today=dt.datetime.now() + dt.timedelta(days=2)).shape[0] == 1


# --------------------------------------------------------------------------- #
# issue #16, item 4: a realistic messy export from a laboratory system
# --------------------------------------------------------------------------- #
MESSY = Path(__file__).resolve().parents[1] / "fixtures" / "messy"
MESSY_PROBLEMS = [(18, "D", ProblemKind.OUT_OF_BOUNDS)] + [(r, "G", ProblemKind.AMBIGUOUS_DATE) for r in range(38, 42)] + [
    (43, "D", ProblemKind.NOT_A_VALUE)] + [(r, "G", ProblemKind.FUTURE_DATE) for r in range(50, 54)]
CORRECTED = {  # what the user types into each reported cell
    ProblemKind.OUT_OF_BOUNDS: lambda value: value.lstrip("-"),
    ProblemKind.NOT_A_VALUE: lambda value: "97.0 %",
    ProblemKind.FUTURE_DATE: lambda value: value.replace("2052", "2025"),
    ProblemKind.AMBIGUOUS_DATE: lambda value: "2024-05-04",
}


def _letter_index(letter: str) -> int:
    return sum((ord(c) - 64) * 26 ** i for i, c in enumerate(reversed(letter))) - 1


def _fixed_copy(path: Path, problems: tuple[Problem, ...], tmp_path: Path) -> Path:
    """The file with just the reported cells corrected, found by their row and column letter."""
    out = tmp_path / path.name
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))
        for p in problems:
            records[p.row - 1][_letter_index(p.column_letter)] = CORRECTED[p.kind](p.value)
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(records)
    else:
        wb = openpyxl.load_workbook(path)
        for p in problems:
            wb.worksheets[0][f"{p.column_letter}{p.row}"] = CORRECTED[p.kind](p.value)
        wb.save(out)
    return out


def test_messy_fixtures_are_what_the_script_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_messy", MESSY / "make_messy.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.write_csv(tmp_path / "lims_export.csv")
    assert (tmp_path / "lims_export.csv").read_bytes() == (MESSY / "lims_export.csv").read_bytes()
    assert (MESSY / "lims_export.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("file_name", ["lims_export.csv", "lims_export.xlsx"])
def test_messy_export_first_load_reports_every_kind_at_once(file_name):
    found: list[Problem] = []
    message, problems = load_problems(MESSY / file_name, today=TODAY, warnings=found)
    assert [(p.row, p.column_letter, p.kind) for p in problems] == MESSY_PROBLEMS
    lines = message.splitlines()
    assert lines[0] == f"Cannot load lot data from '{file_name}': 10 problems found."
    assert len(lines) == 5  # one line per group: every kind is listed in the first report
    assert lines[1].startswith("- row 18, column 'value' (D): '-88.1") and "is below 0, the lowest value viability" in lines[1]
    assert lines[1].endswith("(the range it can physically take); if the value is in another unit, convert it.")
    assert lines[2] == ("- Column 'manufacture_date' (G): 4 rows (38–41) hold dates in an ambiguous form, DD.MM.YYYY or "
                        "MM.DD.YYYY (e.g. '04.05.2024'). Fix: Write the date as YYYY-MM-DD (e.g. 2023-04-03 for 3 April 2023).")
    assert lines[3].startswith("- row 43, column 'value' (D): 'see comment' is not a number") and "Fix: Enter a number" in lines[3]
    assert lines[4].startswith("- Column 'manufacture_date' (G): 4 rows (50–53) hold manufacture dates after today "
                               "(e.g. '01/13/2052'). Fix: Correct the manufacture date")
    assert {w.kind for w in found} == {ProblemKind.NON_ISO_DATE, ProblemKind.NOT_A_PHASE}


@pytest.mark.parametrize("file_name", ["lims_export.csv", "lims_export.xlsx"])
def test_messy_export_loads_once_the_reported_cells_are_fixed(tmp_path, file_name):
    _, problems = load_problems(MESSY / file_name, today=TODAY)
    found: list[Problem] = []
    df = load_lots(_fixed_copy(MESSY / file_name, problems, tmp_path), today=TODAY, warnings=found)
    assert df["lot_id"].nunique() == 15 and len(df) == 60
    lots = df.drop_duplicates("lot_id").set_index("lot_id")
    assert lots.loc["CT23-E01", "manufacture_date"] == pd.Timestamp("2023-01-09")  # month first, as the column shows
    assert lots.loc["CT24-003", "manufacture_date"] == pd.Timestamp("2024-05-04")
    assert lots.loc["CT25-P03", "manufacture_date"] == pd.Timestamp("2025-01-13")
    assert lots.loc["CT24-P01", "lot_type"] == "ppq"
    assert lots["phase"].fillna("").to_dict() == {
        "CT23-E01": "pre-IND", "CT23-E02": "pre-IND", "CT23-001": "phase 1/2", "CT23-002": "phase 1/2",
        "CT23-003": "phase 1/2", "CT23-004": "phase 1/2", "CT23-005": "compassionate use", "CT24-001": "phase 2",
        "CT24-002": "", "CT24-003": "", "CT24-P01": "", "CT24-P02": "", "CT25-P03": "",
        "CT25-001": "post-approval", "CT25-002": "post-approval",
    }
    assert lots.index[lots["pivotal"]].tolist() == ["CT24-001", "CT24-002", "CT24-003"]
    assert lots.loc["CT23-001", "phase_note"] == "dose escalation" and lots.loc["CT23-004", "phase_note"] == "expansion"
    viability = df[df["attribute"] == "viability"].set_index("lot_id")["value"]
    assert viability["CT23-E01"] == pytest.approx(87.2) and viability["CT23-003"] == pytest.approx(88.1)
    assert df.attrs["source_name"] == file_name
    assert [line.split(":")[0] for line in problem_lines(found)] == [
        "- Column 'manufacture_date' (G)", "- Column 'phase' (I)"]
    assert problem_lines(found)[0].startswith(
        "- Column 'manufacture_date' (G): 56 rows (2–37, 42–61) hold dates in US format MM/DD/YYYY, read as such")


def test_donor_id_pairs_lots_and_a_lot_has_one_donor(tmp_path: Path) -> None:
    """The optional donor_id column (split-material comparability designs) is lot-level, like process_version."""
    text = ("lot_id,attribute,value,unit,lot_type,manufacture_date,process_version,donor_id\n"
            "A1,viability,90,%,clinical,2024-01-01,v1,D1\n"
            "A1,cd3_purity,95,% CD3+,clinical,2024-01-01,v1,\n"
            "B1,viability,91,%,clinical,2024-02-01,v2,D1\n")
    lots = load_lots(write(tmp_path, text))
    assert lots.set_index(["lot_id", "attribute"])["donor_id"].to_dict() == {
        ("A1", "cd3_purity"): "D1", ("A1", "viability"): "D1", ("B1", "viability"): "D1"}
    bad = text + "B1,cd3_purity,96,% CD3+,clinical,2024-02-01,v2,D2\n"
    with pytest.raises(LotDataError, match="lot 'B1' has more than one of its donors"):
        load_lots(write(tmp_path, bad))
