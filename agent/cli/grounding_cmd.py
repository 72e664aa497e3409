"""``guiagent eval-grounding``: check that a model clicks where it should before it drives a device.

Reads ScreenSpot-style records (see ``guiagent.tasks.grounding_data``), asks the model with its family's
own agent prompt (or, with ``--prompt official``, the authors' grounding prompt), and reports accuracy
overall, by target type, by platform and by both. Records are
evaluated with the prompt variant of their platform (phones: mobile, the rest: computer) unless
``--platform`` fixes one, so a mixed set such as ScreenSpot is asked the way the agent would ask.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from guiagent.actions.errors import ConfigError, GuiAgentError
from guiagent.actions.families import ModelFamily
from guiagent.tasks.grounding import (
    DEFAULT_MAX_NEW_TOKENS,
    PROMPT_MODES,
    RESULTS_FILE,
    GroundingEvaluation,
    GroundingRecord,
    GroundingResult,
    GroundingSummary,
    Tally,
    load_grounding_records,
)

from .arg_types import positive_int
from .run_cmd import DEFAULT_MODEL, add_model_options, build_backend, build_family

__all__ = ["register", "run_eval_grounding", "summary_notes", "summary_table"]

EXIT_INCOMPLETE = 1
EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval-grounding`` subcommand."""
    parser = subparsers.add_parser(
        "eval-grounding",
        help="measure how often a model clicks inside the target (ScreenSpot-style data)",
        description="Offline grounding evaluation: for each record the model gets its family's agent prompt "
        "with the instruction as the task; the answer is correct when its first point lies inside the target box. "
        "Results go to --out as results.jsonl (one line per record, written as it finishes) and summary.json.",
    )
    parser.add_argument("data", metavar="DATA", type=Path, help="records as JSON lines (or a JSON array)")
    add_model_options(parser)
    parser.add_argument(
        "--bbox-format",
        choices=["xyxy", "xywh"],
        default="xyxy",
        help="how boxes are written where a record has no bbox_format: [x1, y1, x2, y2] (default) or "
        "[x, y, w, h] (ScreenSpot v1/v2)",
    )
    parser.add_argument("--images", type=Path, default=None, help="folder of relative image paths (default: DATA's)")
    parser.add_argument("--limit", type=positive_int, default=None, help="evaluate only the first N records")
    parser.add_argument("--workers", type=positive_int, default=1, help="concurrent requests (HTTP servers; default 1)")
    parser.add_argument(
        "--max-new-tokens", type=positive_int, default=DEFAULT_MAX_NEW_TOKENS, help="reply length limit"
    )
    parser.add_argument(
        "--prompt",
        choices=PROMPT_MODES,
        default="agent",
        help="agent: the family's agent prompt, as the agent asks (default); official: the model authors' own "
        "grounding prompt and answer format, as published ScreenSpot numbers were measured (temperature 0)",
    )
    parser.add_argument("--out", type=Path, default=None, help="results folder (default grounding-results/<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the evaluation in --out, retrying failures")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    parser.set_defaults(handler=run_eval_grounding)


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    if args.resume:
        raise ConfigError("--resume needs --out: the folder of the evaluation to continue")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path("grounding-results") / stamp
    suffix = 2
    while folder.exists():
        folder = Path("grounding-results") / f"{stamp}-{suffix}"
        suffix += 1
    return folder


def _families(args: argparse.Namespace, records: list[GroundingRecord]) -> dict[str, ModelFamily]:
    """One family per prompt variant the records need, built before any thread starts."""
    kinds = {args.platform} if args.platform else {record.kind for record in records}
    return {kind: build_family(args, "desktop" if kind == "computer" else "android") for kind in sorted(kinds)}


