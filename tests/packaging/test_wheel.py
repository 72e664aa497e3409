"""The wheel a user installs: built warning-free by current setuptools, holding every data file guiagent reads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_builds_without_warnings_and_holds_the_data(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],  # isolated, as users build
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if "warning" in line.lower() and "location" not in line.lower()]
    assert warnings == [], "\n".join(warnings)
    (wheel,) = tmp_path.glob("guiagent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for prompt in (ROOT / "actions" / "prompts").iterdir():
        assert f"guiagent/actions/prompts/{prompt.name}" in names
    for suite_file in (ROOT / "tasks" / "suites").rglob("*.yaml"):
        assert f"guiagent/tasks/{suite_file.relative_to(ROOT / 'tasks').as_posix()}" in names
    demo = [n for n in names if n.startswith("guiagent/tasks/demo/")]
    assert any(n.endswith("run.json") for n in demo) and any(n.endswith(".webp") for n in demo)
    assert "guiagent/tasks/report_template.html" in names
    for package in ("actions", "agent", "envs", "tasks"):
        assert f"guiagent/{package}/py.typed" in names


@pytest.mark.slow
def test_an_editable_install_prints_no_warning(tmp_path: Path) -> None:
    """The README's first command, ``pip install -e .``, in a fresh venv with the newest pip's defaults."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if "warning" in line.lower() and "location" not in line.lower()]
    assert warnings == [], "\n".join(warnings)
    imported = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('guiagent.actions').origin)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.stdout.strip() == str(ROOT / "actions" / "__init__.py"), imported.stderr
