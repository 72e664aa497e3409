"""Small HTML pieces every report shares: escaping, the page template, durations, fact tables.

Model replies, task files and device names are untrusted: every value that reaches a page goes through
``escape`` (text and attribute values alike), and the page template forbids scripts altogether.
"""

from __future__ import annotations

import html
import json
import time
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from guiagent.agent.files import write_atomic

__all__ = [
    "compact",
    "escape",
    "inline",
    "json_lines",
    "kv_table",
    "page",
    "seconds",
    "short",
    "stage_table",
    "status_badge",
    "when",
    "write_page",
]


def escape(value: Any) -> str:
    """Escape anything for HTML text and attribute values (model output is untrusted)."""
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str) -> str:
    """A whole report page: the packaged template (styles, CSP) around ``body``."""
    template = Template(resources.files("guiagent.tasks").joinpath("report_template.html").read_text("utf-8"))
    return template.substitute(title=escape(title), body=body, generator=escape("guiagent report"))


def write_page(target: Path, text: str) -> Path:
    """Write a report atomically (``write_atomic``), so one being regenerated is never seen half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, text)


def stage_table(timings: dict[str, float]) -> str:
    """Seconds per stage with each one's share, and the total."""
    if not timings:
        return '<span class="muted">no timings</span>'
    total = sum(timings.values()) or 1.0
    rows = [(escape(stage), f"{s:.3f} s", f"{100 * s / total:.0f}%") for stage, s in timings.items()]
    rows.append(("<b>total</b>", f"<b>{sum(timings.values()):.3f} s</b>", ""))
    cells = "".join(f'<tr><td>{a}</td><td class="num">{b}</td><td class="num">{c}</td></tr>' for a, b, c in rows)
    return f'<table class="timings">{cells}</table>'


def kv_table(data: dict[str, Any]) -> str:
    """A two-column table of names and (compact JSON) values."""
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(compact(v))}</td></tr>" for k, v in data.items())
    return f'<table class="kv">{rows}</table>'


def inline(data: dict[str, Any]) -> str:
    """``name value · name value`` on one line, or a dash."""
    return " · ".join(f'<span class="muted">{escape(k)}</span> {escape(compact(v))}' for k, v in data.items()) or "—"


def json_lines(actions: list[dict[str, Any]]) -> str:
    """One JSON object per line in a ``<pre>``."""
    return f"<pre>{escape(chr(10).join(json.dumps(a, ensure_ascii=False) for a in actions) or '—')}</pre>"


def status_badge(status: str) -> str:
    """A coloured badge for a run or task status."""
    return f'<span class="badge status-{escape(status)}">{escape(status or "unknown")}</span>'


def compact(value: Any) -> str:
    """Strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def seconds(value: float) -> str:
    """``4.2 s`` below a minute, ``3 min 07 s`` above."""
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(round(value)), 60)
    return f"{minutes} min {rest:02d} s"


def when(stamp: float | None) -> str:
    """A local date and time, or a dash."""
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(stamp)) if stamp else "—"


def short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
