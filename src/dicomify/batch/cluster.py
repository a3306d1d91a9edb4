"""Running a batch on a Dask cluster: :func:`dask_executor`."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import DicomifyError

__all__ = ["DASK_CONNECT_TIMEOUT", "dask_executor"]

#: seconds to wait for the Dask scheduler before giving up
DASK_CONNECT_TIMEOUT = 30.0


@contextmanager
def dask_executor(address: str, timeout: float | None = None) -> Iterator[cf.Executor]:
    """An executor on the Dask cluster at ``address``, for :func:`~dicomify.batch.convert_many`.

    The client is closed when the ``with`` block ends::

        with dask_executor("tcp://scheduler:8786") as executor:
            for outcome in convert_many(["photos/"], "out/", executor=executor): ...

    Parameters
    ----------
    address
        The scheduler's address (``tcp://host:8786``).
    timeout
        Seconds to wait for the scheduler (default :data:`DASK_CONNECT_TIMEOUT`).

    Yields
    ------
    concurrent.futures.Executor
        ``Client.get_executor(pure=False)``: two files are never "the same task" to Dask.

    Raises
    ------
    DicomifyError
        When dask.distributed is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise DicomifyError("a Dask cluster needs dask.distributed: pip install 'dicomify[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT if timeout is None else timeout)
    except (OSError, TimeoutError) as error:
        raise DicomifyError(f"cannot reach the Dask scheduler at {address} ({error})") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
