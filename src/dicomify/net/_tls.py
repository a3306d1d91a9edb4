"""The client side of DICOM TLS (PS3.15 B.1): an ``ssl.SSLContext`` from :class:`TLSOptions`."""

from __future__ import annotations

import ssl

from ..errors import NetworkError
from ._config import TLSOptions

__all__ = ["client_context"]


def client_context(options: TLSOptions) -> ssl.SSLContext:
    """A TLS client context that verifies the peer and presents our certificate if given."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = options.check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # PS3.15 B.9 (BCP 195)
    try:
        if options.ca is not None:
            context.load_verify_locations(cafile=str(options.ca))
        if options.cert is not None:
            context.load_cert_chain(
                certfile=str(options.cert),
                keyfile=None if options.key is None else str(options.key),
            )
    except (ssl.SSLError, OSError, ValueError) as error:
        raise NetworkError(f"Cannot use the TLS certificate files: {error}.") from error
    return context
