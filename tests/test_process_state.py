"""No conversion changes process-wide state (dicomify runs inside servers, many threads).

A static check over the source: each of these calls changes state every thread of the
process shares, so none may appear in the package.
"""

from __future__ import annotations

import re
from pathlib import Path

import dicomify

_FORBIDDEN = {
    r"MAX_IMAGE_PIXELS\s*=": "Pillow's decompression-bomb limit is process-wide",
    r"warnings\.(filterwarnings|simplefilter|resetwarnings)\(": "warning filters are process-wide",
    r"catch_warnings\(": "catch_warnings swaps the process-wide filter list (not thread-safe)",
    r"locale\.setlocale\(": "the locale is process-wide",
    r"sys\.setrecursionlimit\(": "the recursion limit is process-wide",
    r"os\.environ\[[^]]+\]\s*=|os\.putenv\(": "the environment is process-wide",
    r"pydicom\.config\.\w+\s*=|config\.settings\.\w+\s*=": "pydicom's configuration is process-wide",
}

# Library warnings collected as notes only in processes dicomify owns (the command line's
# main thread, batch workers), never for a library caller: see the module's docstring.
_ALLOWED = {
    ("_warnings.py", r"catch_warnings\("),
    ("_warnings.py", r"warnings\.(filterwarnings|simplefilter|resetwarnings)\("),
}


def test_no_process_wide_state_is_changed() -> None:
    package = Path(dicomify.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, reason in _FORBIDDEN.items():
                if re.search(pattern, code) and (name, pattern) not in _ALLOWED:
                    found.append(f"{name}:{number}: {line.strip()} ({reason})")
    assert found == []
