"""The app inside a real (in-process) IPython kernel, in a fresh process: what a Voila kernel
imports and sends. Figures go out as plotly's MIME type only (no plotly.js HTML), and neither
plotly's renderer machinery (nbformat, jsonschema) nor scipy.stats is loaded by any page."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, sys
from ipykernel.inprocess.manager import InProcessKernelManager
km = InProcessKernelManager(); km.start_kernel()
shell = km.kernel.shell
result = shell.run_cell('''
import sys
from cgtkit.ui.app import App
from cgtkit.session import WorkbookStore
app = App(WorkbookStore(WORKBOOK))
for p in ["start_here", "clinical_development", "commercial_specifications", "home"]:
    app.router.page = p
timeline = app.views["start_here"].timeline.outputs
report = {
    "loaded": sorted(m for m in ("nbformat", "jsonschema", "plotly.io._renderers", "scipy.stats") if m in sys.modules),
    "timeline_mimes": [sorted(o.get("data", {})) for o in timeline],
    "built": sorted(app.views),
}
'''.replace("WORKBOOK", repr(sys.argv[1])))
assert result.success, result.error_in_exec
print("REPORT" + json.dumps(shell.user_ns["report"]))
"""


def test_pages_in_a_kernel_send_plotly_mime_only_and_stay_light(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "wb.json")], capture_output=True,
                          text=True, check=False, env={"CGTKIT_STRICT": "1", "PATH": "/usr/bin:/bin",
                                                       "HOME": str(tmp_path)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT"):])
    assert report["built"] == ["clinical_development", "commercial_specifications", "home", "start_here"]
    assert report["loaded"] == []
    assert report["timeline_mimes"] == [["application/vnd.plotly.v1+json"]]


def test_no_page_captures_output_into_an_output_widget() -> None:
    """Capturing outputs with ``with out: display(...)`` while a Voila page is built made about one page
    view in 15-100 stall on the spinner (docs/investigations/voila-stall.md): pages set
    ``Output.outputs`` directly (``cgtkit.ui.shell.show_figure``)."""
    import ast
    from pathlib import Path

    import cgtkit.ui

    offenders = []
    for path in Path(cgtkit.ui.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "display", "capture", "append_display_data"):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.With):
                offenders += [f"{path.name}:{node.lineno}" for item in node.items
                              if isinstance(item.context_expr, ast.Name | ast.Attribute)
                              and "out" in ast.unparse(item.context_expr).lower()]
    # the app's own cell displays the app once; nothing else may
    assert sorted(offenders) == sorted(f"app.py:{n}" for n in _display_lines_in_app()), offenders


def _display_lines_in_app() -> list[int]:
    import ast
    from pathlib import Path

    import cgtkit.ui.app as app

    tree = ast.parse(Path(app.__file__).read_text(encoding="utf-8"))
    (open_app,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "open_app"]
    return [n.lineno for n in ast.walk(open_app) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "display"]
