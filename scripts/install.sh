#!/usr/bin/env bash
# Set-up on a fresh Debian/Ubuntu machine: the libraries the EMF/WMF renderer loads (apt-get),
# then dicomify into a virtual environment (.venv). Run the tool as .venv/bin/dicomify, or
# `source .venv/bin/activate` first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
apt_install libgl1 libegl1
"$PY" -m pip install --quiet --disable-pip-version-check .
echo "installed: $("$PY" -m dicomify --version) in $(dirname "$(dirname "$PY")")"
