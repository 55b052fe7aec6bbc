"""Every chart of the specifications pages, for every example attribute, drawn by Chromium (issue #15.12).

The gallery (tests/e2e/gallery.py) builds the figures as the pages do; here they are drawn
offline and measured: titles and axis titles inside the figure, a handful of tick labels
written in full (no "25T", no "1e+13"), and limit labels inside the plot. One screenshot per
figure goes to test-artifacts/charts/ for people to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.gallery import (
    comparability_figures,
    gallery_html,
    process_validation_figures,
    record_figures,
    specification_figures,
    stability_figures,
)

pytestmark = pytest.mark.e2e

MEASURE = """
(id) => {
  const root = document.getElementById(id);
  const box = root.getBoundingClientRect();
  const inside = (el) => { const b = el.getBoundingClientRect();
    return b.left >= box.left - 1 && b.right <= box.right + 1 && b.top >= box.top - 1 && b.bottom <= box.bottom + 1; };
  const texts = (sel) => Array.from(root.querySelectorAll(sel)).map((e) => e.textContent);
  return {
    titles: Array.from(root.querySelectorAll('.gtitle, .g-xtitle, .g-ytitle')).map((e) => [e.textContent, inside(e)]),
    yticks: texts('.ytick text'), xticks: texts('.xtick text'),
    labels: Array.from(root.querySelectorAll('.textpoint text')).map((e) => [e.textContent, inside(e)]),
    legendOver: (() => {  // what the legend covers: the plot area, the x-axis title or tick labels
      const legend = root.querySelector('.legend');
      if (!legend) return [];
      const a = legend.getBoundingClientRect();
      const hits = (el) => { const b = el.getBoundingClientRect();
        return b.width > 0 && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1; };
      const parts = [...root.querySelectorAll('.nsewdrag')].map((e) => ['the plot area', e]);
      parts.push(...[...root.querySelectorAll('.g-xtitle text, .xtick text')].map((e) => [e.textContent, e]));
      return parts.filter(([, e]) => hits(e)).map(([name]) => name);
    })(),
  };
}
"""


def test_every_example_chart_is_readable(browser, tmp_path) -> None:  # noqa: ANN001
    figures = list(specification_figures())
    assert len(figures) > 60  # every attribute of both example data sets, both pages
    stability = list(stability_figures())
    assert len(stability) == 8  # 2 attributes of each example stability set; budget and timeline of each example lot
    figures += stability
    process_validation = list(process_validation_figures())
    assert len(process_validation) > 25  # capability, lots needed and heat map of each attribute with a criterion
    figures += process_validation
    comparability = list(comparability_figures())
    assert len(comparability) > 10  # forest, dots and power of both example data sets
    figures += comparability
    record = list(record_figures())
    assert len(record) >= 12  # the decision record's lot figures of two pages' decisions, both example data sets
    figures += record
    html_path = tmp_path / "gallery.html"
    html_path.write_text(gallery_html(figures), encoding="utf-8")
    out = ARTIFACTS / "charts"
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 960, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    pg.goto(html_path.as_uri())
    pg.wait_for_function(f"document.querySelectorAll('.main-svg').length >= {len(figures)}")
    problems: list[str] = []
    for f in figures:
        m = pg.evaluate(MEASURE, f.key)
        for text, inside in m["titles"] + m["labels"]:
            if not inside:
                problems.append(f"{f.caption}: '{text}' is cut at the figure's edge")
        if m["legendOver"]:
            problems.append(f"{f.caption}: the legend covers {', '.join(sorted(set(m['legendOver'])))}")
        for axis in ("yticks", "xticks"):
            ticks = [t for t in m[axis] if t]
            if len(ticks) > 12:
                problems.append(f"{f.caption}: {len(ticks)} {axis}")
            bad = [t for t in ticks if re.search(r"\d[kMGTP]$|e[+-]\d", t)]
            if bad:
                problems.append(f"{f.caption}: tick labels {bad} (SI suffix or e-notation)")
        pg.locator(f"section:has(div#{f.key})").screenshot(path=str(out / f"{f.key}.png"))
    context.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)
