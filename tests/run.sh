#!/usr/bin/env bash
# Set up and run guiagent's whole test suite on a fresh machine (this is what CI runs).
#
# Installs the system packages the real-device tests need (Xvfb and a clipboard tool for the desktop
# driver) when they are missing and apt-get is usable, installs guiagent with every extra into the
# active Python environment, then runs the linters and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(xvfb xclip chromium tmux)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    echo "installing system packages with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} not installed and apt-get unavailable; desktop tests will be skipped" >&2
  fi
fi

python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[dev,local,android,desktop,ray,mcp]"

ruff check .
ruff format --check .
mypy actions agent envs tasks
python -m pytest -q "$@"
