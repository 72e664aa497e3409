"""The build backend: setuptools' own, with one informational notice of editable installs left out.

guiagent's import names (``guiagent.agent`` …) map onto top-level folders (``agent/`` …), so setuptools
makes editable installs with an import finder, and every such install prints "Editable installation …
Please be careful with folders in your working directory with the same name as your package". No folder
here is named ``guiagent``, so the notice never applies; a newcomer's first command should not print a
warning that does not concern them. Everything else — every other warning included — is setuptools', as is.
"""

from __future__ import annotations

import warnings
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - the PEP 517/660 hooks, re-exported unchanged


def build_editable(
    wheel_directory: str, config_settings: dict[str, Any] | None = None, metadata_directory: str | None = None
) -> str:
    """setuptools' ``build_editable``, without its "Editable installation" notice."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Editable installation")
        return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
