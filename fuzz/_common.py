"""What every harness shares: the oracle (what counts as a finding) and the run.

A finding is anything but a clean outcome: a picture that converts and reads back, or
a typed dicomify error its reader raised on purpose. These are findings:

* any other exception (a traceback in the CLI: a crash);
* an InputError from the read stage's catch-all ("does not recognise"): no reader knew why;
* a bare DicomifyError from the builder or the encoder (a frame of the wrong shape ...);
* a hang or runaway memory: libFuzzer's ``-timeout`` and ``-rss_limit_mb`` catch those.

Run one harness by hand (longer runs find more)::

    python fuzz/fuzz_tiff.py -max_total_time=600 -timeout=10 -rss_limit_mb=2048 CORPUS_DIR

``CORPUS_DIR`` starts from the seeds ``python fuzz/seeds.py OUT_DIR`` writes (made
with the test helpers); libFuzzer adds what it finds there. Every finding becomes a
regression test (tests/test_fuzz_findings.py).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    import dicomify
    from dicomify.options import ConvertOptions

# tifffile logs every oddity it meets; thousands of lines a second drown the fuzzer's own.
logging.getLogger("tifffile").setLevel(logging.CRITICAL)

# Small limits: the fuzzer explores structure, not size, and must not be killed by
# a picture that is large on purpose.
OPTIONS = ConvertOptions(max_pixels=4_000_000, max_frames=64, max_bytes=64 * 1024 * 1024)
SAFETY_NET = "does not recognise"


class Finding(Exception):
    """An outcome the oracle refuses (raised so libFuzzer records the input)."""


def convert_or_refuse(data: bytes, options: ConvertOptions = OPTIONS) -> None:
    """Convert ``data`` through the whole pipeline; a typed input error is a clean refusal."""
    try:
        dicomify.convert(data, io.BytesIO(), options=options)
    except dicomify.InputError as error:
        if SAFETY_NET in str(error) or "\n" in str(error):
            raise Finding(f"unrecognised decoder failure: {error}") from error
    except dicomify.MetadataError:
        pass  # a Modality the IOD forbids, say: not this target's concern


def reader_target(magics: tuple[bytes, ...]) -> Callable[[bytes], None]:
    """A harness for one reader: inputs that would go to another reader are skipped."""

    def test_one_input(data: bytes) -> None:
        if data.startswith(magics) or any(m in data[:64] for m in magics if len(m) > 4):
            convert_or_refuse(data)

    return test_one_input


def run(test_one_input: Callable[[bytes], None]) -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
