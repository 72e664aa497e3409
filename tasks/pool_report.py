"""The part of a suite report a device pool adds: device states, quarantines, and every retried task.

Why a separate section and not a footnote: a retry changes how to read a result. A task that passed on its
second device after its first died is a pass for the agent and a warning about the farm; the reader must
see both, so the report lists each quarantined or dirty device with its reason and each retried task with
its earlier attempts (device, status, reason, link to that attempt's run). ``tasks.report`` calls these
helpers; they return HTML fragments with every value escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["attempt_note", "pool_section"]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def attempt_note(attempt: int, retries: Sequence[dict[str, Any]]) -> str:
    """The line under a task's status: which attempt this row is and what happened before ("" if first)."""
    if attempt <= 1 and not retries:
        return ""
    earlier = "; ".join(
        f"attempt {r.get('attempt', '?')} on {r.get('device', '?')}: {r.get('status', '')}"
        + (" (device quarantined)" if r.get("quarantined") else "")
        for r in retries
    )
    badge = f'<span class="badge status-interrupted retry">attempt {attempt}</span>'
    return f'<br>{badge} <span class="muted">{_e(earlier)}</span>'


def pool_section(devices: Sequence[dict[str, Any]], rows: Sequence[Any], link: Any) -> str:
    """A "Devices" table and a "Retries" table ("" when the results carry no pool information).

    Args:
        devices: ``results.json``'s ``devices`` section.
        rows: the task rows (objects with ``task_id``, ``attempt``, ``retries``).
        link: ``run_dir -> href | None``, to link earlier attempts' runs as the task rows do.
    """
    if not devices and not any(getattr(r, "retries", None) for r in rows):
        return ""
    out = []
    if devices:
        counts: dict[str, int] = {}
        for device in devices:
            counts[device.get("state", "")] = counts.get(device.get("state", ""), 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        body = "".join(
            f'<tr data-device="{_e(d.get("name", ""))}" class="device-{_e(d.get("state", ""))}">'
            f"<td>{_e(d.get('name', ''))}</td><td>{_e(d.get('kind', ''))}</td>"
            f'<td><span class="badge {_state_class(d.get("state", ""))}">{_e(d.get("state", ""))}</span></td>'
            f"<td>{_e(d.get('reason', ''))}</td><td class='num'>{_e(d.get('tasks', 0))}</td>"
            f"<td>{_e(d.get('node', '')[:12])}</td></tr>"
            for d in devices
        )
        out.append(
            f'<h2>Devices</h2><p id="device-summary">{_e(summary)}</p><table id="devices"><thead><tr>'
            "<th>Device</th><th>Kind</th><th>State</th><th>Reason</th><th>Tasks</th><th>Node</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    retried = [r for r in rows if getattr(r, "retries", None)]
    if retried:
        lines = []
        for row in retried:
            for earlier in row.retries:
                href = link(earlier.get("run_dir"))
                run = f'<a href="{_e(href)}">report</a>' if href else "<i>no run folder</i>"
                lines.append(
                    f'<tr data-task="{_e(row.task_id)}"><td>{_e(row.task_id)}</td>'
                    f"<td>{_e(earlier.get('attempt', ''))}</td><td>{_e(earlier.get('device', ''))}</td>"
                    f"<td>{_e(earlier.get('status', ''))}<br>{_e(earlier.get('reason', ''))}</td>"
                    f"<td>{'quarantined' if earlier.get('quarantined') else ''}</td><td>{run}</td>"
                    f"<td>attempt {_e(row.attempt)} on {_e(row.device or '—')}: {_e(row.status)}</td></tr>"
                )
        out.append(
            '<h2>Retries</h2><table id="retries"><thead><tr><th>Task</th><th>Attempt</th><th>Device</th>'
            "<th>What happened</th><th>Device after</th><th>Run</th><th>Then</th></tr></thead>"
            f"<tbody>{''.join(lines)}</tbody></table>"
        )
    return "".join(out)


def _state_class(state: str) -> str:
    return {"healthy": "passed", "quarantined": "failed", "dirty": "status-interrupted"}.get(state, "status-running")
