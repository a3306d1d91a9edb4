"""C-FIND as a plain function: send one identifier, collect the matches (PS3.4 C.4.1, K.4.1).

Answers are decoded with the character set the peer declares in each of them
(Specific Character Set, PS3.5 6.1), so callers get Python text whatever the
archive's encoding; outcomes that are not matches raise :class:`QueryError`.
"""

from __future__ import annotations

from pydicom import Dataset
from pynetdicom import build_context
from pynetdicom.status import code_to_category

from ..errors import NetworkError
from ._assoc import Attempts, Deadline, associate, finish, is_permanent, make_ae, watchdog
from ._config import DicomDestination

__all__ = ["QueryError", "c_find"]

#: a peer answering more matches than this is cancelled (PS3.7 9.1.2.1.5)
MAX_MATCHES = 10_000


class QueryError(NetworkError):
    """A query could not be made or answered (unreachable peer, rejection, failure status)."""


def c_find(destination: DicomDestination, sop_class: str, identifier: Dataset, what: str) -> list[Dataset]:
    """Every match of ``identifier`` at ``destination`` for the query model ``sop_class``.

    ``what`` names the query in messages ("worklist query"). The whole exchange
    (associating, every answer, releasing) is bounded by ``destination.timeout``.
    Raises :class:`QueryError` when the peer cannot be reached, rejects us, or
    answers a failure status.
    """
    if not isinstance(destination, DicomDestination):
        raise NetworkError(f"A {what} needs a DICOM peer (host, port, AE title), not {destination!r}.")
    ae = make_ae(destination)
    contexts = [build_context(sop_class)]
    deadline = Deadline(destination.timeout)
    problem = ""
    for _ in Attempts(destination.retries, destination.backoff, deadline):
        assoc, problem = associate(ae, destination, contexts, deadline)
        if problem:
            if is_permanent(assoc) or "accepted none" in problem:
                break
            continue
        matches: list[Dataset] = []
        failure = ""
        with watchdog(deadline, assoc=assoc):
            try:
                for status, match in assoc.send_c_find(identifier, sop_class):
                    if "Status" not in status:
                        failure = (
                            f"no answer within {destination.timeout:g} s"
                            if deadline.expired
                            else (
                                "the peer dropped the association instead of answering"
                                f" (does it know our AE title {destination.calling_aet}?)"
                            )
                        )
                        break
                    category = code_to_category(int(status.Status))
                    if category == "Pending" and match is not None:
                        matches.append(match)
                        if len(matches) > MAX_MATCHES:
                            assoc.abort()
                            failure = f"more than {MAX_MATCHES} matches: narrow the query"
                            break
                    elif category not in ("Pending", "Success"):
                        comment = str(status.get("ErrorComment", "") or "")
                        detail = f": {comment}" if comment else ""
                        failure = f"the peer answered {category.lower()} status 0x{int(status.Status):04X}{detail}"
                        break
            finally:
                if assoc.is_established:
                    assoc.release()
                finish(assoc, destination.timeout)
        if failure:
            raise QueryError(f"The {what} at {destination} failed: {failure}.")
        return matches
    if "accepted none" in problem:
        problem = "the peer does not offer this query (it accepted none of the presentation contexts)"
    raise QueryError(f"The {what} at {destination} failed: {problem}.")
