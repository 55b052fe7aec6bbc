"""The workbook panel: what the saved workbook holds, and the ways in and out.

Load lot data (CSV/XLSX, with the format explained and a template), rename,
remove or replace a data set, download the workbook in one click, open a saved
workbook, add the example data, start over (empty or on the examples). Anything
that replaces or removes the user's work asks first. Every change goes through
the :class:`~cgtkit.session.WorkbookStore`, so other pages see it.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

import ipywidgets as w

if TYPE_CHECKING:
    import pandas as pd

from cgtkit import decisions
from cgtkit.decisions import page_title
from cgtkit.errors import LotDataError
from cgtkit.tables import Column, html_table
from cgtkit.session import EXAMPLE_DATASETS, Dataset, Session, WorkbookStore
from cgtkit.ui.download import DownloadButton
from cgtkit.ui.shell import Confirm, StatusArea, esc
from cgtkit.vocab import DatasetKind

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DATASET_KIND_LABELS = {DatasetKind.LOTS: "lot release", DatasetKind.STABILITY: "stability"}


def dataset_name_for(filename: str, existing: set[str]) -> str:
    """A data set name from an upload's file name, unique within the workbook."""
    raw = PurePath(filename).stem
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in raw) if any(c.isalnum() for c in raw) else "upload"
    name, i = stem, 2
    while name in existing:
        name, i = f"{stem}_{i}", i + 1
    return name


def _count(n: int, noun: str) -> str:
    """
    >>> _count(1, "attribute"), _count(3, "lot")
    ('1 attribute', '3 lots')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary_html(session: Session) -> str:
    """The workbook's contents as a short HTML summary."""
    p = session.profile
    profile = (
        f"<b>{esc(p.name)}</b> — {esc(p.product_type.label)}, stage {esc(p.stage)}"
        if p
        else "No product profile yet: fill it in on <i>Start here</i>."
    )
    rows = [
        {"name": name, "kind": DATASET_KIND_LABELS[ds.kind], "source": ds.source, "lots": lots,
         "attributes": attributes}
        for name, ds in session.datasets.items()
        for lots, attributes in [ds.counts()]
    ]
    table = html_table(rows, [
        Column("name", "Data set"), Column("kind", "Kind"), Column("source", "Source"),
        Column("lots", "Lots", numeric=True), Column("attributes", "Attributes", numeric=True),
    ]) if rows else "<p>No lot data loaded.</p>"
    by_page = Counter(d.page for d in session.decisions)
    pages = ", ".join(f"{esc(page_title(p))} {n}" for p, n in by_page.items())
    return (
        f"<div class='cgt-workbook-summary'><p>Product profile: {profile}</p>{table}"
        f"<p>Decisions recorded: <b>{len(session.decisions)}</b>{f' ({pages})' if pages else ''}</p></div>"
    )


def workbook_filename(session: Session, when: datetime | None = None) -> str:
    """``cgtkit-<product>-<YYYY-MM-DD>.json``, the product's name made safe for a file name.

    >>> from cgtkit.profile import ProductProfile
    >>> workbook_filename(Session(profile=ProductProfile.build(name="RX-401 (CAR-T)")), datetime(2026, 11, 30))
    'cgtkit-RX-401-CAR-T-2026-11-30.json'
    """
    name = session.profile.name if session.profile else "workbook"
    safe = "-".join("".join(ch if ch.isalnum() or ch == "-" else " " for ch in name).split()) or "workbook"
    return f"cgtkit-{safe}-{(when or datetime.now(UTC)):%Y-%m-%d}.json"


