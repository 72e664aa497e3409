"""1,000 fuzzed task files: each loads, or fails with a ``TaskFileError`` naming its file, line and field.

Seeds are the shipped suites' own task files (the virtual-phone and desktop-example suites) and a suite file
listing tasks inline. Mutations work on the text (lines dropped, repeated, re-indented, cut short; YAML
syntax, control characters and invalid UTF-8 inserted) and on the data (keys dropped, renamed or added,
values swapped for other types). Every file goes through ``load_task`` and ``load_suite``; a sample also
through ``guiagent eval`` as a user types it. Anything but a typed error is counted as lost: a traceback
(any other exception), an error that does not name the file, or a line number that is not in the file.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import yaml

from guiagent.actions.errors import TaskFileError
from guiagent.agent.cli import main
from guiagent.tasks.spec import load_task
from guiagent.tasks.suite import builtin_suites, load_suite
from tests.faults.helpers import nothing_lost

FILES = 1_000
CLI_SAMPLE = 40
SEED = "guiagent-faults-task-files"

SNIPPETS = [
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "&anchor ",
    "*anchor",
    "*nowhere",
    "!!python/object:os.system ",
    "!!binary ",
    "!!int ",
    "!custom ",
    "<<: *anchor",
    "\t",
    "\x00",
    "\x07",
    "\ufeff",
    "\u2028",
    "---\n",
    "...\n",
    "? ",
    "|\n",
    ">-\n",
    "%YAML 1.1\n",
    "~",
    "null",
    "yes",
    "1e999",
    "-1",
    "0",
    "99999999999999999999999",
    ".nan",
    ".inf",
    "(",
    "[a-",
    "*?",
    "(?P<",
    "\\",
    "../../etc/passwd",
    "/etc/passwd",
    "{python}",
    "日本語",
    "é",
    "#",
]
VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    1.5,
    float("nan"),
    "",
    "x",
    "(",
    "[",
    "wm size 10x10",
    "dumpsys battery set level 1",
    "settings put global wifi_on 1",
    "../../../outside",
    "/etc/passwd",
    "os:system",
    [],
    [None],
    ["a", 1],
    {},
    {"type": "tap"},
    {"type": "click", "x": -5, "y": "a"},
    {"query": ["settings", "get"], "equals": 1},
    {"matches": "("},
]


KEYS = [
    "equals",
    "contains",
    "matches",
    "text_on_screen",
    "exact",
    "absent",
    "query",
    "python",
    "args",
    "image_matches",
    "region",
    "tolerance",
    "answer_contains",
    "name",
    "action",
    "settings",
    "clear_app",
    "start",
    "wait",
    "type",
    "x",
    "text",
]
"""Keys of checks, setup steps and actions: a key renamed to another puts its value where it was never meant."""


def seed_files() -> list[tuple[str, str]]:
    """(name, text) of every shipped task file, and one suite file with tasks inline."""
    seeds = []
    for folder in builtin_suites().values():
        for path in sorted(folder.glob("*.yaml")):
            seeds.append((path.name, path.read_text(encoding="utf-8")))
    inline = {"name": "inline", "tasks": [yaml.safe_load(text) for _, text in seeds[:3]]}
    seeds.append(("inline-suite.yaml", yaml.safe_dump(inline, sort_keys=False)))
    return seeds


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml, when present, only to make the files faster
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        at = rng.randrange(len(lines)) if lines else 0
        if op < 0.15 and lines:
            del lines[at]
        elif op < 0.25 and lines:
            lines.insert(at, lines[rng.randrange(len(lines))])
        elif op < 0.35 and lines:
            lines[at] = " " * rng.choice((1, 2, 3, 4, 8)) + lines[at]
        elif op < 0.42 and lines:
            lines[at] = lines[at].lstrip()
        elif op < 0.75 and lines:
            line = lines[at]
            pos = rng.randint(0, len(line))
            lines[at] = line[:pos] + rng.choice(SNIPPETS) + line[pos:]
        elif op < 0.85 and lines:
            line = lines[at]
            pos = rng.randint(0, len(line))
            lines[at] = line[:pos] + line[pos + rng.randint(1, 10) :]
        else:
            joined = "".join(lines)
            lines = joined[: rng.randint(0, len(joined))].splitlines(keepends=True)
    return "".join(lines)


def mutate_data(rng: random.Random, data: Any, depth: int = 0) -> Any:
    """One random change somewhere in the data tree."""
    if isinstance(data, dict) and data and depth < 4 and rng.random() < 0.6:
        key = rng.choice(list(data))
        data = dict(data)
        data[key] = mutate_data(rng, data[key], depth + 1)
        return data
    if isinstance(data, list) and data and depth < 4 and rng.random() < 0.6:
        data = list(data)
        at = rng.randrange(len(data))
        data[at] = mutate_data(rng, data[at], depth + 1)
        return data
    op = rng.random()
    if isinstance(data, dict) and data and op < 0.3:
        data = dict(data)
        data.pop(rng.choice(list(data)))
        return data
    if isinstance(data, dict) and data and op < 0.45:  # a key renamed, its value kept or replaced
        data = dict(data)
        value = data.pop(rng.choice(list(data)))
        data[rng.choice(KEYS)] = value if rng.random() < 0.5 else rng.choice(VALUES)
        return data
    if isinstance(data, dict) and op < 0.6:
        data = dict(data)
        data[rng.choice(("extra", "Goal", "succes", "setup", "max_steps", "tasks", "id"))] = rng.choice(VALUES)
        return data
    if isinstance(data, list) and op < 0.4:
        return data + [rng.choice(VALUES)]
    return rng.choice(VALUES)


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.5:
            out[pos:pos] = bytes([rng.choice((0xFF, 0xFE, 0xC3, 0x80, 0xE2, 0x00, 0x1B))])
        elif out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
    return bytes(out)


def fuzzed_file(rng: random.Random, seeds: list[tuple[str, str]]) -> bytes:
    name, text = rng.choice(seeds)
    kind = rng.random()
    if kind < 0.45:
        return mutate_text(rng, text).encode("utf-8")
    if kind < 0.8:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
        for _ in range(rng.randint(1, 3)):
            data = mutate_data(rng, data)
        try:
            return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True).encode("utf-8")
        except yaml.YAMLError:
            return text.encode("utf-8")
    if kind < 0.9:
        return mutate_bytes(rng, text.encode("utf-8"))
    raw = text.encode("utf-8")
    return raw[: rng.randint(0, len(raw))]


def yaml_lines(raw: bytes) -> int:
    """Lines as YAML counts them (it also breaks at NEL, LINE and PARAGRAPH SEPARATOR)."""
    text = raw.decode("utf-8", errors="replace")
    return 1 + sum(text.count(b) for b in ("\n", "\x85", "\u2028", "\u2029")) + text.count("\r") - text.count("\r\n")


def outcome(path: Path, raw: bytes, loader: Any) -> tuple[str, str | None]:
    """("loaded" or "refused", None) when ``loader(path)`` loads or raises a well-formed ``TaskFileError``;
    else ("lost", what went wrong)."""
    try:
        loader(path)
    except TaskFileError as exc:
        message = str(exc)
        if str(path) not in message or "\n" in message.strip():
            return "lost", f"TaskFileError that does not name the file on one line: {message!r}"
        if exc.line is None:
            return "lost", f"TaskFileError without a line: {message!r}"
        if not 1 <= exc.line <= yaml_lines(raw):
            return "lost", f"line {exc.line} is not in the {yaml_lines(raw)}-line file: {message!r}"
        if "field " in message and not exc.field and "(top level)" not in message:
            return "lost", f"a field error without .field: {message!r}"
        return "refused", None
    except Exception as exc:  # noqa: BLE001 - anything else is the traceback a user would see
        return "lost", f"{type(exc).__name__}: {exc}"
    return "loaded", None


def test_fuzzed_task_files_fail_with_typed_errors(tmp_path: Path, figures, capsys) -> None:
    rng = random.Random(SEED)
    seeds = seed_files()
    for name, text in seeds:  # the seeds themselves are valid
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert outcome(tmp_path / name, text.encode(), load_suite) == ("loaded", None)
    started = time.perf_counter()
    outcomes = {"loaded": 0, "refused": 0}
    lost: list[str] = []
    cli_files: list[Path] = []
    for number in range(FILES):
        path = tmp_path / "fuzzed" / f"task-{number:04d}.yaml"
        path.parent.mkdir(exist_ok=True)
        raw = fuzzed_file(rng, seeds)
        path.write_bytes(raw)
        loader = load_task if number % 2 else load_suite  # the two share the YAML reading and validation
        result, issue = outcome(path, raw, loader)
        if issue:
            lost.append(f"{path.name} ({loader.__name__}): {issue}\n{raw[:400]!r}")
            continue
        outcomes[result] += 1
        if result == "refused" and len(cli_files) < CLI_SAMPLE and rng.random() < 0.2:
            cli_files.append(path)
    # `guiagent eval` on a sample of the refused files: exit 2 and one line naming the file, no traceback.
    for path in cli_files:
        capsys.readouterr()
        try:
            code = main(["eval", str(path), "--device", "virtual", "--base-url", "http://127.0.0.1:9/v1"])
        except BaseException as exc:  # noqa: BLE001 - a traceback
            lost.append(f"guiagent eval {path.name}: {type(exc).__name__}: {exc}")
            continue
        err = capsys.readouterr().err
        if code != 2 or not err.startswith("guiagent eval: ") or str(path) not in err or "Traceback" in err:
            lost.append(f"guiagent eval {path.name}: exit {code}, stderr {err!r}")
    seconds = time.perf_counter() - started
    figures.add(
        "Fuzzed task files (load_task, load_suite; a sample through guiagent eval)",
        FILES,
        lost,
        f"{outcomes['loaded']} loaded, {outcomes['refused']} refused with file/line/field, "
        f"{len(cli_files)} through `guiagent eval` (exit 2); {seconds:.1f} s",
        order=4,
    )
    assert outcomes["loaded"] > 50 and outcomes["refused"] > 500, outcomes  # both paths exercised
    nothing_lost(lost, FILES, "task files", shown=8)
