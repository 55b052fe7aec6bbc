"""``cgtkit``: check a workbook's audit trail, and write its decision record, from the command line.

``cgtkit verify WORKBOOK [--head HEX]`` checks the workbook's hash-chained audit log
(:func:`cgtkit.session.verify_audit`) and says where it breaks; ``--head`` is the chain head
printed in an export, which must belong to this log. Exit code 0: intact; 1: it does not
verify; 2: the file cannot be read as a workbook.

``cgtkit record WORKBOOK --format html|md|docx [-o FILE]`` writes the decision record.

The app itself is ``cgtkit-app``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cgtkit import __version__
from cgtkit.errors import CgtkitError

EXIT_OK, EXIT_BROKEN, EXIT_UNREADABLE = 0, 1, 2
FORMATS = {"html": "html", "md": "md", "markdown": "md", "docx": "docx", "word": "docx"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cgtkit", description="cgtkit's workbook tools (the app is cgtkit-app).")
    parser.add_argument("--version", action="version", version=f"cgtkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="check a workbook's audit trail and say where it breaks")
    verify.add_argument("workbook", type=Path)
    verify.add_argument("--head", help="the audit chain head printed in an exported decision record")
    record = sub.add_parser("record", help="write the decision record of a workbook")
    record.add_argument("workbook", type=Path)
    record.add_argument("--format", choices=sorted(FORMATS), default="html")
    record.add_argument("-o", "--output", type=Path, help="file to write (default: named after the product)")
    return parser


def _verify(args: argparse.Namespace) -> int:
    from cgtkit.session import Session, verify_audit

    session = Session.load(args.workbook)
    check = verify_audit(session, head=args.head)
    print(f"{args.workbook}: {check.sentence()}")
    if not check.ok and session.audit:
        for entry in session.audit[-5:] if check.broken_at is None else session.audit[max(0, check.broken_at - 1):
                                                                                     check.broken_at + 2]:
            print(f"  entry {entry.index} ({entry.time:%Y-%m-%d %H:%M} UTC): {entry.summary}")
    return EXIT_OK if check.ok else EXIT_BROKEN


def _record(args: argparse.Namespace) -> int:
    from cgtkit.record import build_record, record_filename, render_docx, render_html, render_markdown
    from cgtkit.session import Session

    record = build_record(Session.load(args.workbook))
    fmt = FORMATS[args.format]
    data = {"html": lambda: render_html(record).encode("utf-8"), "md": lambda: render_markdown(record).encode("utf-8"),
            "docx": lambda: render_docx(record)}[fmt]()
    out = args.output or Path(record_filename(record, fmt))
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CgtkitError(f"Could not write {out}: {exc.strerror or exc}.") from exc
    print(f"Wrote {out} ({len(data):,} bytes): {len(record.proposals)} proposal(s), {len(record.questions)} "
          f"question(s); audit chain head {record.audit.chain_head or 'none'}.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a workbook that cannot be read is a sentence on stderr, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        return _verify(args) if args.command == "verify" else _record(args)
    except CgtkitError as exc:
        print(f"cgtkit {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
