"""Modality Worklist queries against two real worklist SCPs: Orthanc's plugin and DCMTK's wlmscpfs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from dicomify.cli import main
from dicomify.errors import NetworkError
from dicomify.net import DicomDestination, OrderError, QueryError, find_order, find_worklist
from dicomify.net._worklist import worklist_date

from .orthanc_server import Orthanc, free_port
from .worklist_servers import Wlmscpfs, order, write_item


def _accession() -> str:
    return "A" + uuid.uuid4().hex[:9].upper()


class Server:
    """One worklist SCP as the tests see it: where to write items, how to reach it."""

    def __init__(self, folder: Path, port: int, aet: str) -> None:
        self.folder = folder
        self.port = port
        self.aet = aet

    def add(self, item: Any) -> None:
        write_item(self.folder, uuid.uuid4().hex, item)

    def destination(self, **kwargs: Any) -> DicomDestination:
        return DicomDestination("127.0.0.1", self.port, called_aet=self.aet, timeout=10, **kwargs)

    def flags(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port), "-aec", self.aet, "-to", "10"]


@pytest.fixture(params=["orthanc", "wlmscpfs"])
def server(request: pytest.FixtureRequest) -> Server:
    if request.param == "orthanc":
        orthanc: Orthanc = request.getfixturevalue("orthanc_worklist")
        return Server(orthanc.worklists, orthanc.dicom_port, orthanc.aet)  # type: ignore[attr-defined]
    wlm: Wlmscpfs = request.getfixturevalue("wlmscpfs")
    return Server(wlm.items, wlm.port, wlm.aet)


def test_an_order_comes_back_with_every_field(server: Server) -> None:
    accession = _accession()
    written = order(accession, patient_name="DOE^JANE", patient_id="P-77")
    server.add(written)
    items = find_worklist(server.destination(), accession=accession)
    assert len(items) == 1
    item = items[0]
    assert item.as_dict() == {
        "patient_name": "DOE^JANE",
        "patient_id": "P-77",
        "birth_date": "19800102",
        "sex": "F",
        "accession_number": accession,
        "requested_procedure_id": f"RP-{accession}",
        "requested_procedure": "Wound photography",
        "study_instance_uid": written.StudyInstanceUID,
        "referring_physician": "HOUSE^GREGORY",
        "step_id": f"SPS-{accession}",
        "step_description": "Photograph the left forearm",
        "modality": "XC",
        "station_aet": "DICOMIFY",
        "start_date": "20260315",
        "start_time": "093000",
    }
    codes = item.dataset.RequestedProcedureCodeSequence
    assert [(c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning) for c in codes] == [
        ("WOUNDPH", "99DICOMIFY", "Wound photography")
    ]
    protocol = item.dataset.ScheduledProcedureStepSequence[0].ScheduledProtocolCodeSequence[0]
    assert protocol.CodeValue == "PHOTO1"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"date": "20300101"}, {"a"}),
        ({"date": "2030-01-02"}, {"b"}),
        ({"date": "20300101-20300102"}, {"a", "b"}),
        ({"modality": "xc"}, {"a"}),
        ({"station_aet": "CAMERA2"}, {"b"}),
        ({"patient_id": "PID-B"}, {"b"}),
        ({"patient_name": "ROE^*"}, {"b"}),
        ({"patient_name": "D?E^JOHN"}, {"a"}),
    ],
)
def test_filters_narrow_the_answer(server: Server, filters: dict[str, str], expected: set[str]) -> None:
    # Both orders share a referring physician unique to this test, so other tests' items stay out.
    tag = uuid.uuid4().hex[:8].upper()
    accessions = {"a": f"{tag}-A", "b": f"{tag}-B"}
    server.add(order(accessions["a"], patient_name="DOE^JOHN", patient_id="PID-A", date="20300101"))
    server.add(
        order(
            accessions["b"],
            patient_name="ROE^RICHARD",
            patient_id="PID-B",
            date="20300102",
            modality="OT",
            station_aet="CAMERA2",
        )
    )
    found = {item.accession_number for item in find_worklist(server.destination(), **filters)}
    assert {key for key, accession in accessions.items() if accession in found} == expected


@pytest.mark.parametrize(
    ("charset", "name"),
    [
        ("ISO_IR 100", "MÜLLER^JÜRGEN"),
        (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("GB18030", "Zhang^San=张^三"),
        ("ISO_IR 192", "Ωμέγα^Ελένη"),
    ],
)
def test_names_in_other_character_sets_are_decoded(server: Server, charset: str | list[str], name: str) -> None:
    accession = _accession()
    server.add(order(accession, patient_name=name, charset=charset))
    (item,) = find_worklist(server.destination(), accession=accession)
    assert item.patient_name == name
    assert str(item.dataset.PatientName) == name


def test_latin1_answers_from_orthanc_default_encoding(orthanc_factory: Any, tmp_path: Path) -> None:
    """Orthanc's default answer encoding is Latin-1 (ISO_IR 100): decoded, not mangled."""
    from .worklist_servers import WORKLIST_PLUGIN

    folder = tmp_path / "wl"
    write_item(folder, "one", order("LATIN1", patient_name="Çelik^Gül", charset="ISO_IR 192"))
    latin = orthanc_factory(
        "worklist-latin1",
        Plugins=[str(WORKLIST_PLUGIN)],
        Worklists={"Enable": True, "Database": str(folder)},
        DicomModalities={"dicomify": ["DICOMIFY", "127.0.0.1", 104]},
    )
    try:
        (item,) = find_worklist(DicomDestination("127.0.0.1", latin.dicom_port, called_aet="ORTHANC", timeout=10))
        assert item.dataset.SpecificCharacterSet == "ISO_IR 100"
        assert item.patient_name == "Çelik^Gül"
    finally:
        latin.kill()


