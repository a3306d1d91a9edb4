"""A real Orthanc on loopback, started and stopped by the tests (Debian packages orthanc, orthanc-dicomweb)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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


ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Orthanc:
    """One Orthanc process with a generated configuration in its own folder."""

    def __init__(self, folder: Path, aet: str = "ORTHANC", **overrides: Any) -> None:
        self.folder = folder
        self.aet = aet
        self.dicom_port = free_port()
        self.http_port = free_port()
        self.config: dict[str, Any] = {
            "Name": f"dicomify-test-{folder.name}",
            "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "index"),
            "StorageCompression": False,
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": aet,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomScpTimeout": 30,
            "HttpThreadsCount": 8,
            "ConcurrentJobs": 1,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        self.config.update(overrides)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "orthanc.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def start(self) -> Orthanc:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "orthanc.json"
        config.write_text(json.dumps(self.config, indent=2))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([ORTHANC, str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                response = httpx.get(f"{self.url}/system", auth=self._auth(), timeout=2)
                if response.status_code in (200, 401):
                    if self._dicom_listening():
                        return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {START_TIMEOUT} s:\n{self.log.read_text()[-3000:]}")

    def _dicom_listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.dicom_port), timeout=1):
                return True
        except OSError:
            return False

    def _auth(self) -> tuple[str, str] | None:
        users = self.config.get("RegisteredUsers") or {}
        if users:
            user, password = next(iter(users.items()))
            return (user, password)
        return None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.get(f"{self.url}{path}", auth=self._auth(), timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def json(self, path: str) -> Any:
        return self.get(path).json()

    def instance_id(self, sop_instance_uid: str) -> str | None:
        """Orthanc's id of the instance with this SOP Instance UID, or None."""
        response = httpx.post(f"{self.url}/tools/lookup", content=sop_instance_uid, auth=self._auth(), timeout=30)
        response.raise_for_status()
        for entry in response.json():
            if entry["Type"] == "Instance":
                return str(entry["ID"])
        return None

    def instances(self) -> list[str]:
        return list(self.json("/instances"))

    def clear(self) -> None:
        for patient in self.json("/patients"):
            httpx.delete(f"{self.url}/patients/{patient}", auth=self._auth(), timeout=30).raise_for_status()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """Ask to stop (SIGTERM) without waiting; :meth:`stop` waits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# -- TLS: a test CA, a server and a client certificate ---------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path  # the test CA's certificate
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: verifying with it must fail


def write_pki(folder: Path) -> Pki:
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
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
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
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
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
