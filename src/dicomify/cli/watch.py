"""`dicomify watch IN_DIR`: convert and send what appears in a folder."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="convert and send the pictures that appear in a folder",
        description="Watch IN_DIR: each file, once fully written, is converted (metadata from the config, "
        "a NAME.json sidecar or the file name rule), sent to the config's [pacs] and moved to done/ or "
        "failed/, with a line in watch-report.jsonl. SIGTERM finishes the file in hand.",
    )
    parser.add_argument("folder", metavar="IN_DIR")
    parser.add_argument("--config", metavar="FILE.toml", help="the configuration (docs/serve.md): [pacs], [watch], ...")
    parser.add_argument("--once", action="store_true", help="one pass over the folder, then exit (for cron jobs)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from ..serve.config import load_config
    from ..serve.watch import Watcher

    logging.basicConfig(level=logging.INFO, format="dicomify watch: %(message)s", stream=sys.stderr)
    config = load_config(args.config)
    stop = threading.Event()
    watcher = Watcher(args.folder, config, stop)

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()  # the loop finishes the file in hand, then returns

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.once:
            while watcher.poll() and not stop.is_set():
                pass
        else:
            watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