def run_eval_grounding(args: argparse.Namespace) -> int:
    """Evaluate and report; exit 0 when every record was scored, 1 when some could not be, 130 on Ctrl-C."""
    records = load_grounding_records(args.data, bbox_format=args.bbox_format, image_root=args.images, limit=args.limit)
    families = _families(args, records)
    fixed = next(iter(families.values())) if args.platform else None

    def choose(record: GroundingRecord) -> ModelFamily:
        return fixed if fixed is not None else families[record.kind]

    out_dir = _out_dir(args)
    if not args.resume and (out_dir / RESULTS_FILE).exists():
        raise ConfigError(f"{out_dir} already holds results; pass --resume to continue it, or choose another --out")
    console = Console(stderr=True)
    backend = build_backend(args, next(iter(families.values())))
    meta: dict[str, Any] = {
        "data": str(args.data.resolve()),
        "model": args.model or DEFAULT_MODEL,
        "base_url": args.base_url,
        "bbox_format": args.bbox_format,
        "limit": args.limit,
        "max_new_tokens": args.max_new_tokens,
        "pixel_limits": {kind: list(family.pixel_limits) for kind, family in families.items()},
    }
    try:
        evaluation = GroundingEvaluation(
            records,
            backend,
            choose,
            out_dir,
            workers=args.workers,
            max_new_tokens=args.max_new_tokens,
            prompt=args.prompt,
            resume=args.resume,
            meta=meta,
        )
        summary = _run_with_progress(evaluation, console)
    except GuiAgentError:
        if (out_dir / "summary.json").exists():
            console.print(Text(f"results so far and a partial summary are in {out_dir}", style="yellow"))
        raise
    finally:
        backend.close()
    if args.json:
        print(summary.model_dump_json(indent=2))
    else:
        out = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
        out.print(summary_table(summary))
        out.print(Text(summary_notes(summary, out_dir)), soft_wrap=True)
    if summary.interrupted:
        console.print(Text(f"interrupted: continue with --resume --out {out_dir}", style="yellow"))
        return EXIT_INTERRUPTED
    if summary.unscored:
        console.print(
            Text(
                f"{summary.unscored} record(s) got no answer (model or image failures); "
                f"retry them with --resume --out {out_dir}",
                style="yellow",
            )
        )
        return EXIT_INCOMPLETE
    return 0


def _run_with_progress(evaluation: GroundingEvaluation, console: Console) -> GroundingSummary:
    """Run the evaluation under a progress bar showing the accuracy so far."""
    tally = Tally()
    for result in evaluation.previous:
        tally.add(result.correct)
    progress = Progress(
        TextColumn("[bold]grounding[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[accuracy]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )

    def shown() -> str:
        return f"accuracy {_pct(tally.accuracy)}" if tally.total else ""

    with progress:
        task = progress.add_task(
            "grounding", total=len(evaluation.records), completed=len(evaluation.previous), accuracy=shown()
        )

        def advance(result: GroundingResult) -> None:
            if result.scored:
                tally.add(result.correct)
            progress.update(task, advance=1, accuracy=shown())

        return evaluation.run(on_result=advance)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def summary_table(summary: GroundingSummary) -> Table:
    """Accuracy by platform × type, with per-platform, per-type and overall rows."""
    table = Table(title="Grounding accuracy" + ("" if summary.complete else " (partial)"))
    for name, justify in (("platform", "left"), ("type", "left"), ("n", "right"), ("correct", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("accuracy", justify="right")

    def row(platform: str, kind: str, tally: Tally, style: str | None = None) -> None:
        cells = (platform, kind, str(tally.total), str(tally.correct), _pct(tally.accuracy))
        table.add_row(*(Text(cell) for cell in cells), style=style)  # platforms and types come from the data

    for platform, by_type in summary.by_platform_type.items():
        for kind, tally in by_type.items():
            row(platform, kind, tally)
        if len(by_type) > 1:
            row(platform, "all", summary.by_platform[platform], "bold")
        table.add_section()
    if len(summary.by_platform) > 1:
        for kind, tally in summary.by_type.items():
            row("all", kind, tally, "bold")
    row("all", "all", summary.overall, "bold green")
    return table


def summary_notes(summary: GroundingSummary, out_dir: Path | None = None) -> str:
    """One line under the table: failure counts, speed, where the results are."""
    notes = [
        f"parse failures {summary.parse_failures} ({_pct(summary.parse_failure_rate)})",
        f"off-image points {summary.out_of_range}",
        f"unscored {summary.unscored}",
    ]
    if summary.mean_seconds is not None:
        notes.append(f"{summary.mean_seconds:.2f} s/record")
    if out_dir is not None:
        notes.append(f"results in {out_dir}")
    return " · ".join(notes)