def test_find_order_needs_exactly_one(server: Server) -> None:
    accession = _accession()
    server.add(order(accession, patient_name="ONLY^ONE"))
    assert find_order(server.destination(), accession).patient_name == "ONLY^ONE"

    with pytest.raises(OrderError, match=r"No scheduled procedure with accession number 'NO.*' in the worklist"):
        find_order(server.destination(), f"NO{accession}")

    twice = _accession()
    server.add(order(twice, patient_name="FIRST^PATIENT", step_id="S1"))
    server.add(order(twice, patient_name="SECOND^PATIENT", step_id="S2"))
    with pytest.raises(OrderError) as caught:
        find_order(server.destination(), twice)
    message = str(caught.value)
    assert message.startswith(f"2 scheduled procedures have accession number {twice!r}")
    assert "FIRST^PATIENT" in message and "SECOND^PATIENT" in message and "S1" in message and "S2" in message

    with pytest.raises(OrderError, match="no wildcards"):
        find_order(server.destination(), "A*")
    with pytest.raises(NetworkError, match="The AccessionNumber filter '0123456789ABCDEFG' is not valid"):
        find_order(server.destination(), "0123456789ABCDEFG")


def test_wrong_called_ae_title_is_a_clear_error(orthanc_worklist: Orthanc) -> None:
    destination = DicomDestination("127.0.0.1", orthanc_worklist.dicom_port, called_aet="NOT-ORTHANC", timeout=10)
    with pytest.raises(
        QueryError, match=r"rejected the association \(Rejected Permanent.*Called AE title not recognised"
    ):
        find_worklist(destination)


def test_unknown_calling_ae_title_is_a_clear_error(orthanc_worklist: Orthanc) -> None:
    """Orthanc answers worklist queries only from the modalities it knows."""
    stranger = DicomDestination(
        "127.0.0.1", orthanc_worklist.dicom_port, called_aet=orthanc_worklist.aet, calling_aet="STRANGER", timeout=10
    )
    with pytest.raises(QueryError, match=r"does it know our AE title STRANGER\?"):
        find_worklist(stranger)


def test_unreachable_server_is_a_clear_error() -> None:
    destination = DicomDestination("127.0.0.1", free_port(), timeout=5, retries=1, backoff=0.1)
    with pytest.raises(QueryError, match=r"cannot connect \(Connection refused\)"):
        find_worklist(destination)


@pytest.mark.parametrize("bad", ["tomorrow", "2026", "20261301", "20260101-2026"])
def test_a_bad_date_is_refused_before_querying(bad: str) -> None:
    with pytest.raises(NetworkError, match=f"The date '{bad}' is not valid"):
        worklist_date(bad)


def test_cli_table_and_json(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    accession = _accession()
    server.add(order(accession, patient_name="Müller^Jürgen", patient_id="P-CLI", charset="ISO_IR 100"))
    assert main(["worklist", *server.flags(), "--accession", accession]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "PATIENT",
        "ID",
        "BIRTH",
        "ACCESSION",
        "PROCEDURE",
        "DATE",
        "TIME",
        "MODALITY",
        "STATION",
    ]
    assert lines[1].split()[:4] == ["Müller^Jürgen", "P-CLI", "19800102", accession]

    assert main(["worklist", *server.flags(), "--accession", accession, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["patient_name"] == "Müller^Jürgen" and entry["step_id"] == f"SPS-{accession}"


def test_cli_no_match_and_bad_input(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worklist", *server.flags(), "--accession", "NOTHING-HERE"]) == 1
    assert "no scheduled procedure matches" in capsys.readouterr().err

    assert main(["worklist", *server.flags(), "--date", "someday"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dicomify: error: The date 'someday' is not valid") and err.count("\n") == 1

    assert main(["worklist", "--stow", "http://127.0.0.1:1/dicom-web"]) == 1
    assert "give --host HOST, not --stow" in capsys.readouterr().err
