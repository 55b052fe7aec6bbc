"""The workbook panel: what the saved workbook holds, and the ways in and out.

Load lot data (CSV/XLSX), download the workbook as JSON, open a saved workbook,
start over on the example data (after a confirmation). Every change goes
through the :class:`~cgtkit.session.WorkbookStore`, so other pages see it.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime
from pathlib import PurePath

import ipywidgets as w

from cgtkit.decisions import page_title
from cgtkit.errors import LotDataError
from cgtkit.tables import Column, html_table
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui.shell import StatusArea, esc
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


def download_link_html(session: Session) -> str:
    """A data: link that downloads the workbook JSON (Voila serves no local files)."""
    payload = base64.b64encode(session.to_json().encode("utf-8")).decode("ascii")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return (
        f'<a class="cgt-download" download="cgtkit-workbook-{stamp}.json" '
        f'href="data:application/json;base64,{payload}">Download the workbook (JSON)</a>'
    )


def _upload_bytes(upload: w.FileUpload) -> tuple[str, bytes]:
    item = upload.value[0]
    content = item["content"]
    data = content.tobytes() if hasattr(content, "tobytes") else bytes(content)
    return str(item["name"]), data


class WorkbookPanel(w.VBox):
    """Summary plus load/open/download/start-over controls."""

    def __init__(self, store: WorkbookStore) -> None:
        self.store = store
        self.status = StatusArea()
        self.summary = w.HTML()
        self.download = w.HTML()
        self.download.add_class("cgt-download-area")
        self.download_button = w.Button(description="Download workbook", icon="download", layout=w.Layout(width="auto"))
        self.download_button.add_class("cgt-download-button")
        self.lot_upload = w.FileUpload(accept=".csv,.xlsx", multiple=False, description="Load lot data", layout=w.Layout(width="auto"))
        self.lot_upload.add_class("cgt-upload-lots")
        self.workbook_upload = w.FileUpload(accept=".json", multiple=False, description="Open workbook", layout=w.Layout(width="auto"))
        self.workbook_upload.add_class("cgt-upload-workbook")
        self.reset_button = w.Button(description="Start over on example data", icon="undo", layout=w.Layout(width="auto"))
        self.confirm_button = w.Button(description="Yes, replace my workbook", button_style="danger", layout=w.Layout(width="auto"))
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_box = w.HBox([self.confirm_button, self.cancel_button], layout=w.Layout(display="none"))

        self.lot_upload.observe(self.status.guarded(self._on_lot_upload), names="value")
        self.workbook_upload.observe(self.status.guarded(self._on_workbook_upload), names="value")
        self.reset_button.on_click(lambda _b: self._ask_confirm(True))
        self.cancel_button.on_click(lambda _b: self._ask_confirm(False))
        self.confirm_button.on_click(self.status.guarded(self._on_reset))
        self.download_button.on_click(self.status.guarded(self._on_download))

        help_text = w.HTML(
            "<p class='cgt-muted'>Lot data: CSV or Excel in the cgtkit long format "
            "(one row per lot and attribute; see <code>data/README.md</code> and "
            "<code>data/template_lots.csv</code>). The workbook is saved on the server as you work; "
            "download it to keep a copy or to move it to another machine, and open it again here.</p>"
        )
        super().__init__(
            [
                self.summary,
                w.HBox([self.lot_upload, self.workbook_upload, self.download_button, self.reset_button]),
                self.confirm_box,
                self.download,
                help_text,
                self.status,
            ]
        )
        self.add_class("cgt-workbook-panel")
        self.refresh(store.load())

    def refresh(self, session: Session) -> None:
        self.summary.value = summary_html(session)
        self.download.value = ""  # a stale link would download an old workbook

    def _on_download(self, _button: w.Button) -> None:
        """Build the link on demand: the workbook can be large, so it is not sent with every page view."""
        self.download.value = download_link_html(self.store.load())
        self.status.show("info", "Your download link is ready below: click it to save the workbook as a JSON file.")


    def _on_lot_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        from cgtkit.io import load_lots

        name, data = _upload_bytes(self.lot_upload)
        try:
            if len(data) > MAX_UPLOAD_BYTES:
                raise LotDataError(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; split it or remove unused columns.")
            frame = load_lots(data, name=name)
            holder: dict[str, str] = {}

            def add(session: Session) -> Session:
                holder["name"] = dataset_name_for(name, set(session.datasets))
                return session.with_dataset(holder["name"], frame, source=f"upload:{name}")

            session = self.store.update(add)
        finally:
            self.lot_upload.value = ()
        self.refresh(session)
        self.status.show(
            "success",
            f"Loaded {name} as {DATASET_KIND_LABELS[session.datasets[holder['name']].kind]} data set "
            f"'{holder['name']}': {frame['lot_id'].nunique()} lots, "
            f"{frame['attribute'].nunique()} attributes. It is now available on the other pages.",
        )

    def _on_workbook_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        name, data = _upload_bytes(self.workbook_upload)
        try:
            session = Session.from_json(data, source=name)
        finally:
            self.workbook_upload.value = ()
        self.store.replace(session)
        self.refresh(session)
        self.status.show(
            "success",
            f"Opened {name}: {len(session.datasets)} data set(s), {len(session.decisions)} decision(s).",
        )

    def _ask_confirm(self, show: bool) -> None:
        self.confirm_box.layout.display = "flex" if show else "none"
        if show:
            self.status.show(
                "warning",
                "Starting over replaces the product profile, the loaded data and the recorded decisions "
                "with the example. Download the workbook first if you want to keep it.",
            )
        else:
            self.status.clear()

    def _on_reset(self, _button: w.Button) -> None:
        self.confirm_box.layout.display = "none"
        session = self.store.replace(Session.example())
        self.refresh(session)
        self.status.show("success", "The workbook was reset to the example data and the example CAR-T profile.")
