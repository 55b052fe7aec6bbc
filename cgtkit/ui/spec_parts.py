"""What the two specifications pages show alike: the attribute card, the lots table and
figure, the k-versus-n figure, and the view that follows the model and the workbook.

Pure renderers take results and return HTML; the decision panel lives in
:mod:`cgtkit.ui.decision_panel`, shared with every page that records decisions.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from cgtkit.analyses.specifications import AttributeData
from cgtkit.attributes import AttributeSpec
from cgtkit.plots.specifications import build_k_vs_n_figure, build_lots_figure
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table, text
from cgtkit.ui.decision_panel import DecisionPanel, FollowsWorkbook
from cgtkit.ui.shell import StatusArea, esc, show_figure
from cgtkit.vocab import AttributeKind


def fixed_requirement_html(spec: AttributeSpec) -> str:
    return (
        f"<div class='cgt-card cgt-fixed'><h3>{esc(spec.label)}: fixed safety requirement</h3>"
        f"<p>{esc(spec.fixed_requirement)}</p><p class='cgt-muted'>Source: {esc(spec.source or 'not recorded')}</p>"
        "<p class='cgt-muted'>cgtkit never computes or widens limits for pass/fail safety tests or "
        "dose-derived limits (a design rule of cgtkit, not an FDA statement). Which attributes count as "
        "safety attributes is your call and a topic for the FDA meeting.</p></div>"
    )


def about_html(data: AttributeData) -> str:
    """The attribute card: what it is, its model and sides, how many lots the selection holds."""
    spec = data.spec
    if spec.kind is AttributeKind.SAFETY_FIXED:
        return fixed_requirement_html(spec)
    side_text = {"two_sided": "two-sided limits", "lower": "a lower limit only", "upper": "an upper limit only"}[
        spec.limit_side.value]
    censored = int(data.lots["censoring"].ne("none").sum())
    extra = ""
    if spec.safety_discussion:
        extra = (" <b>Whether this is a safety attribute is a topic for your FDA meeting</b>: FDA has no "
                 "predefined limit for CAR-T vector copy number; preclinical and engineering-run data inform "
                 "the initial limit (CBER official, public meeting remarks).")
    return (
        f"<div class='cgt-card cgt-about'><b>{esc(spec.label)}</b> ({esc(spec.unit)}): {esc(spec.description)} "
        f"Model: {spec.scale.label}; {side_text}. Lots in the selection: <b>{data.n}</b>"
        f"{f', of which {censored} censored at a limit of quantitation' if censored else ''}.{extra}</div>"
    )


def lots_frame(data: AttributeData) -> pd.DataFrame:
    """The selected lots as read from the data file, results written as reported ("<0.5", "pass")."""
    lots = data.lots
    prefix = lots["censoring"].astype(str).map({"left": "<", "right": ">"}).fillna("")
    numbers = lots["value"].map(lambda v: f"{v:.4g}" if pd.notna(v) else "")
    result = prefix + numbers
    if "result" in lots:
        reported = lots["result"].where(lots["result"].map(lambda r: isinstance(r, str) and bool(r)))
        result = reported.fillna(result)
    return pd.DataFrame({
        "lot_id": lots["lot_id"].astype(str),
        "lot_type": lots["lot_type"].astype(str),
        "manufactured": pd.to_datetime(lots["manufacture_date"]).dt.strftime("%Y-%m-%d"),
        "result": result,
    })


def lots_table_html(data: AttributeData) -> str:
    """The selected lots as a collapsible table."""
    if data.lots.empty:
        return ""
    table = html_table(lots_frame(data), [
        Column("lot_id", "Lot"), Column("lot_type", "Type"), Column("manufactured", "Manufactured"),
        Column("result", f"Result ({data.spec.unit})", text, numeric=True),
    ], css="cgt-lots")
    return f"<details><summary>The {data.n} lots of this selection, in manufacture order</summary>{table}</details>"


def show_lots(out: w.Output, data: AttributeData, low: float | None, high: float | None, label: str) -> None:
    """The lots figure with the limits shown (none for a fixed safety attribute)."""
    if data.spec.kind is AttributeKind.SAFETY_FIXED or data.n == 0:
        out.outputs = ()
        return
    show_figure(out, build_lots_figure(data, low, high, label, data.spec.scale))


def show_k(out: w.Output, k_table: pd.DataFrame | None, data: AttributeData) -> None:
    if k_table is None:
        out.outputs = ()
        return
    show_figure(out, build_k_vs_n_figure(k_table, max(data.n, 2), data.spec.limit_side.sided))


class SpecificationsPageView(FollowsWorkbook):
    """What a specifications page's view does alike: follow its model, and follow the workbook.

    :meth:`_bind` draws the model's result and observes it (``_draw``, which the
    page implements) and its problem (shown in the status line). ``on_show``
    follows the workbook when another page or tab changed it: new or removed
    data sets update the model's selection (keeping choices that still exist);
    other changes (decisions) only refresh the decision list. The view's own
    writes do not count as changes from elsewhere.
    """

    model: Any
    store: WorkbookStore
    status: StatusArea
    panel: DecisionPanel
    lots_table: w.HTML

    def _lots_table(self, result: Any) -> None:
        """The lots table, rebuilt only when the lots shown change (not for a new k method or candidate)."""
        sel = self.model.selection
        key = (sel.dataset, sel.attribute, tuple(sel.lot_types), tuple(sel.process_versions), id(sel.session))
        if key != getattr(self, "_lots_key", None):
            self.lots_table.value = lots_table_html(result.data)
            self._lots_key = key

    def _draw(self, result: Any) -> None:
        raise NotImplementedError

    def _bind(self) -> None:
        self.model.observe(lambda c: self._draw(c["new"]), names="result")
        self.model.observe(self._on_problem, names="problem")
        self._seen_now(self.model.selection.session)
        if self.model.result is not None:
            self._draw(self.model.result)
        self._on_problem({"new": self.model.problem})
        self.panel.show(self.model.selection.session)

    def _on_problem(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status.show("error", change["new"])

    def _set_session(self, session: Session) -> None:
        self.model.selection.session = session

    def _use_session(self, session: Session) -> None:
        self.model.use_session(session)
