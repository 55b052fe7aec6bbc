"""The decision record as Markdown, every text escaped so that it reads as written.

The template (``cgtkit/templates/record.md.j2``) escapes whatever it inserts, the way HTML
autoescaping does: Jinja2's ``finalize`` passes every value through :func:`md_escape`
unless a filter already made it Markdown (:class:`Md`). So a justification holding
``*``, ``_``, ``[link](x)``, ``<script>`` or a line starting with ``#`` shows those
characters instead of formatting, links or HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cgtkit.record.figures import FigureData
from cgtkit.record.html import audit_facts
from cgtkit.record.model import AuditBlock, DecisionRecord, MethodNote, result_columns

_INLINE = re.compile(r"([\\`*_\[\]<>|~&{}])")
#: What starts a block at the start of a line: a heading, a quote, a list item, a setext underline or rule.
_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[+\-*](?=\s|$)|\d{1,9}[.)](?=\s|$)|[=\-]+\s*$)", re.MULTILINE)


class Md(str):
    """Text that is already Markdown (escaped by a filter): the template inserts it as is."""


def md_escape(value: Any) -> str:
    """Text made literal in Markdown: backslash before the characters that format, link or start HTML
    anywhere, and before those that start a heading, quote, list or rule at the start of a line.

    >>> md_escape("<script>alert(1)</script> *x* [a](b)")
    '\\\\<script\\\\>alert(1)\\\\</script\\\\> \\\\*x\\\\* \\\\[a\\\\](b)'
    >>> md_escape("# not a heading\\n1. not a list, 71.25 %, cgtkit 0.1.0")
    '\\\\# not a heading\\n1\\\\. not a list, 71.25 %, cgtkit 0.1.0'
    """
    if isinstance(value, Md):
        return value
    text = "" if value is None else str(value)
    text = "\n".join(line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_block, text)


def _escape_block(m: re.Match[str]) -> str:
    marker = m[2]
    if marker[:1].isdigit():  # "1." -> "1\."
        return m[1] + marker[:-1] + "\\" + marker[-1]
    return m[1] + "\\" + marker


def _cell(value: Any) -> str:
    """A table cell: escaped, on one line (a line break would end the row)."""
    return " ".join(md_escape(value).split())


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Md:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return Md("\n".join(lines))


def _facts_table(pairs: Sequence[tuple[str, str]], first: str = "Field", second: str = "Value") -> Md:
    return _table((first, second), pairs)


def _result_table(rows: Sequence[dict[str, str]]) -> Md:
    columns = result_columns()
    return _table([t for _k, t in columns], [[r.get(k, "") for k, _t in columns] for r in rows])


def _dataset_table(rows: Sequence[dict[str, str]]) -> Md:
    keys = ("attribute", "unit", "results", "lots", "min", "median", "max", "censored", "pass_fail")
    header = ("Attribute", "Unit", "Results", "Lots", "Min", "Median", "Max", "Censored", "Pass/fail or text")
    return _table(header, [[r[k] for k in keys] for r in rows])


def _methods_table(methods: Sequence[MethodNote]) -> Md:
    return _table(("Method", "Proposals"), [(m.method, ", ".join(m.used_by)) for m in methods])


def _audit_table(a: AuditBlock) -> Md:
    return _facts_table(audit_facts(a), "Audit", "Value")


def _log_table(log: Sequence[Any]) -> Md:
    return _table(("Entry", "When", "What changed", "Entry SHA-256"), [(e.index, e.time, e.summary, e.hash) for e in log])


def _figure_table(data: FigureData) -> Md:
    return _table(data.header, data.rows)


def _code(value: Any) -> Md:
    """Inside backticks (a digest): nothing to escape but the backtick itself, which a digest never has."""
    return Md(str(value).replace("`", ""))


def _url(value: Any) -> Md:
    """An https address from the catalog, as an autolink (no spaces or angle brackets can be in it)."""
    return Md("".join(ch for ch in str(value) if ch not in " <>\n"))


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("cgtkit", "templates"), autoescape=False,
                             finalize=md_escape, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters.update(facts_table=_facts_table, result_table=_result_table, dataset_table=_dataset_table,
                       methods_table=_methods_table, audit_table=_audit_table, log_table=_log_table,
                       figure_table=_figure_table, code=_code, url=_url,
                       capitalize=lambda s: Md(md_escape(str(s)[:1].upper() + str(s)[1:])),
                       join=lambda items, sep: Md(md_escape(sep).join(md_escape(i) for i in items)))
    return env


def render_markdown(record: DecisionRecord) -> str:
    text = _environment().get_template("record.md.j2").render(r=record)
    return re.sub(r"\n{3,}", "\n\n", text)
