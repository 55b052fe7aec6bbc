"""Tests of cgtkit.io: the long format, censoring, pass/fail, and every bad-file message."""

from __future__ import annotations

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
    Problem,
    ProblemKind,
    attribute_values,
    load_lots,
    lots_summary,
    parse_value,
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
    text = csv_text("L1,viability,88,%,clinical,2024-03-01,phase 4,soon", header=HEADER + ",phase,timepoint_months")
    message = load_error(write(tmp_path, text))
    assert "2 problems found" in message
    assert "row 2, column 'phase' (G): 'phase 4' is not a phase" in message
    assert "row 2, column 'timepoint_months' (H): 'soon' is not a number of months" in message


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
    rows = [f"L{i},viability,bad,%,clinical,2024-03-01" for i in range(15)]
    message = load_error(write(tmp_path, csv_text(*rows)))
    assert "15 problems found" in message
    assert "... and 5 more." in message


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
    rows = [f"L{i},viability,88,%,clinical,0{i % 9 + 1}/03/2024" for i in range(12)]
    message, problems = load_problems(write(tmp_path, csv_text(*rows), "dates.csv"))
    assert len(problems) == 12 and {p.kind for p in problems} == {ProblemKind.NOT_A_DATE}
    lines = message.splitlines()
    assert lines[0] == "Cannot load lot data from 'dates.csv': 12 problems found."
    assert len(lines) == 2
    assert lines[1].startswith(
        "- Column 'manufacture_date' (F): 12 values are not dates: rows 2 ('01/03/2024'), 3 ('02/03/2024')"
    )
    assert "11 ('01/03/2024') ... and 2 more. Fix: Write dates as YYYY-MM-DD" in lines[1]


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
    header = HEADER + "," + ",".join(f"note{i}" for i in range(22)) + ",phase"
    row = "L1,viability,88,%,clinical,2024-03-01" + "," * 22 + ",phase 9"
    message, problems = load_problems(write(tmp_path, csv_text(row, header=header)))
    assert problems[0].column_letter == "AC"
    assert "row 2, column 'phase' (AC): 'phase 9' is not a phase" in message


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
