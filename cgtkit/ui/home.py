"""The home page: what the workbook is for, its pages, and the workbook itself."""

from __future__ import annotations

import ipywidgets as w

from cgtkit.pages import load_pages
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui.shell import StatusArea, esc, page_frame, page_link_html
from cgtkit.ui.training_panel import TrainingPanel
from cgtkit.ui.workbook import WorkbookPanel

def _bases() -> str:
    """The grades of basis, weakest last, as the catalog defines them."""
    from cgtkit.catalog import BASIS_LABELS

    labels = [b.label[0].lower() + b.label[1:] if b.label[:3] != "FDA" else b.label for b in BASIS_LABELS.values()]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


INTRO = """
<div class="cgt-intro">
<p>Cell and gene therapies are made in small lots, often one per patient, by complex processes, and
many have short shelf lives. CMC practice built for products made in many large lots fits them poorly.
In 2026 FDA described how it applies its CMC requirements flexibly to these products: first in an
announcement of January 11, 2026, then in a final guidance issued in May 2026,
<i>Chemistry, Manufacturing, and Controls Flexibilities for Developing Human Cellular and Gene Therapy
Products for a Biologics License Application</i>. The flexibilities work within the existing statute
and regulations: the standard for assuring safety, purity and potency does not change, each
flexibility must be justified with data or a scientific rationale, and FDA asks sponsors to discuss
their CMC approach with the agency before using it.</p>
<p>This workbook helps you find which flexibilities fit <b>your</b> product and stage, what FDA expects
as justification, and computes the numbers behind that justification from your lot data. Every
regulatory statement in it names its source and what it rests on ({bases}).</p>
</div>
"""


def pages_html() -> str:
    """The page list: built pages are linked, planned pages are named only."""
    items = []
    for p in load_pages():
        if p.id == "home":
            continue
        title = page_link_html(p.id)
        badge = "" if p.available else "<span class='cgt-badge cgt-prov-industry_commentary'>planned</span>"
        items.append(f"<div class='cgt-card cgt-page-entry'><h3>{title} {badge}</h3><div>{esc(p.summary)}</div></div>")
    return "<div class='cgt-section-title'>The workbook's pages</div>" + "".join(items)


class HomeView:
    """The home page; its workbook summary follows changes made on other pages or in other tabs."""

    def __init__(self, store: WorkbookStore) -> None:
        self.store = store
        self.panel = WorkbookPanel(store)
        self.training = TrainingPanel(store, on_switch=self._switched)
        self._seen = store.stamp()
        body = [
            self.training.header,  # the open training case's brief, first (a case link lands here)
            w.HTML(INTRO.format(bases=esc(_bases()))),
            w.HTML(pages_html()),
            w.HTML("<div class='cgt-section-title'>Training cases</div>"),
            self.training,
            w.HTML("<div class='cgt-section-title'>Your workbook</div>"),
            self.panel,
        ]
        self.widget = page_frame(
            "home",
            "cgtkit — CMC flexibilities workbook for cell and gene therapy",
            "Which of FDA's 2026 CMC flexibilities apply to your product, how to justify them, and the numbers "
            "behind the justification.",
            body,
            StatusArea(),
        )

    def _switched(self, session: Session) -> None:
        """A training case was opened, or the user went back to their own workbook."""
        self.panel.switched(session)
        self._seen = self.store.stamp()

    def on_show(self) -> None:
        """Re-read the workbook if it changed since this page last showed it."""
        stamp = self.store.stamp()
        if stamp != self._seen:
            self.panel.refresh(self.store.load())
            self._seen = self.store.stamp()


def build_page(store: WorkbookStore, page_id: str = "home") -> HomeView:
    return HomeView(store)
