"""Real Orthanc servers on loopback for the delivery tests (no mocks).

``orthanc``: the main server (C-STORE with called AE title checked, DICOMweb with
HTTP basic authentication). The others are started with one special setting each:
refusing compressed transfer syntaxes, DICOM TLS with a certificate made here by a
self-signed test CA, a Lua filter wanting a bearer token, and a throw-away one
per test that a test may kill. Every server is stopped at the end, also on failure.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from orthanc import DICOMWEB_PLUGIN, ORTHANC, Orthanc  # noqa: E402

USER, PASSWORD = "dicomify", "s3cret"
TOKEN = "t0ken-for-tests"
ORTHANC_AET = "ORTHANC"

# Orthanc's IncomingHttpRequestFilter (Lua) sees the request headers: the DICOMweb
# routes need our bearer token, as a token-checking proxy in front of a PACS would.
BEARER_LUA = f"""
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  if string.sub(uri, 1, 11) == '/dicom-web/' then
    return httpHeaders['authorization'] == 'Bearer {TOKEN}'
  end
  return true
end
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/net/" in str(item.fspath).replace(os.sep, "/"):
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
    return orthanc_factory(
        "nojpeg", AcceptedTransferSyntaxes=["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"]
    )


@pytest.fixture(scope="session")
def orthanc_bearer(orthanc_factory: Callable[..., Orthanc], tmp_path_factory: pytest.TempPathFactory) -> Orthanc:
    script = tmp_path_factory.mktemp("lua") / "bearer.lua"
    script.write_text(BEARER_LUA)
    return orthanc_factory("bearer", LuaScripts=[str(script)])


@pytest.fixture
def orthanc_disposable(orthanc_factory: Callable[..., Orthanc]) -> Orthanc:
    """A server of this test's own, which the test may kill and restart."""
    return orthanc_factory("disposable")


# -- TLS ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path  # the test CA's certificate
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: verifying with it must fail


def _write_pki(folder: Path) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )

    def make_ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    def make_leaf(
        name: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, usage: x509.ObjectIdentifier
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = make_ca("dicomify test CA")
    _, other_cert = make_ca("dicomify unrelated CA")
    server_key, server_cert = make_leaf("localhost", ca_key, ca_cert, ExtendedKeyUsageOID.SERVER_AUTH)
    client_key, client_cert = make_leaf("dicomify client", ca_key, ca_cert, ExtendedKeyUsageOID.CLIENT_AUTH)
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca_cert.public_bytes(pem),
        "server_cert": server_cert.public_bytes(pem),
        "server_key": key_pem(server_key),
        "client_cert": client_cert.public_bytes(pem),
        "client_key": key_pem(client_key),
        "other_ca": other_cert.public_bytes(pem),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return Pki(**paths)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _write_pki(tmp_path_factory.mktemp("pki"))


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
