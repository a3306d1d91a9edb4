"""Real Orthanc servers on loopback for the delivery tests (no mocks).

``orthanc``: the main server (C-STORE with called AE title checked, DICOMweb with
HTTP basic authentication). The others are started with one special setting each:
refusing compressed transfer syntaxes, DICOM TLS with a certificate made here by a
self-signed test CA, a Lua filter wanting a bearer token, and a throw-away one
per test that a test may kill. Every server is stopped at the end, also on failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .orthanc_server import (
    BEARER_LUA,
    DICOMWEB_PLUGIN,
    ORTHANC,
    ORTHANC_AET,
    PASSWORD,
    USER,
    Orthanc,
    Pki,
    write_pki,
)
from .worklist_servers import WLMSCPFS, WORKLIST_PLUGIN, Wlmscpfs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use an Orthanc fixture get the ``network`` marker (``-m "not network"`` skips them)."""
    for item in items:
        if any(name.startswith(("orthanc", "wlmscpfs")) for name in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.network)


@pytest.fixture(scope="session")
def orthanc_binary() -> str:
    """Debian's orthanc and orthanc-dicomweb must be installed: fail, never skip."""
    assert Path(ORTHANC).exists(), "Orthanc is missing: apt-get install -y orthanc orthanc-dicomweb"
    assert DICOMWEB_PLUGIN.exists(), "The DICOMweb plugin is missing: apt-get install -y orthanc-dicomweb"
    return ORTHANC


@pytest.fixture(scope="session")
def orthanc_factory(tmp_path_factory: pytest.TempPathFactory, orthanc_binary: str) -> Iterator[Callable[..., Orthanc]]:
    started: list[Orthanc] = []

    def start(name: str, **overrides: Any) -> Orthanc:
        server = Orthanc(tmp_path_factory.mktemp(name), aet=ORTHANC_AET, **overrides)
        started.append(server)
        return server.start()

    yield start
    for server in started:  # stop them all at once: each takes a second or two
        server.terminate()
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def orthanc(orthanc_factory: Callable[..., Orthanc]) -> Orthanc:
    return orthanc_factory(
        "orthanc",
        DicomCheckCalledAet=True,
        AuthenticationEnabled=True,
        RegisteredUsers={USER: PASSWORD},
    )


@pytest.fixture(scope="session")
def orthanc_no_jpeg(orthanc_factory: Callable[..., Orthanc]) -> Orthanc:
    """Accepts only the uncompressed transfer syntaxes (Orthanc's AcceptedTransferSyntaxes, 1.9.0+)."""
    return orthanc_factory("nojpeg", AcceptedTransferSyntaxes=["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])


@pytest.fixture(scope="session")
def orthanc_bearer(orthanc_factory: Callable[..., Orthanc], tmp_path_factory: pytest.TempPathFactory) -> Orthanc:
    script = tmp_path_factory.mktemp("lua") / "bearer.lua"
    script.write_text(BEARER_LUA)
    return orthanc_factory("bearer", LuaScripts=[str(script)])


@pytest.fixture
def orthanc_disposable(orthanc_factory: Callable[..., Orthanc]) -> Iterator[Orthanc]:
    """A server of this test's own, which the test may kill and restart; stopped after the test."""
    server = orthanc_factory("disposable")
    yield server
    server.kill()  # its storage is thrown away: no need to wait for a clean stop


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return write_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def orthanc_tls(orthanc_factory: Callable[..., Orthanc], pki: Pki) -> Orthanc:
    """DICOM TLS only (Orthanc 1.9.0+), asking clients for a certificate signed by the test CA."""
    return orthanc_factory(
        "tls",
        DicomTlsEnabled=True,
        DicomTlsCertificate=str(pki.server_cert),
        DicomTlsPrivateKey=str(pki.server_key),
        DicomTlsTrustedCertificates=str(pki.ca),
        DicomTlsRemoteCertificateRequired=True,
    )


# -- worklists: Orthanc's ModalityWorklists plugin and DCMTK's wlmscpfs -----------


@pytest.fixture(scope="session")
def orthanc_worklist(orthanc_factory: Callable[..., Orthanc], tmp_path_factory: pytest.TempPathFactory) -> Orthanc:
    """Orthanc serving ``server.worklists`` (``*.wl`` files the tests write), answering in UTF-8.

    Our AE title is registered as a modality: Orthanc answers worklist queries only
    from known modalities, and it is where Orthanc sends storage commitment reports.
    """
    assert WORKLIST_PLUGIN.exists(), "The worklist plugin is missing: apt-get install -y orthanc"
    folder = tmp_path_factory.mktemp("worklists")
    server = orthanc_factory(
        "worklist",
        Plugins=[str(DICOMWEB_PLUGIN), str(WORKLIST_PLUGIN)],
        Worklists={"Enable": True, "Database": str(folder)},
        DicomModalities={"dicomify": ["DICOMIFY", "127.0.0.1", 104]},
        DicomCheckCalledAet=True,
        DefaultEncoding="Utf8",
    )
    server.worklists = folder  # type: ignore[attr-defined]
    return server


@pytest.fixture(scope="session")
def wlmscpfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wlmscpfs]:
    """DCMTK's worklist SCP answering in each file's own character set (-csk)."""
    assert Path(WLMSCPFS).exists(), "wlmscpfs is missing: apt-get install -y dcmtk"
    server = Wlmscpfs(tmp_path_factory.mktemp("wlmscpfs")).start()
    yield server
    server.stop()
