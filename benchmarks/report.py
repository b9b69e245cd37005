"""Results as files: number formatting, markdown tables, and ``<stem>.json`` + ``<stem>.md``.

Every benchmark writes both: the JSON keeps every timing with the machine and versions
(:mod:`benchmarks.machine`), the markdown is the table the README links to.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def add_out_argument(parser):
    """``--out DIR``, defaulting to the committed tables in ``benchmarks/results/``."""
    parser.add_argument("--out", default=str(RESULTS_DIR),
                        help="directory for <name>-<backend>.json and .md (default: "
                        "benchmarks/results/, the committed tables)")


def markdown_table(headers, rows, align=None):
    """A GitHub markdown table; ``align`` is a string of 'l'/'r'/'c' per column (default: l)."""
    align = align or "l" * len(headers)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(str(h) for h in headers) + " |",
        "| " + " | ".join(marks[a] for a in align) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)


def write_results(out_dir, stem, payload, markdown):
    """Write ``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.md``; return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path.write_text(markdown.rstrip("\n") + "\n")
    return json_path, md_path


def short_error(exc):
    """``Type: message``, first line only, at most 300 characters: for a result row."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def gbps(nbytes, ms):
    """Bytes moved per second, in GB/s (1e9), for ``nbytes`` in ``ms`` milliseconds."""
    if not ms:
        return None
    return nbytes / (ms * 1e-3) / 1e9


def fmt_ms(value):
    """Milliseconds (or any time) with about three significant digits."""
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def fmt_us(value):
    """Microseconds: one decimal below 100 us, none above."""
    if value is None:
        return ""
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def fmt_ratio(value):
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    if value >= 0.01:
        return f"{value:.2f}x"
    return f"{value:.1e}x"


def target_lines(targets):
    """``- <target>: <value> -> yes|NO`` for each ``{"target", "value", "ok"}`` (``ok`` None:
    reported, not a target: ``-> (info)``)."""
    verdict = {True: "yes", False: "NO", None: "(info)"}
    return [f"- {t['target']}: {fmt_ratio(t['value'])} -> {verdict[t['ok']]}"
            for t in targets]


def count_argument(minimum):
    """An argparse type: an int >= ``minimum``, else a one-line error."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {text!r}"
                                             ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {value}")
        return value

    return parse
