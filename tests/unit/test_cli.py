"""``cgtkit verify`` and ``cgtkit record`` (issue #21): exit codes, where a tampered log breaks, a clear
message for a file that is not a whole workbook, and the records written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cgtkit.cli import EXIT_BROKEN, EXIT_OK, EXIT_UNREADABLE, main
from cgtkit.session import Session
from tests.unit.test_record_workbooks import store_with_decisions


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return store_with_decisions(tmp_path_factory.mktemp("cli") / "wb.json").path


def test_verify_an_intact_workbook(workbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = Session.load(workbook).audit[-1].hash
    assert main(["verify", str(workbook)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "The audit log is intact: 3 entries" in out and head in out
    assert main(["verify", str(workbook), "--head", head]) == EXIT_OK
    assert "It is the head given." in capsys.readouterr().out


def test_verify_says_where_a_tampered_log_breaks(workbook: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.loads(workbook.read_text())
    raw["decisions"][0]["justification"] = "Edited by hand."
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(raw))
    assert main(["verify", str(tampered)]) == EXIT_BROKEN
    out = capsys.readouterr().out
    assert "does not verify at entry 1:" in out and raw["decisions"][0]["id"] in out
    assert "  entry 1 (" in out  # the entries around the break are listed


def test_verify_a_file_that_is_not_a_whole_workbook(workbook: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes(workbook.read_bytes()[:5000])
    assert main(["verify", str(cut)]) == EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert "cut.json is cut short" in err and "Traceback" not in err
    assert main(["verify", str(tmp_path / "missing.json")]) == EXIT_UNREADABLE
    assert "No workbook file at" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["html", "md", "docx"])
def test_record_writes_each_format(workbook: Path, tmp_path: Path, fmt: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"record.{fmt}"
    assert main(["record", str(workbook), "--format", fmt, "-o", str(out)]) == EXIT_OK
    assert out.stat().st_size > 1000 and "2 proposal(s)" in capsys.readouterr().out
    session = Session.load(workbook)
    if fmt != "docx":
        assert session.decisions[0].id in out.read_text(encoding="utf-8")


def test_the_console_script_is_installed(workbook: Path) -> None:
    script = Path(sys.executable).with_name("cgtkit")
    assert script.exists(), "pip install -e . installs the cgtkit command (pyproject [project.scripts])"
    done = subprocess.run([str(script), "verify", str(workbook)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "intact" in done.stdout