def template_csv() -> bytes:
    """The lot-file template (data/template_lots.csv) written through the one spreadsheet writer, so no
    cell of it can run as a formula (:mod:`cgtkit.exports`)."""
    import csv

    from cgtkit.datafiles import data_dir
    from cgtkit.exports import csv_bytes

    with (data_dir() / "template_lots.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return csv_bytes(header, rows, bom=False)


def template_link_html() -> str:
    """The lot-file template as a download link (a small file: sent with the page)."""
    payload = base64.b64encode(template_csv()).decode("ascii")
    return (f'<a class="cgt-link-button" download="cgtkit-lot-template.csv" '
            f'href="data:text/csv;base64,{payload}">Download the template (CSV)</a>')


FORMAT_HELP = """
<details class="cgt-help"><summary>What a lot data file looks like</summary>
<p>A CSV or Excel file with <b>one row per lot and attribute</b> (the long format), and these columns
(header names are matched without regard to case, spaces or underscores):</p>
<table class="cgt-table">
<thead><tr><th>Column</th><th>Required</th><th>What it holds</th><th>Example</th></tr></thead>
<tbody>
<tr><td>lot_id</td><td>yes</td><td>the lot's identifier</td><td>CT24-012</td></tr>
<tr><td>attribute</td><td>yes</td><td>the quality attribute</td><td>viability</td></tr>
<tr><td>value</td><td>yes</td><td>the result: a number, a censored result, or pass/fail</td><td>88.4, &lt;0.5, pass</td></tr>
<tr><td>unit</td><td>yes</td><td>the unit, the same for every row of an attribute</td><td>%</td></tr>
<tr><td>lot_type</td><td>yes</td><td>engineering, clinical, ppq or commercial</td><td>clinical</td></tr>
<tr><td>manufacture_date</td><td>yes</td><td>the date the lot was made (YYYY-MM-DD)</td><td>2024-05-17</td></tr>
<tr><td>process_version</td><td>no</td><td>the manufacturing process version</td><td>v2</td></tr>
<tr><td>phase</td><td>no</td><td>the clinical phase the lot was made for</td><td>phase 2</td></tr>
<tr><td>time_months</td><td>stability only</td><td>time on stability</td><td>6</td></tr>
</tbody></table>
<p>Results below or above a limit of quantitation are kept as censored values (<code>&lt;10</code>,
<code>&gt;1e9</code>); pass/fail tests as results. Other columns are ignored. A file with problems is not
loaded: the message lists every problem with its row and column, and your workbook stays as it was.</p>
</details>
"""


def _upload_bytes(upload: w.FileUpload) -> tuple[str, bytes]:
    item = upload.value[0]
    content = item["content"]
    data = content.tobytes() if hasattr(content, "tobytes") else bytes(content)
    return str(item["name"]), data


class WorkbookPanel(w.VBox):
    """The workbook's contents, and every way in and out: load, manage, download, open, start over.

    Nothing the user made is replaced or removed without a confirmation that
    says what will be lost.
    """

    def __init__(self, store: WorkbookStore) -> None:
        self.store = store
        self.status = StatusArea()
        self.confirm = Confirm(self.status)
        self.summary = w.HTML()
        self.place = w.HTML()  # who is signed in (under JupyterHub) and where the workbook is kept
        self.problems = w.HTML()  # the download of every problem of a refused file
        self.warnings: list = []
        self._last_name = ""
        self.lot_upload = w.FileUpload(accept=".csv,.xlsx", multiple=False, description="Load lot data",
                                       layout=w.Layout(width="auto"))
        self.lot_upload.add_class("cgt-upload-lots")
        # managing data sets
        self.dataset_choice = w.Dropdown(description="Data set", layout=w.Layout(width="360px"))
        self.dataset_choice.add_class("cgt-dataset-choice")
        self.new_name = w.Text(placeholder="new name", layout=w.Layout(width="200px"))
        self.new_name.add_class("cgt-new-name")
        self.rename_button = w.Button(description="Rename", icon="pencil", layout=w.Layout(width="auto"))
        self.rename_button.add_class("cgt-rename-dataset")
        self.remove_button = w.Button(description="Remove", icon="trash", layout=w.Layout(width="auto"))
        self.remove_button.add_class("cgt-remove-dataset")
        self.replace_upload = w.FileUpload(accept=".csv,.xlsx", multiple=False, description="Replace with a corrected file",
                                           layout=w.Layout(width="auto"))
        self.replace_upload.add_class("cgt-replace-dataset")
        self.manage_box = w.VBox([w.HBox([self.dataset_choice, self.new_name, self.rename_button, self.remove_button]),
                                  w.HBox([self.replace_upload])])
        # the workbook file
        self.download_button = DownloadButton(self._workbook_file, self.status, description="Download workbook")
        self.workbook_upload = w.FileUpload(accept=".json", multiple=False, description="Open workbook",
                                            layout=w.Layout(width="auto"))
        self.workbook_upload.add_class("cgt-upload-workbook")
        self.examples_button = w.Button(description="Add the example data", icon="plus", layout=w.Layout(width="auto"))
        self.examples_button.add_class("cgt-add-examples")
        self.empty_button = w.Button(description="Start over: empty workbook", icon="file-o", layout=w.Layout(width="auto"))
        self.empty_button.add_class("cgt-start-empty")
        self.reset_button = w.Button(description="Start over on example data", icon="undo", layout=w.Layout(width="auto"))
        self.reset_button.add_class("cgt-start-example")
        self.confirm_button, self.cancel_button, self.confirm_box = self.confirm.yes, self.confirm.cancel, self.confirm.widget
        self.undo_button = w.Button(description="Undo", icon="undo", layout=w.Layout(width="auto", display="none"))
        self.undo_button.add_class("cgt-undo")
        self._before: tuple[Session, tuple[int, int] | None] | None = None  # the workbook before the last replacement

        # messages and confirmations appear under the section whose control was used
        self.data_messages, self.file_messages = w.VBox(), w.VBox()
        data, file = self.data_messages, self.file_messages
        self.lot_upload.observe(self._handler(data, self._on_lot_upload), names="value")
        self.replace_upload.observe(self._handler(data, self._on_replace_upload), names="value")
        self.rename_button.on_click(self._handler(data, self._on_rename))
        self.remove_button.on_click(self._handler(data, self._on_remove))
        self.workbook_upload.observe(self._handler(file, self._on_workbook_upload), names="value")
        self.examples_button.on_click(self._handler(file, self._on_add_examples))
        self.empty_button.on_click(self._handler(file, lambda _b: self._ask_start_over(example=False)))
        self.reset_button.on_click(self._handler(file, lambda _b: self._ask_start_over(example=True)))
        self.download_button.on_msg(lambda *_a: self._place(file))
        self.undo_button.on_click(self.status.guarded(self._on_undo))

        def section(title: str) -> w.HTML:
            return w.HTML(f"<h4 class='cgt-subsection'>{esc(title)}</h4>")

        super().__init__([
            self.place,
            self.summary,
            section("Your lot data"),
            w.HBox([self.lot_upload, w.HTML(template_link_html())]),
            w.HTML(FORMAT_HELP),
            self.manage_box,
            self.data_messages,
            section("The workbook file"),
            w.HTML("<p class='cgt-muted'>The workbook is saved on the server as you work. Download it to keep a "
                   "copy or to move it to another machine, and open it here again.</p>"),
            w.HBox([self.download_button, self.workbook_upload, self.examples_button, self.empty_button,
                    self.reset_button]),
            self.file_messages,
        ])
        self.add_class("cgt-workbook-panel")
        self._place(self.data_messages)
        self.refresh(store.load())

    def _place(self, area: w.VBox) -> None:
        """Show the status line and confirmation under ``area``'s section."""
        if area.children != (self.status, self.problems, self.confirm_box, self.undo_button):
            for other in (self.data_messages, self.file_messages):
                other.children = ()
            area.children = (self.status, self.problems, self.confirm_box, self.undo_button)

    def _handler(self, area: w.VBox, handler: Callable[..., None]) -> Callable[..., None]:
        guarded = self.status.guarded(handler)

        def run(*args: object) -> None:
            self._place(area)
            self.undo_button.layout.display = "none"
            if self.confirm.pending:  # another action answers an open question with "no"
                self.confirm.close()
            guarded(*args)

        return run

    def _replace_with(self, change: Callable[[Session], Session]) -> Session:
        """Apply a change that replaces the user's work, keeping what was there for one Undo."""
        before = self.store.load()
        session = self.store.update(change)
        self._before = (before, self.store.stamp())
        self.undo_button.layout.display = "flex"
        return session

    def _on_undo(self, _button: w.Button) -> None:
        """Put back the workbook as it was before the last replacement, if nothing changed it since."""
        self.undo_button.layout.display = "none"
        if self._before is None:
            return
        before, stamp = self._before
        self._before = None
        if self.store.stamp() != stamp:
            self.status.show("error", "The workbook changed since (on another page or tab), so it cannot be "
                                      "undone safely; nothing was changed.")
            return
        self.refresh(self.store.replace(before))
        self.status.show("success", "Undone: the workbook is as it was before.")

    def refresh(self, session: Session) -> None:
        from cgtkit.hub import workbook_place_html

        self.summary.value = summary_html(session)
        self.place.value = workbook_place_html(self.store.path)
        names = list(session.datasets)
        keep = self.dataset_choice.value if self.dataset_choice.value in names else (names[0] if names else None)
        self.dataset_choice.options = names
        self.dataset_choice.value = keep
        self.manage_box.layout.display = "flex" if names else "none"

    def switched(self, session: Session) -> None:
        """The store now points at another workbook file (a training case, or back): show it, and
        forget the Undo, which belonged to the other file."""
        self._before = None
        self.undo_button.layout.display = "none"
        self.confirm.close()
        self.refresh(session)

    def _workbook_file(self) -> tuple[str, bytes, str]:
        session = self.store.load()
        return workbook_filename(session), session.to_json().encode("utf-8"), "application/json"

    # -- lot data ---------------------------------------------------------
    def _read_upload(self, upload: w.FileUpload) -> tuple[str, pd.DataFrame]:
        """Read an uploaded lot file; its warnings are kept for the success message, and a file with
        many problems gets a downloadable list of them."""
        from cgtkit.io import load_lots, problems_csv

        name, data = _upload_bytes(upload)
        self.warnings: list = []
        self.problems.value = ""
        try:
            if len(data) > MAX_UPLOAD_BYTES:
                raise LotDataError(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; split it or remove "
                                   "unused columns.")
            return name, load_lots(data, name=name, warnings=self.warnings)
        except LotDataError as exc:
            found = [*getattr(exc, "problems", ()), *self.warnings]
            if len(found) > 3:
                payload = base64.b64encode(problems_csv(found)).decode("ascii")
                stem = PurePath(name).stem or "lots"
                self.problems.value = (
                    f'<a class="cgt-link-button cgt-problems-download" download="{esc(stem)}-problems.csv" '
                    f'href="data:text/csv;base64,{payload}">Download every problem as a list (CSV, '
                    f"{len(found)} rows)</a>")
            raise
        finally:
            upload.value = ()

    def _loaded(self, message: str) -> None:
        """Success, or success with the file's warnings (values read in another form, kept as written)."""
        from cgtkit.io import describe_warnings

        notes = describe_warnings(self._last_name, self.warnings) if self.warnings else ""
        self.status.show("warning" if notes else "success", f"{message} {notes}".strip())

    def _on_lot_upload(self, change: dict) -> None:
        """A new data set; a file whose data are already in the workbook is added only when the user
        asks for a second copy, and a file named as one loaded before is pointed to 'Replace'."""
        if not change["new"]:
            return
        name, frame = self._read_upload(self.lot_upload)
        self._last_name = name
        current = self.store.load()
        table = Dataset.from_frame(name, frame, source=f"upload:{name}").table_json
        same = next((n for n, ds in current.datasets.items() if ds.table_json == table), None)
        if same is not None:
            self.confirm.ask(
                f"{name} holds exactly the data of data set '{same}' ({current.datasets[same].source}): nothing "
                "was added. Load a second copy under another name anyway?",
                lambda: self._add_dataset(name, frame), yes="Load a second copy", danger=False)
            return
        self._add_dataset(name, frame)

    def _add_dataset(self, name: str, frame: pd.DataFrame) -> None:
        holder: dict[str, str] = {}

        def add(session: Session) -> Session:
            holder["name"] = dataset_name_for(name, set(session.datasets))
            holder["earlier"] = next((n for n, ds in session.datasets.items() if ds.source == f"upload:{name}"), "")
            return session.with_dataset(holder["name"], frame, source=f"upload:{name}")

        session = self.store.update(add)
        self.dataset_choice.value = None
        self.refresh(session)
        self.dataset_choice.value = holder["name"]
        earlier = holder["earlier"]
        self._loaded(
            f"Loaded {name} as {DATASET_KIND_LABELS[session.datasets[holder['name']].kind]} data set "
            f"'{holder['name']}': {_count(frame['lot_id'].nunique(), 'lot')}, "
            f"{_count(frame['attribute'].nunique(), 'attribute')}. It is now available on the other pages."
            + (f" A file of the same name was loaded before as '{earlier}': if this one corrects it, choose "
               f"'{earlier}' and use 'Replace with a corrected file' instead (decisions computed from it are then "
               f"flagged for review), and remove '{holder['name']}'." if earlier else "")
        )

    def _on_replace_upload(self, change: dict) -> None:
        """A corrected file keeps the data set's name; decisions computed from it are named for review."""
        if not change["new"]:
            return
        target = self.dataset_choice.value
        if not target:
            self.replace_upload.value = ()
            self.status.show("error", "Choose the data set to replace first.")
            return
        name, frame = self._read_upload(self.replace_upload)
        self._last_name = name
        session = self.store.update(lambda s: s.with_dataset_replaced(target, frame, source=f"upload:{name}"))
        self.refresh(session)
        used = session.decisions_using(target)
        message = (f"Replaced data set '{target}' with {name}: {_count(frame['lot_id'].nunique(), 'lot')}, "
                   f"{_count(frame['attribute'].nunique(), 'attribute')}.")
        if used:
            self.status.show("warning", message + f" {len(used)} recorded decision(s) were computed from the "
                             "previous data and are flagged for review on their pages (" + "; ".join(
                                 decisions.label(d) for d in used) + ").")
        else:
            self._loaded(message)

    def _on_rename(self, _button: w.Button) -> None:
        old, new = self.dataset_choice.value, self.new_name.value.strip()
        if not old:
            self.status.show("error", "There is no data set to rename.")
            return
        session = self.store.update(lambda s: s.with_dataset_renamed(old, new))
        self.new_name.value = ""
        self.refresh(session)
        self.dataset_choice.value = new
        self.status.show("success", f"Data set '{old}' is now called '{new}'; decisions that used it follow.")

    def _on_remove(self, _button: w.Button) -> None:
        target = self.dataset_choice.value
        if not target:
            self.status.show("error", "There is no data set to remove.")
            return
        used = self.store.load().decisions_using(target)
        kept = f" The {len(used)} decision(s) computed from it stay in the workbook." if used else ""
        self.confirm.ask(f"Remove data set '{target}' from the workbook? You can undo it once, right after; "
                         f"download the workbook first to keep a copy.{kept}",
                         lambda: self._remove(target), yes=f"Yes, remove {target}")

    def _remove(self, target: str) -> None:
        session = self._replace_with(lambda s: s.without_dataset(target))
        self.refresh(session)
        self.status.show("success", f"Data set '{target}' was removed from the workbook.")

    def _on_add_examples(self, _button: w.Button) -> None:
        session = self.store.update(lambda s: s.with_examples())
        self.refresh(session)
        self.status.show("success", "The synthetic example data sets are in the workbook "
                                    f"({', '.join(EXAMPLE_DATASETS)}); your own data and decisions are unchanged.")

    # -- the workbook file ------------------------------------------------
    def _on_workbook_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        name, data = _upload_bytes(self.workbook_upload)
        try:
            opened = Session.from_json(data, source=name)
        finally:
            self.workbook_upload.value = ()
        current = self.store.load()
        self.confirm.ask(
            f"Open {name} ({len(opened.datasets)} data set(s), {len(opened.decisions)} decision(s)) in place of "
            f"your workbook ({len(current.datasets)} data set(s), {len(current.decisions)} decision(s))? "
            "Download your workbook first if you want to keep it.",
            lambda: self._open(name, opened), yes="Yes, open it")

    def _open(self, name: str, session: Session) -> None:
        self._replace_with(lambda _old: session)
        self.refresh(session)
        self.status.show(
            "success",
            f"Opened {name}: {len(session.datasets)} data set(s), {len(session.decisions)} decision(s).",
        )

    def _ask_start_over(self, example: bool) -> None:
        what = "the example data and the example CAR-T profile" if example else "an empty workbook"
        self.confirm.ask(
            f"Starting over replaces the product profile, the loaded data and the recorded decisions with {what}. "
            "Download the workbook first if you want to keep it.",
            lambda: self._start_over(example), yes="Yes, replace my workbook")

    def _start_over(self, example: bool) -> None:
        session = self._replace_with(lambda _old: Session.example() if example else Session())
        self.refresh(session)
        self.status.show("success", "The workbook was reset to the example data and the example CAR-T profile."
                         if example else "The workbook is empty: load your lot data above and describe your "
                         "product on Start here.")
