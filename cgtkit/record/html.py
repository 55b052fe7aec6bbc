"""The decision record as HTML: one self-contained file (the download) or its body (the page's preview).

Jinja2 templates with autoescape (``cgtkit/templates/record.html.j2`` and
``record_body.html.j2``): every text of the record is escaped, so a product named
``<script>alert(1)</script>`` shows as those characters. Tables come from
:func:`cgtkit.tables.html_table`, the pages' formatter. The full file inlines
plotly.js from the installed plotly package and the figures as JSON, written so
that no text in them can close the script element; it fetches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from cgtkit.record.model import AuditBlock, DecisionRecord, DatasetSummary, MethodNote, result_columns
from cgtkit.tables import Column, html_table

_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value: Any) -> Markup:
    """JSON for inside a ``<script>`` element: ``<``, ``>`` and ``&`` escaped as JSON escapes, so that a
    ``</script>`` in a lot id stays text.

    >>> str(script_json({"lot": "</script><b>"}))
    '{"lot": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    return Markup(json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_SAFE))


def _facts_table(pairs: Sequence[tuple[str, str]], first: str = "Field", second: str = "Value") -> Markup:
    rows = [{"label": a, "text": b} for a, b in pairs]
    return Markup(html_table(rows, [Column("label", first), Column("text", second)], css="cgt-record-facts"))


def _result_table(rows: Sequence[dict[str, str]]) -> Markup:
    return Markup(html_table(list(rows), [Column(k, t) for k, t in result_columns()], css="cgt-record-result"))


def _dataset_table(rows: Sequence[dict[str, str]]) -> Markup:
    return Markup(html_table(list(rows), [
        Column("attribute", "Attribute"), Column("unit", "Unit"), Column("results", "Results", numeric=True),
        Column("lots", "Lots", numeric=True), Column("min", "Min", numeric=True),
        Column("median", "Median", numeric=True), Column("max", "Max", numeric=True),
        Column("censored", "Censored", numeric=True), Column("pass_fail", "Pass/fail or text", numeric=True),
    ], css="cgt-record-dataset"))


def _methods_table(methods: Sequence[MethodNote]) -> Markup:
    rows = [{"method": m.method, "used_by": ", ".join(m.used_by)} for m in methods]
    return Markup(html_table(rows, [Column("method", "Method"), Column("used_by", "Proposals")]))


def _audit_table(a: AuditBlock) -> Markup:
    return _facts_table(audit_facts(a), "Audit", "Value")


def audit_facts(a: AuditBlock) -> list[tuple[str, str]]:
    """The audit block as (label, value) pairs, for every format."""
    return [("cgtkit version", a.version), ("Generated", a.generated_at), ("Workbook SHA-256", a.workbook_sha256),
            ("Audit chain head", a.chain_head or "no audit log"), ("Audit log entries", str(a.entries)),
            ("Verification", "intact" if a.verified else "does not verify (see below)")]


def _log_table(log: Sequence[Any]) -> Markup:
    rows = [{"index": e.index, "time": e.time, "summary": e.summary, "hash": e.hash[:16] + "…"} for e in log]
    return Markup(html_table(rows, [Column("index", "Entry", numeric=True), Column("time", "When"),
                                    Column("summary", "What changed"), Column("hash", "Entry SHA-256 (start)")],
                             css="cgt-record-log"))


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("cgtkit", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(facts_table=_facts_table, result_table=_result_table, dataset_table=_dataset_table,
                       methods_table=_methods_table, audit_table=_audit_table, log_table=_log_table)
    return env


@lru_cache(maxsize=1)
def plotly_js() -> tuple[str, str]:
    """plotly.js as shipped in the installed plotly package (minified), and its version."""
    import plotly
    from plotly.offline import get_plotlyjs

    return get_plotlyjs(), plotly.__version__


def render_html(record: DecisionRecord, *, standalone: bool = True) -> str:
    """The whole report as one HTML file (``standalone``), or its body for the page's preview."""
    env = _environment()
    if not standalone:
        return env.get_template("record_body.html.j2").render(r=record, standalone=False)
    figures = [{"id": f"plot-{f.number}", **f.data.spec} for f in record.figures]
    js, version = plotly_js()
    return env.get_template("record.html.j2").render(
        r=record, standalone=True, figures_json=script_json(figures), plotly_js=Markup(js),
        plotly_version=version)


__all__ = ["DatasetSummary", "audit_facts", "plotly_js", "render_html", "script_json"]
