"""The Commercial specifications page: widgets linked to :class:`CommercialSpecificationsModel`.

Controls are linked to the model's traits; the view redraws when the model's
``result`` changes and shows ``problem`` in the status line, so a bad choice
leaves the previous tables and figures on screen with a sentence saying why.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from cgtkit.analyses.lifecycle import LifecycleReplay
from cgtkit.analyses.specifications import CandidateSet
from cgtkit.plots.specifications import build_replay_figure, build_risk_figure
from cgtkit.session import WorkbookStore
from cgtkit.tables import Column, html_table, number, percent
from cgtkit.ui.commercial_specifications_model import (
    FLEXIBILITIES,
    K_METHODS,
    PAGE_ID,
    CommercialResult,
    CommercialSpecificationsModel,
)
from cgtkit.ui.selection import LotSelectionControls, bind_choice
from cgtkit.ui.shell import StatusArea, esc, page_frame, show_figure
from cgtkit.ui.page_inputs import keep_page_inputs
from cgtkit.ui.decision_panel import DecisionPanel, section
from cgtkit.ui.spec_parts import (
    SpecificationsPageView,
    about_html,
    show_k,
    show_lots,
)

TITLE = "Commercial specifications from few lots"
SUBTITLE = ("Candidate acceptance criteria, the chance that later lots of an unchanged process fall outside "
            "them, and how they would have evolved as lots accumulated (CS-SPEC-FLEX-BLA, CS-SPEC-LIFECYCLE).")
INTRO = (
    "<p>FDA will consider release specifications fitted to the product, its process and the number of "
    "lots available, when justified, and later submissions that re-evaluate them from post-approval "
    "experience (final guidance, May 2026; changes to an approved specification go through a supplement "
    "under 21 CFR 601.12). Criteria set from a handful of lots often under-state the true variability of "
    "the process. Compare candidates below: each shows the probability that at least one of the next "
    "10, 50 or 100 lots of the same, unchanged process falls outside it. Then replay your lots in "
    "manufacture order to see how the criteria would have evolved.</p>"
)


def candidates_table_html(cs: CandidateSet, lot_types: list[str]) -> str:
    columns = [Column("criterion", "Candidate"), Column("low", "Low", number(), numeric=True),
               Column("high", "High", number(), numeric=True), Column("k", "k", number(3), numeric=True),
               *(Column(f"risk_next_{m}", f"next {m}", percent, numeric=True) for m in cs.horizons),
               Column("method", "Method", muted=True)]
    return (
        f"<p>{cs.n} lots of type {esc(', '.join(lot_types))}; limits in {esc(cs.unit)}. Risk: probability that "
        "at least one of the next m lots of the same process falls outside.</p>"
        + html_table(cs.to_frame(), columns, css="cgt-candidates")
    )


def _flag(re_evaluate: Any) -> str:
    return ("<span class='cgt-badge cgt-status-later_stage'>re-evaluate</span>" if re_evaluate
            else "<span class='cgt-badge cgt-status-applies_now'>consistent</span>")


def replay_html(r: LifecycleReplay) -> str:
    frame = r.to_frame()
    frame["outside"] = [f"{o} / {n}" for o, n in zip(frame["later_outside"], frame["later_lots"], strict=True)]
    # a shift or an outlier is investigated before any re-evaluation; else re-evaluate or consistent
    frame["flag"] = ["investigate" if inv else bool(re)
                     for re, inv in zip(frame["re_evaluate"], frame["investigate"], strict=True)]

    def badge(flag: Any) -> str:
        if flag == "investigate":
            return "<span class='cgt-badge cgt-status-later_stage'>investigate</span>"
        return _flag(flag)

    table = html_table(frame, [
        Column("n_lots", "After lots", numeric=True), Column("through_lot", "Through lot"),
        Column("low", "Low", number(), numeric=True), Column("high", "High", number(), numeric=True),
        Column("outside", "Later lots outside", numeric=True),
        Column("expected_outside", "Expected", lambda v: f"{v:.1f}", numeric=True),
        Column("flag", "Flag", badge, html=True), Column("verdict", "Reading", muted=True),
    ], css="cgt-replay-table")
    lv = r.levels
    budget = lv.shift + lv.outlier + lv.variance + lv.count
    versions = [v for v in dict.fromkeys(r.chart_points["process_version"]) if isinstance(v, str) and v]
    of_versions = f" of process version{'s' if len(versions) > 1 else ''} {', '.join(versions)}" if versions else ""
    return (
        f"<p>All {len(r.chart_points)} lots of every type{esc(of_versions)}, in manufacture order. At each checkpoint the criteria are "
        f"set from the lots so far ({r.coverage:.0%}/{r.confidence_level:.0%} tolerance interval) and tested on the "
        "lots that came after. Each later lot outside is attributed to a sustained shift (change-point test over "
        f"all lots, level {lv.shift:.0%}), an isolated outlier (studentized residuals, level {lv.outlier:.0%} over all "
        "lots) or ordinary variability. Whether the first lots under-stated the variability is judged by comparing "
        f"the later lots' variance with theirs (one-sided F test, {lv.variance:.0%} shared among the checkpoints), "
        "and the number outside is compared with its exact distribution for an unchanged process "
        f"({lv.count:.0%} shared). A shift calls for an investigation of the process, not wider criteria.</p>"
        f"<p>The false-alarm budget is per attribute: at most {budget:.0%} of histories of an unchanged process get "
        "any signal (about 7% measured on simulated 40-lot histories, docs/lifecycle_replay.md), so across ten "
        "attributes about one false signal is to be expected somewhere; a signal is a reason to look, not a "
        f"verdict. Over all lots: <b>{esc(r.chart_verdict)}</b></p>"
        + (f"<div class='cgt-msg cgt-msg-warning'>{esc(r.version_note)}</div>" if r.version_note else "")
        + table
    )


class CommercialSpecificationsView(SpecificationsPageView):
    """The page's widgets over its model; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: CommercialSpecificationsModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        self.controls = LotSelectionControls(model.selection, "Set criteria from lots of type:", self.status)
        self.method = w.Dropdown(description="Two-sided k", options=list(K_METHODS))
        self.method.add_class("cgt-method")
        w.link((model, "method"), (self.method, "value"))
        self.about = w.HTML()
        self.table = w.HTML()
        self.table.add_class("cgt-spec-table")
        self.candidate = w.Dropdown(description="Criterion", layout=w.Layout(width="520px"))
        self.candidate.add_class("cgt-candidate")
        bind_choice(self.candidate, model, "candidate", "candidate_options", guard=self.status.guard)
        self.lots_out, self.risk_out, self.k_out, self.replay_out = w.Output(), w.Output(), w.Output(), w.Output()
        self.lots_table = w.HTML()
        self.lots_table.add_class("cgt-lots-table")
        self.replay = w.HTML()
        self.replay.add_class("cgt-replay")
        self.panel = DecisionPanel(store, PAGE_ID, FLEXIBILITIES, draft=model.default_justification,
                                   decide=model.decision, on_recorded=self._recorded,
                                   subject=lambda: (model.selection.attribute, model.candidate))

        model.observe(self._on_candidate, names="candidate")
        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(INTRO), self.controls.widget, self.method, self.about,
            section("Candidate criteria and their false-OOS risk"), self.table, self.candidate,
            self.lots_out, self.lots_table, self.risk_out, self.k_out,
            section("Lifecycle replay: the lots in manufacture order"), self.replay, self.replay_out,
            self.panel.widget,
        ], self.status)
        self._bind()

    # -- following the model ------------------------------------------------
    def _on_candidate(self, _change: dict[str, Any]) -> None:
        if self.model.result is not None:
            self._draw_lots(self.model.result)
            self.panel.redraw_draft()

    def _draw(self, result: CommercialResult) -> None:
        self.about.value = about_html(result.data)
        cs = result.candidates
        self.table.value = candidates_table_html(cs, list(self.model.selection.lot_types)) if cs else ""
        if cs is None:
            self.risk_out.outputs = ()
        else:
            show_figure(self.risk_out, build_risk_figure(cs.candidates, cs.horizons))
        if result.replay is not None:
            self.replay.value = replay_html(result.replay)
            show_figure(self.replay_out, build_replay_figure(result.data, result.replay))
        else:
            self.replay.value = (f"<div class='cgt-msg cgt-msg-info'>{esc(result.replay_problem)}</div>"
                                 if result.replay_problem else "")
            self.replay_out.outputs = ()
        self._lots_table(result)
        self._draw_lots(result)
        show_k(self.k_out, result.k_table, result.data)
        self.panel.redraw_draft()
        if cs is not None and cs.notes:
            self.status.show("info", " ".join(cs.notes))

    def _draw_lots(self, result: CommercialResult) -> None:
        chosen = self.model.chosen()
        low, high, label = (chosen.low, chosen.high, chosen.label) if chosen else (None, None, "")
        show_lots(self.lots_out, result.data, low, high, label)

    # -- the workbook -------------------------------------------------------


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> CommercialSpecificationsView:
    """The page's entry point: the model from the saved workbook and the inputs kept for it, then its view."""
    model = CommercialSpecificationsModel(store.load())
    keep_page_inputs(model, store.inputs_path, PAGE_ID)
    return CommercialSpecificationsView(model, store)

