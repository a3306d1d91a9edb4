#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests use, then runs them.
#   Debian: dicom3tools (dciodvfy), dcmtk and GDCM (second decoders), orthanc + orthanc-dicomweb
#   (delivery tests), libgl1 + libegl1 (loaded by the skia-python wheel that renders EMF/WMF),
#   chromium (the serve page's end-to-end tests, driven by Playwright with executable_path),
#   libjpeg-turbo-progs (djpeg: what libjpeg itself decodes of a damaged JPEG)
#   fonts-dejavu-core (a face with the symbols the bundled Liberation faces lack: metafile text fallback),
#   libtiff-tools (tiffcp, tiff2rgba: what libtiff decodes of an old-style JPEG TIFF)
#   Python: this package with its test extra, in a virtual environment (.venv, see _venv.sh)
# Then the checks: ruff, mypy, the API reference built with warnings as errors, and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k matrix).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

apt_install dicom3tools dcmtk libgdcm-tools orthanc orthanc-dicomweb libgl1 libegl1 chromium chromium-driver libjpeg-turbo-progs libtiff-tools fonts-dejavu-core

"$PY" -m pip install --quiet --disable-pip-version-check -e ".[test]"

# A validator that is missing must fail the run, never skip tests.
for tool in dciodvfy dcmdump dcmj2pnm dcmdjpls dcmcjpeg gdcmconv djpeg tiffcp tiff2rgba; do
    command -v "$tool" >/dev/null || { echo "missing required tool: $tool" >&2; exit 1; }
done

"$PY" -m ruff check src tests benchmarks fuzz
"$PY" -m ruff format --check src tests benchmarks fuzz
"$PY" -m mypy src
"$PY" -m mkdocs build --strict --quiet --site-dir "$(mktemp -d)"

"$PY" -m pytest "$@"
