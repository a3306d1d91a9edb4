"""`dicomify serve`: start the capture page and HTTP API (uvicorn)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..errors import DicomifyError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="start the capture page and HTTP API",
        description="Serve the capture page and the HTTP API (OpenAPI at /openapi.json). Without "
        "authentication in the configuration it listens on loopback only.",
    )
    parser.add_argument("--config", metavar="FILE.toml", help="the server's configuration (docs/serve.md)")
    parser.add_argument("--host", help="address to listen on (default: the config's, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: the config's, else 8080; 0 picks a free one)")
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password (twice, not echoed) and print its hash for [auth.users]; start nothing",
    )
    parser.add_argument("--log-level", choices=["warning", "info", "debug"], default="info")
    parser.set_defaults(func=run)


def _import_server() -> Any:
    try:
        import uvicorn

        from .. import serve
    except ImportError as error:
        raise DicomifyError(
            f"dicomify serve needs its extra ({error.name} is missing): pip install 'dicomify[serve]'"
        ) from None
    return uvicorn, serve


def run(args: argparse.Namespace) -> int:
    if args.hash_password:
        from ..serve.passwords import hash_password

        if sys.stdin.isatty():
            first = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != first:
                raise DicomifyError("the two passwords differ")
        else:
            first = sys.stdin.readline().rstrip("\r\n")
        if len(first) < 8:
            raise DicomifyError("a password needs at least 8 characters")
        print(hash_password(first))
        return 0
    uvicorn, serve = _import_server()
    config = serve.load_config(args.config)
    host = args.host or config.host
    port = config.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise DicomifyError(f"--port {port} is not a port number")
    config.check_listen(host)
    app = serve.create_app(config)
    _log_to_stderr(args.log_level)
    uv_config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,  # its lines hold query strings, which may hold patient data: ours do not
        log_level=args.log_level,
        server_header=False,
        lifespan="on",
    )
    server = uvicorn.Server(uv_config)
    _announce(server, host)
    server.run()
    return 0


def _log_to_stderr(level: str) -> None:
    """The server's own lines (method, path, status: never patient data at info) on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger("dicomify")
    logger.addHandler(handler)
    logger.setLevel(level.upper())


def _announce(server: Any, host: str) -> None:
    """Print the address once listening (the port may have been picked by the system)."""
    startup = server.startup

    async def startup_and_print(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        for listener in getattr(server, "servers", []):
            for sock in listener.sockets:
                address = sock.getsockname()
                shown = f"[{address[0]}]" if ":" in address[0] else address[0]
                print(f"dicomify serve: listening on http://{shown}:{address[1]}/", flush=True)
                return

    server.startup = startup_and_print
