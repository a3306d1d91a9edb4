"""The HTTP API over a real running ``dicomify serve`` (uvicorn on a free loopback port), with httpx."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pydicom
import pytest
from helpers.validators import dciodvfy_errors
from net.orthanc_server import Orthanc
from PIL import Image

from dicomify.serve.passwords import hash_password

from .conftest import TOKEN, write_png, write_tiff
from .server_process import REPO, ServerProcess


def post(server: ServerProcess, path: str, files: list[tuple[str, Path]], **data: Any) -> httpx.Response:
    parts = [("file", (name.name, name.read_bytes(), "application/octet-stream")) for _, name in files]
    fields = {key: json.dumps(value) if not isinstance(value, str) else value for key, value in data.items()}
    return httpx.post(f"{server.url}{path}", files=parts, data=fields, timeout=60)


def read_dicom(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def test_health(open_server: ServerProcess) -> None:
    response = httpx.get(f"{open_server.url}/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["publish"] is True


def test_convert_one_png_gives_a_valid_dicom_with_the_pixels(open_server: ServerProcess, tmp_path: Path) -> None:
    pixels = write_png(tmp_path / "wound.png")
    response = post(
        open_server,
        "/api/convert",
        [("file", tmp_path / "wound.png")],
        metadata={"PatientName": "Doe^Jane", "PatientID": "123"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/dicom"
    out = tmp_path / "out.dcm"
    out.write_bytes(response.content)
    ds = pydicom.dcmread(out)
    assert ds.PatientName == "Doe^Jane" and ds.PatientID == "123"
    assert ds.SOPClassUID == pydicom.uid.VLPhotographicImageStorage  # the server's default IOD
    np.testing.assert_array_equal(ds.pixel_array, pixels)
    assert dciodvfy_errors(out) == []


def test_convert_png_and_multipage_tiff_gives_multipart_related(open_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    frames = write_tiff(tmp_path / "scan.tif")
    response = post(
        open_server,
        "/api/convert",
        [("file", tmp_path / "a.png"), ("file", tmp_path / "scan.tif")],
        metadata={"PatientID": "P1", "SeriesDescription": "Wound care"},
        pictures=[{"body_part": "HAND", "laterality": "L"}],
    )
    assert response.status_code == 200, response.text
    content_type = response.headers["content-type"]
    assert content_type.startswith('multipart/related; type="application/dicom"; boundary=')
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + response.content
    )
    parts = [part.get_payload(decode=True) for part in message.iter_parts()]
    assert len(parts) == 2
    photo, scan = (read_dicom(part) for part in parts)
    assert photo.BodyPartExamined == "HAND" and photo.ImageLaterality == "L"
    assert photo.AnatomicRegionSequence[0].CodeValue == "85562004"
    assert photo.AnatomicRegionSequence[0].CodingSchemeDesignator == "SCT"
    assert "Laterality" not in photo  # Image Laterality given: series Laterality must be absent (2C)
    # Three pages: a VL Photographic Image holds one frame, so it became a multi-frame SC.
    assert scan.SOPClassUID == pydicom.uid.MultiFrameGrayscaleByteSecondaryCaptureImageStorage
    np.testing.assert_array_equal(scan.pixel_array, np.stack(frames))
    # One request, one series, instance numbers in order.
    assert photo.SeriesInstanceUID == scan.SeriesInstanceUID and photo.StudyInstanceUID == scan.StudyInstanceUID
    assert [photo.InstanceNumber, scan.InstanceNumber] == [1, 2]
    assert photo.SeriesDescription == "Wound care"
    for index, part in enumerate(parts):
        path = tmp_path / f"part{index}.dcm"
        path.write_bytes(part)
        assert dciodvfy_errors(path) == []


def test_convert_as_zip(open_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "b.png", seed=2)
    files = [("file", (name, (tmp_path / name).read_bytes(), "image/png")) for name in ("a.png", "b.png")]
    response = httpx.post(
        f"{open_server.url}/api/convert", files=files, headers={"Accept": "application/zip"}, timeout=60
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["001-a.dcm", "002-b.dcm"]
        assert all(read_dicom(archive.read(name)).Modality == "XC" for name in archive.namelist())


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("text", 415, "notes.txt: not a supported picture format"),
        ("bad-sex", 422, "PatientSex 'X' is not one of M, F, O"),
        ("bad-date", 422, "PatientBirthDate '20201345': Invalid value for VR DA"),
        ("unknown-field", 422, "'Colour' is not a metadata field dicomify sets"),
        ("metadata-not-json", 422, "metadata is not valid JSON"),
        ("unknown-body-part", 422, "body part 'TAIL' is not in the table"),
        ("bomb", 413, "big.png: "),
        ("too-many", 413, "too many files in one request: at most 4"),
        ("no-file", 400, "no picture"),
        ("not-multipart", 415, "multipart/form-data"),
        ("too-large", 413, "larger than the limit of 5 MB"),
        ("empty", 422, "empty.png: the file is empty (0 bytes)"),
    ],
)
def test_errors_are_one_line_json_with_a_4xx(
    open_server: ServerProcess, tmp_path: Path, case: str, status: int, message: str
) -> None:
    png = tmp_path / "a.png"
    write_png(png)
    url = f"{open_server.url}/api/convert"
    files: list[tuple[str, tuple[str, bytes, str]]] = [("file", ("a.png", png.read_bytes(), "image/png"))]
    data: dict[str, str] = {}
    content: bytes | None = None
    headers: dict[str, str] = {}
    if case == "text":
        files = [("file", ("notes.txt", b"just text, not a picture\n", "text/plain"))]
    elif case == "bad-sex":
        data["metadata"] = json.dumps({"PatientSex": "X"})
    elif case == "bad-date":
        data["metadata"] = json.dumps({"PatientBirthDate": "2020-13-45"})
    elif case == "unknown-field":
        data["metadata"] = json.dumps({"Colour": "red"})
    elif case == "metadata-not-json":
        data["metadata"] = "{PatientID: 1"
    elif case == "unknown-body-part":
        data["pictures"] = json.dumps([{"body_part": "TAIL"}])
    elif case == "bomb":
        buffer = io.BytesIO()
        Image.new("L", (1200, 1000)).save(buffer, format="PNG")  # 1.2 MP > max_pixels 1 MP
        files = [("file", ("big.png", buffer.getvalue(), "image/png"))]
    elif case == "too-many":
        files = files * 5
    elif case == "no-file":
        files = []
        data["metadata"] = "{}"
    elif case == "not-multipart":
        files = []
        content = b'{"file": "x"}'
        headers["Content-Type"] = "application/json"
    elif case == "too-large":
        files = [("file", ("huge.png", b"\0" * (6 * 1024 * 1024), "image/png"))]
    elif case == "empty":
        files = [("file", ("empty.png", b"", "image/png"))]
    if content is not None:
        response = httpx.post(url, content=content, headers=headers, timeout=60)
    elif not files:
        response = httpx.post(url, files={"metadata": (None, b"{}")}, timeout=60)
    else:
        response = httpx.post(url, files=files or None, data=data, timeout=60)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert message in error
    assert "\n" not in error and "Traceback" not in error


def test_validate_gives_the_clis_messages_per_field(open_server: ServerProcess) -> None:
    response = httpx.post(
        f"{open_server.url}/api/validate",
        json={"PatientName": "Doe^Jane", "PatientBirthDate": "1980-02-30", "PatientSex": "f"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert set(body["errors"]) == {"PatientBirthDate"}
    assert "is not a valid date" in body["errors"]["PatientBirthDate"]
    assert body["metadata"] == {"PatientName": "Doe^Jane", "PatientSex": "F"}


def test_stage_preview_is_drawn_from_the_produced_object_then_publish_and_download(
    open_server: ServerProcess, serve_orthanc: Orthanc, tmp_path: Path
) -> None:

    pixels = write_png(tmp_path / "a.png")
    write_tiff(tmp_path / "scan.tif")
    with httpx.Client(base_url=open_server.url, timeout=60) as client:
        _stage_publish_download(client, serve_orthanc, tmp_path, pixels)


def _stage_publish_download(client: httpx.Client, serve_orthanc: Orthanc, tmp_path: Path, pixels: np.ndarray) -> None:
    import base64

    files = [
        ("file", (n, (tmp_path / n).read_bytes(), "application/octet-stream")) for n in ("a.png", "scan.tif", "a.png")
    ]
    files[2] = ("file", ("broken.jpg", b"\xff\xd8\xff\xe0 truncated", "image/jpeg"))
    response = client.post(
        "/api/stage", files=files, data={"metadata": json.dumps({"PatientID": "STAGE-1", "PatientName": "Stage^Test"})}
    )
    assert response.status_code == 200, response.text
    staged = response.json()
    first, scan, broken = staged["pictures"]
    assert first["ok"] and scan["ok"] and not broken["ok"]
    assert broken["error"].startswith("broken.jpg: ")
    assert any("Secondary Capture" in warning for warning in scan["warnings"])
    preview = Image.open(io.BytesIO(base64.b64decode(first["preview"].split(",", 1)[1])))
    np.testing.assert_array_equal(np.asarray(preview.convert("RGB")), pixels)  # small enough to be shown 1:1
    assert {"name": "Patient ID", "value": "STAGE-1"} in first["attributes"]

    download = client.get(f"/api/stage/{staged['id']}/files/0")
    assert download.status_code == 200 and download.headers["content-type"] == "application/dicom"
    assert read_dicom(download.content).SOPInstanceUID == first["sop_instance_uid"]
    assert client.get(f"/api/stage/{staged['id']}/files/2").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/stage/{staged['id']}/zip").content))
    assert len(archive.namelist()) == 2

    assert client.post(f"/api/stage/{staged['id']}/publish", params={"index": 7}).status_code == 404
    published = client.post(f"/api/stage/{staged['id']}/publish")
    assert published.status_code == 200, published.text
    outcome = published.json()
    assert [r["status"] for r in outcome["results"]] == ["stored", "stored", "not-converted"]
    assert outcome["stored"] == 2 and outcome["failed"] == 1
    for result, picture in zip(outcome["results"][:2], (first, scan), strict=False):
        assert result["sop_instance_uid"] == picture["sop_instance_uid"]  # exactly what was previewed
        instance = serve_orthanc.instance_id(picture["sop_instance_uid"])
        assert instance is not None
        tags = serve_orthanc.json(f"/instances/{instance}/simplified-tags")
        assert tags["PatientID"] == "STAGE-1" and tags["PatientName"] == "Stage^Test"
    # Someone else (here: no cookie, a fresh client is the same "local" user without a session,
    # so use a made-up id) cannot reach a batch by guessing.
    assert client.get("/api/stage/not-a-real-id/zip").status_code == 404


def test_publish_converts_and_sends_to_the_configured_pacs(
    open_server: ServerProcess, serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    write_png(tmp_path / "a.png", seed=5)
    response = post(open_server, "/api/publish", [("file", tmp_path / "a.png")], metadata={"PatientID": "PUB-1"})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "stored"
    assert serve_orthanc.instance_id(result["sop_instance_uid"]) is not None


def test_publish_to_a_pacs_that_is_down_reports_failed_per_picture(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    from net.orthanc_server import free_port

    server = start_server(
        "down", {"pacs": {"host": "127.0.0.1", "port": free_port(), "called_aet": "NOBODY", "timeout": 3}}
    )
    write_png(tmp_path / "a.png")
    response = post(server, "/api/publish", [("file", tmp_path / "a.png")])
    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == 1 and body["results"][0]["status"] == "failed"
    assert body["results"][0]["message"]


def test_publish_without_a_pacs_is_409(start_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = start_server("nopacs")
    write_png(tmp_path / "a.png")
    response = post(server, "/api/publish", [("file", tmp_path / "a.png")])
    assert response.status_code == 409
    assert "no PACS is configured" in response.json()["error"]


def test_worklist_and_studies_not_configured_are_409(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("noquery")
    for path in ("/api/worklist", "/api/studies"):
        response = httpx.get(f"{server.url}{path}", params={"patient_id": "1"})
        assert response.status_code == 409
        assert "configured" in response.json()["error"]


def test_a_host_cannot_be_given_to_a_query(open_server: ServerProcess) -> None:
    response = httpx.get(f"{open_server.url}/api/worklist", params={"host": "evil.example"})
    assert response.status_code == 400
    assert "'host' is not a filter here" in response.json()["error"]


def test_worklist_order_fills_the_objects_and_a_pacs_study_can_be_joined(
    open_server: ServerProcess, serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    from net.worklist_servers import order, write_item

    written = order("ACC-SRV-1", patient_name="ORDER^OLGA", patient_id="PID-ORDER-1")
    write_item(serve_orthanc.worklists, "ACC-SRV-1", written)  # type: ignore[attr-defined]
    found = httpx.get(f"{open_server.url}/api/worklist", params={"patient_id": "PID-ORDER-1"}, timeout=60)
    assert found.status_code == 200, found.text
    (item,) = found.json()["items"]
    assert item["patient_name"] == "ORDER^OLGA" and item["accession_number"] == "ACC-SRV-1"
    assert item["step_description"] == "Photograph the left forearm"

    write_png(tmp_path / "a.png", seed=7)
    response = post(
        open_server,
        "/api/publish",
        [("file", tmp_path / "a.png")],
        order="ACC-SRV-1",
        metadata={"SeriesDescription": "Forearm"},
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["status"] == "stored"
    stored = serve_orthanc.json(f"/instances/{serve_orthanc.instance_id(result['sop_instance_uid'])}/tags?simplify")
    assert stored["PatientName"] == "ORDER^OLGA" and stored["PatientID"] == "PID-ORDER-1"
    assert stored["AccessionNumber"] == "ACC-SRV-1"
    assert stored["StudyInstanceUID"] == written.StudyInstanceUID
    assert stored["RequestAttributesSequence"][0]["ScheduledProcedureStepID"] == "SPS-ACC-SRV-1"
    assert stored["SeriesDescription"] == "Forearm"

    # The study is in the PACS now: find it, and add a second series to it.
    studies = httpx.get(f"{open_server.url}/api/studies", params={"patient_id": "PID-ORDER-1"}, timeout=60)
    assert studies.status_code == 200, studies.text
    (study,) = studies.json()["items"]
    assert study["study_instance_uid"] == written.StudyInstanceUID
    again = post(open_server, "/api/publish", [("file", tmp_path / "a.png")], study=study["study_instance_uid"])
    (second,) = again.json()["results"]
    joined = serve_orthanc.json(f"/instances/{serve_orthanc.instance_id(second['sop_instance_uid'])}/tags?simplify")
    assert joined["StudyInstanceUID"] == written.StudyInstanceUID and joined["PatientID"] == "PID-ORDER-1"
    assert joined["SeriesInstanceUID"] != stored["SeriesInstanceUID"]


def test_an_order_that_is_not_in_the_worklist_is_422(open_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    response = post(open_server, "/api/convert", [("file", tmp_path / "a.png")], order="NO-SUCH-ORDER")
    assert response.status_code == 422
    assert "No scheduled procedure with accession number 'NO-SUCH-ORDER'" in response.json()["error"]


def test_no_patient_data_in_the_log_and_nothing_left_in_the_private_area(
    start_server: Callable[..., ServerProcess], pacs_section: dict[str, Any], tmp_path: Path
) -> None:
    server = start_server("privacy", {"pacs": pacs_section})
    write_png(tmp_path / "Secretname-photo.png")
    metadata = {"PatientName": "Secretname^Private", "PatientID": "PID-98765", "AccessionNumber": "ACC-55555"}
    for path in ("/api/convert", "/api/publish", "/api/stage"):
        response = post(server, path, [("file", tmp_path / "Secretname-photo.png")], metadata=metadata)
        assert response.status_code == 200
    httpx.get(f"{server.url}/api/studies", params={"patient_id": "PID-98765"})
    server.stop()
    log = server.log_text()
    assert "POST /api/publish 200" in log  # the log is there
    for secret in ("Secretname", "PID-98765", "ACC-55555"):
        assert secret not in log
    # The private area was removed with the server; while running it is 0700.
    assert list(server.temp.iterdir()) == []


def test_private_area_is_only_ours_and_emptied_after_each_request(open_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    assert post(open_server, "/api/convert", [("file", tmp_path / "a.png")]).status_code == 200
    entries = list(open_server.temp.iterdir())
    assert len(entries) == 1, sorted(open_server.temp.rglob("*"))
    private = entries[0]
    assert private.stat().st_mode & 0o777 == 0o700
    leftovers = [p for p in private.rglob("*") if p.is_file() and "req-" in str(p)]
    staged_or_zip = [p for p in leftovers if p.name.startswith("object-")]
    assert all(p.name.startswith("object-") for p in leftovers) and len(staged_or_zip) == len(leftovers)


def test_refuses_to_listen_beyond_loopback_without_authentication(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0 without authentication" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('[pacs]\nhost = "pacs"\nport = 99999\n')
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "serve.toml" in result.stderr and "99999" in result.stderr


# -- authentication and CSRF ----------------------------------------------------------------


@pytest.fixture(scope="module")
def locked_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server("locked", {"auth": {"token": TOKEN, "users": {"nurse": hash_password("correct horse")}}})


def test_token_is_needed(locked_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    files = [("file", ("a.png", (tmp_path / "a.png").read_bytes(), "image/png"))]
    url = f"{locked_server.url}/api/convert"
    assert httpx.post(url, files=files).status_code == 401
    wrong = httpx.post(url, files=files, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "the bearer token is not valid"
    right = httpx.post(url, files=files, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200 and right.headers["content-type"] == "application/dicom"
    assert httpx.get(f"{locked_server.url}/api/regions").status_code == 401
    assert httpx.get(f"{locked_server.url}/", follow_redirects=False).headers["location"] == "/login"


def test_login_session_and_csrf(locked_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    with httpx.Client(base_url=locked_server.url, timeout=60) as client:
        _login_session_and_csrf(client, locked_server, tmp_path)


def _login_session_and_csrf(client: httpx.Client, locked_server: ServerProcess, tmp_path: Path) -> None:
    bad = client.post("/login", data={"user": "nurse", "password": "wrong"})
    assert bad.status_code == 401
    good = client.post("/login", data={"user": "nurse", "password": "correct horse"})
    assert good.status_code == 303 and "dicomify_session" in client.cookies
    assert "httponly" in good.headers["set-cookie"].lower() and "samesite=strict" in good.headers["set-cookie"].lower()
    page = client.get("/")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf" content="', 1)[1].split('"', 1)[0]
    files = [("file", ("a.png", (tmp_path / "a.png").read_bytes(), "image/png"))]
    no_token = client.post("/api/stage", files=files)
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["error"]
    ok = client.post("/api/stage", files=files, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    batch = ok.json()["id"]
    # Another site's page cannot make the browser post, even with the cookie and a token.
    forged = client.post("/api/stage", files=files, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert forged.status_code == 403
    # The token user does not see the session's staged pictures.
    other = httpx.get(f"{locked_server.url}/api/stage/{batch}/zip", headers={"Authorization": f"Bearer {TOKEN}"})
    assert other.status_code == 404
    assert client.get(f"/api/stage/{batch}/zip").status_code == 200


def test_hash_password_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "serve", "--hash-password"],
        input="a long password\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    from dicomify.serve.passwords import verify_password

    hashed = result.stdout.strip()
    assert hashed.startswith("scrypt$") and verify_password("a long password", hashed)
    assert not verify_password("another password", hashed)


def test_a_tiff_whose_pages_differ_makes_several_objects_and_all_are_published(
    open_server: ServerProcess, serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    pages = [Image.fromarray(np.full((40, 50), 100, np.uint8)), Image.fromarray(np.full((30, 20), 200, np.uint8))]
    pages[0].save(tmp_path / "mixed.tif", save_all=True, append_images=pages[1:])
    converted = post(open_server, "/api/convert", [("file", tmp_path / "mixed.tif")])
    assert converted.status_code == 200
    assert converted.headers["content-type"].startswith("multipart/related")
    with httpx.Client(base_url=open_server.url, timeout=60) as client:
        files = [("file", ("mixed.tif", (tmp_path / "mixed.tif").read_bytes(), "image/tiff"))]
        staged = client.post(
            "/api/stage", files=files, data={"metadata": json.dumps({"PatientID": "PID-MIXED"})}
        ).json()
        (picture,) = staged["pictures"]
        assert len(picture["sop_instance_uids"]) == 2
        assert any("2 DICOM objects" in warning for warning in picture["warnings"])
        archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/stage/{staged['id']}/zip").content))
        assert archive.namelist() == ["001-mixed.dcm", "001-mixed-2.dcm"]
        outcome = client.post(f"/api/stage/{staged['id']}/publish").json()
    assert outcome["results"][0]["status"] == "stored"
    for uid in picture["sop_instance_uids"]:
        assert serve_orthanc.instance_id(uid) is not None


def test_publish_with_storage_commitment(
    start_server: Callable[..., ServerProcess], pacs_section: dict[str, Any], serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    from net.orthanc_server import free_port

    port = free_port()
    # Orthanc sends its commitment report to where it knows our AE title listens.
    httpx.put(
        f"{serve_orthanc.url}/modalities/dicomify",
        json={"AET": "DICOMIFY", "Host": "127.0.0.1", "Port": port},
        timeout=10,
    ).raise_for_status()
    server = start_server(
        "commit", {"pacs": {**pacs_section, "storage_commitment": True, "commit_port": port, "commit_wait": 20}}
    )
    write_png(tmp_path / "a.png", seed=12)
    write_tiff(tmp_path / "scan.tif")
    response = post(server, "/api/publish", [("file", tmp_path / "a.png"), ("file", tmp_path / "scan.tif")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["committed", "committed"], body
    assert body["stored"] == 2 and body["failed"] == 0


def test_storage_commitment_needs_c_store(tmp_path: Path) -> None:
    from dicomify import DicomifyError
    from dicomify.serve import load_config

    path = tmp_path / "c.toml"
    path.write_text('[pacs]\nstow = "http://127.0.0.1:1/dicom-web"\nstorage_commitment = true\n')
    with pytest.raises(DicomifyError) as raised:
        load_config(path)
    assert "storage_commitment: needs a C-STORE destination" in str(raised.value)


def test_publish_by_stow_rs(start_server: Callable[..., ServerProcess], serve_orthanc: Orthanc, tmp_path: Path) -> None:
    server = start_server("stow", {"pacs": {"stow": serve_orthanc.dicomweb}})
    write_png(tmp_path / "a.png", seed=13)
    response = post(server, "/api/publish", [("file", tmp_path / "a.png")], metadata={"PatientID": "PID-STOW"})
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["status"] == "stored", result
    assert serve_orthanc.instance_id(result["sop_instance_uid"]) is not None


def test_a_pdf_and_a_video_are_staged_with_a_preview_from_the_object(
    open_server: ServerProcess, tmp_path: Path
) -> None:
    import base64

    from helpers.video import clip

    page = Image.new("RGB", (400, 560), "white")
    page.paste((200, 20, 20), (40, 40, 200, 120))
    pdf = io.BytesIO()
    page.save(pdf, format="PDF", resolution=72)
    video = clip(tmp_path / "clip.mp4", options={"profile": "high", "level": "4.1"})
    files = [
        ("file", ("letter.pdf", pdf.getvalue(), "application/pdf")),
        ("file", ("clip.mp4", video.read_bytes(), "video/mp4")),
    ]
    with httpx.Client(base_url=open_server.url, timeout=60) as client:
        data = {"metadata": json.dumps({"PatientID": "DOC-1"}), "pictures": json.dumps([{}, {"body_part": "ARM"}])}
        response = client.post("/api/stage", files=files, data=data)
    assert response.status_code == 200, response.text
    letter, movie = response.json()["pictures"]
    assert letter["ok"] and movie["ok"], (letter, movie)
    assert {"name": "Object", "value": "Encapsulated PDF Storage"} in letter["attributes"]
    preview = np.asarray(Image.open(io.BytesIO(base64.b64decode(letter["preview"].split(",", 1)[1]))).convert("RGB"))
    red = preview[int(preview.shape[0] * 0.14), int(preview.shape[1] * 0.3)]
    assert red[0] > 150 and red[1] < 100  # the page as PDFium draws it from the stored document
    assert {"name": "Object", "value": "Video Photographic Image Storage"} in movie["attributes"]
    assert movie["preview"].startswith("data:image/png;base64,")
