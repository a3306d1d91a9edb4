"""Convert against an order (IHE Scheduled Workflow) and into a study already in the PACS.

Every attribute IHE RAD TF-2 Table A.1-1 maps from the worklist is checked in the object
Orthanc stored, read back through its REST API; dciodvfy reports no error on it.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pydicom
import pytest
from helpers.validators import dciodvfy_errors
from PIL import Image
from pydicom import Dataset

from dicomify.cli import EXIT_FAILED, EXIT_OK, main
from dicomify.errors import MetadataError
from dicomify.iod.metadata import validate
from dicomify.net import DicomDestination, find_order, order_metadata

from .net_samples import picture
from .orthanc_server import ORTHANC_AET, Orthanc
from .worklist_servers import Wlmscpfs, order, write_item


def _accession() -> str:
    return "O" + uuid.uuid4().hex[:9].upper()


def _photo(folder: Path, name: str = "wound.jpg", seed: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.fromarray(picture(seed=seed)).save(path, quality=90)
    return path


def _worklist_flags(server: Orthanc) -> list[str]:
    return ["--worklist-host", "127.0.0.1", "--worklist-port", str(server.dicom_port), "--worklist-aec", ORTHANC_AET]


def _send_flags(server: Orthanc) -> list[str]:
    return ["--send", "--host", "127.0.0.1", "--port", str(server.dicom_port), "-aec", ORTHANC_AET, "--backoff", "0.05"]


def _stored(server: Orthanc, sop_instance_uid: str, tmp_path: Path) -> tuple[Dataset, Path]:
    """The object as Orthanc stored it, fetched through its REST API, and a copy on disk."""
    instance = server.instance_id(sop_instance_uid)
    assert instance is not None, f"Orthanc does not have {sop_instance_uid}"
    data = server.get(f"/instances/{instance}/file").content
    path = tmp_path / f"stored-{sop_instance_uid}.dcm"
    path.write_bytes(data)
    return pydicom.dcmread(io.BytesIO(data)), path


def _codes(sequence: Any) -> list[tuple[str, str, str]]:
    return [(item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning) for item in sequence]


def _check_table_a11(stored: Dataset, written: Dataset) -> None:
    """Each attribute of IHE RAD TF-2 Table A.1-1 holds the order's value."""
    step = written.ScheduledProcedureStepSequence[0]
    # Patient
    assert str(stored.PatientName) == str(written.PatientName)
    assert stored.PatientID == written.PatientID
    assert stored.IssuerOfPatientID == written.IssuerOfPatientID
    assert stored.PatientBirthDate == written.PatientBirthDate
    assert stored.PatientSex == written.PatientSex
    (other,) = stored.OtherPatientIDsSequence
    assert (other.PatientID, other.IssuerOfPatientID, other.TypeOfPatientID) == (
        written.OtherPatientIDsSequence[0].PatientID,
        "HOSPITAL-B",
        "TEXT",
    )
    # Study
    assert stored.StudyInstanceUID == written.StudyInstanceUID
    assert stored.AccessionNumber == written.AccessionNumber
    assert str(stored.ReferringPhysicianName) == str(written.ReferringPhysicianName)
    assert stored.StudyID == written.RequestedProcedureID
    assert stored.StudyDescription == written.RequestedProcedureDescription
    assert _codes(stored.ProcedureCodeSequence) == _codes(written.RequestedProcedureCodeSequence)
    # Series: Request Attributes Sequence and the performed protocol
    (request,) = stored.RequestAttributesSequence
    assert request.RequestedProcedureID == written.RequestedProcedureID
    assert request.AccessionNumber == written.AccessionNumber
    assert request.StudyInstanceUID == written.StudyInstanceUID
    assert request.RequestedProcedureDescription == written.RequestedProcedureDescription
    assert _codes(request.RequestedProcedureCodeSequence) == _codes(written.RequestedProcedureCodeSequence)
    assert request.ScheduledProcedureStepID == step.ScheduledProcedureStepID
    assert request.ScheduledProcedureStepDescription == step.ScheduledProcedureStepDescription
    assert _codes(request.ScheduledProtocolCodeSequence) == _codes(step.ScheduledProtocolCodeSequence)
    assert _codes(stored.PerformedProtocolCodeSequence) == _codes(step.ScheduledProtocolCodeSequence)


@pytest.mark.parametrize("iod", ["photo", "sc"])
def test_convert_against_an_order_and_send(orthanc_worklist: Orthanc, tmp_path: Path, iod: str) -> None:
    accession = _accession()
    written = order(accession, patient_name="DOE^JANE", patient_id=f"P{accession}")
    write_item(orthanc_worklist.worklists, accession, written)  # type: ignore[attr-defined]
    source = _photo(tmp_path / "in")
    output = tmp_path / "out.dcm"
    code = main(
        ["convert", str(source), "-o", str(output), "--iod", iod, "--order", accession, "-q"]
        + _worklist_flags(orthanc_worklist)
        + _send_flags(orthanc_worklist)
    )
    assert code == EXIT_OK
    local = pydicom.dcmread(output)
    stored, path = _stored(orthanc_worklist, local.SOPInstanceUID, tmp_path)
    _check_table_a11(stored, written)
    _check_table_a11(local, written)
    assert dciodvfy_errors(path) == []


def test_explicit_flags_win_over_the_order(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    accession = _accession()
    write_item(orthanc_worklist.worklists, accession, order(accession))  # type: ignore[attr-defined]
    output = tmp_path / "out.dcm"
    code = main(
        ["convert", str(_photo(tmp_path)), "-o", str(output), "--order", accession]
        + ["--study-description", "Left forearm, day 3", "--set", "StudyID=S42"]
        + _worklist_flags(orthanc_worklist)
    )
    assert code == EXIT_OK
    made = pydicom.dcmread(output)
    assert made.StudyDescription == "Left forearm, day 3" and made.StudyID == "S42"
    assert made.AccessionNumber == accession and str(made.PatientName) == "DOE^JANE"


def test_worklist_settings_from_environment_and_config(
    orthanc_worklist: Orthanc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accession = _accession()
    write_item(orthanc_worklist.worklists, accession, order(accession, patient_name="ENV^PATIENT"))  # type: ignore[attr-defined]
    monkeypatch.setenv("DICOMIFY_WORKLIST_HOST", "127.0.0.1")
    monkeypatch.setenv("DICOMIFY_WORKLIST_PORT", str(orthanc_worklist.dicom_port))
    monkeypatch.setenv("DICOMIFY_WORKLIST_AEC", ORTHANC_AET)
    output = tmp_path / "env.dcm"
    assert main(["convert", str(_photo(tmp_path)), "-o", str(output), "--order", accession]) == EXIT_OK
    assert str(pydicom.dcmread(output).PatientName) == "ENV^PATIENT"

    for variable in ("DICOMIFY_WORKLIST_HOST", "DICOMIFY_WORKLIST_PORT", "DICOMIFY_WORKLIST_AEC"):
        monkeypatch.delenv(variable)
    config = tmp_path / "dicomify.json"
    config.write_text(
        json.dumps({"worklist": {"host": "127.0.0.1", "port": orthanc_worklist.dicom_port, "called_aet": ORTHANC_AET}})
    )
    output = tmp_path / "config.dcm"
    code = main(
        ["convert", str(_photo(tmp_path)), "-o", str(output), "--order", accession, "--worklist-config", str(config)]
    )
    assert code == EXIT_OK
    assert pydicom.dcmread(output).AccessionNumber == accession


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("absent", "No scheduled procedure with accession number"),
        ("twice", "2 scheduled procedures have accession number"),
        ("wrong-aec", "rejected the association"),
        ("no-host", "No worklist server: give --worklist-host"),
    ],
)
def test_order_problems_are_one_clear_line(
    orthanc_worklist: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, expected: str
) -> None:
    accession = _accession()
    flags = _worklist_flags(orthanc_worklist)
    if case == "twice":
        for step in ("S1", "S2"):
            write_item(orthanc_worklist.worklists, f"{accession}-{step}", order(accession, step_id=step))  # type: ignore[attr-defined]
    elif case == "wrong-aec":
        flags = flags[:-1] + ["NOT-ORTHANC"]
    elif case == "no-host":
        flags = []
    output = tmp_path / "out.dcm"
    assert main(["convert", str(_photo(tmp_path)), "-o", str(output), "--order", accession] + flags) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("dicomify: error: ") and expected in err and err.count("\n") == 1
    assert not output.exists()


def test_an_order_problem_gives_every_input_a_report_row(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    from dicomify.report import read_report

    accession = _accession()  # no such order in the worklist
    folder = tmp_path / "visit"
    folder.mkdir()
    _photo(folder, "a.jpg", seed=1)
    _photo(folder, "b.jpg", seed=2)
    extra = _photo(tmp_path, "c.jpg", seed=3)
    report = tmp_path / "report.csv"
    argv = [
        "convert",
        str(folder),
        str(extra),
        "-o",
        str(tmp_path / "out"),
        "--order",
        accession,
        "--report",
        str(report),
    ]
    assert main(argv + _worklist_flags(orthanc_worklist)) == EXIT_FAILED
    rows = list(read_report(report))
    assert sorted(Path(row["source"]).name for row in rows) == ["a.jpg", "b.jpg", "c.jpg"]
    assert all(row["status"] == "failed" and accession in row["message"] for row in rows)
    assert not (tmp_path / "out").exists()  # nothing converted under a missing patient


@pytest.mark.parametrize(
    ("charset", "name"),
    [
        (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("ISO_IR 100", "Müller^Jürgen"),
        ("GB18030", "Zhang^San=张^三"),
    ],
)
def test_an_order_in_another_character_set_is_written_as_utf8(
    wlmscpfs: Wlmscpfs, tmp_path: Path, charset: str | list[str], name: str
) -> None:
    accession = _accession()
    description = {"ISO_IR 100": "Plaie, avant-bras gauche", "GB18030": "伤口照片"}.get(str(charset), "創傷写真")
    written = order(accession, patient_name=name, charset=charset, RequestedProcedureDescription=description)
    write_item(wlmscpfs.items, accession, written)
    destination = DicomDestination("127.0.0.1", wlmscpfs.port, called_aet=wlmscpfs.aet, timeout=10)
    metadata = order_metadata(find_order(destination, accession))
    output = tmp_path / "jp.dcm"
    from dicomify import convert

    convert(_photo(tmp_path), output, metadata=metadata)
    made = pydicom.dcmread(output)
    assert made.SpecificCharacterSet == "ISO_IR 192"
    assert str(made.PatientName) == name
    assert made.StudyDescription == description
    assert made.RequestAttributesSequence[0].RequestedProcedureDescription == description
    assert dciodvfy_errors(output) == []


def test_order_values_are_validated() -> None:
    bad = order("V1", PatientSex="X")
    with pytest.raises(MetadataError, match="PatientSex 'X' is not one of M, F, O"):
        order_metadata(bad)
    with pytest.raises(MetadataError, match="RequestAttributesSequence item 1: 'NoSuchKeyword' is not a DICOM keyword"):
        validate({"RequestAttributesSequence": [{"NoSuchKeyword": "1"}]})
    with pytest.raises(MetadataError, match="must be a list of items"):
        validate({"RequestAttributesSequence": "RP-1"})
    with pytest.raises(MetadataError, match="RequestedProcedureID"):
        validate({"RequestAttributesSequence": [{"RequestedProcedureID": "X" * 17}]})


# -- --study-in-pacs: a new series in a study the PACS already holds ---------------


def _existing_study(server: Orthanc, tmp_path: Path, accession: str, patient_id: str, date: str) -> str:
    """A study put into Orthanc by converting and sending one picture; its Study Instance UID."""
    output = tmp_path / f"existing-{accession}.dcm"
    code = main(
        ["convert", str(_photo(tmp_path / "existing", seed=5)), "-o", str(output), "-q"]
        + ["--patient-name", "Müller^Jürgen", "--patient-id", patient_id, "--birth-date", "19700203", "--sex", "M"]
        + ["--accession-number", accession, "--study-date", date, "--study-description", "Dermatology"]
        + ["--referring-physician", "WHO^DOCTOR"]
        + _send_flags(server)
    )
    assert code == EXIT_OK
    return str(pydicom.dcmread(output).StudyInstanceUID)


@pytest.mark.parametrize("query", ["accession", "uid", "patient+date"])
def test_add_a_series_to_a_study_in_the_pacs(orthanc_worklist: Orthanc, tmp_path: Path, query: str) -> None:
    accession, patient_id = _accession(), "S" + uuid.uuid4().hex[:8]
    study_uid = _existing_study(orthanc_worklist, tmp_path, accession, patient_id, "20250607")
    text = {"accession": accession, "uid": study_uid, "patient+date": f"patient={patient_id},date=20250607"}[query]
    output = tmp_path / "new.dcm"
    code = main(
        ["convert", str(_photo(tmp_path)), "-o", str(output), "--study-in-pacs", text, "-q"]
        + _send_flags(orthanc_worklist)
    )
    assert code == EXIT_OK
    stored, path = _stored(orthanc_worklist, str(pydicom.dcmread(output).SOPInstanceUID), tmp_path)
    assert stored.StudyInstanceUID == study_uid
    assert str(stored.PatientName) == "Müller^Jürgen" and stored.PatientID == patient_id
    assert (stored.PatientBirthDate, stored.PatientSex, stored.AccessionNumber) == ("19700203", "M", accession)
    assert (stored.StudyDate, stored.StudyDescription) == ("20250607", "Dermatology")
    assert str(stored.ReferringPhysicianName) == "WHO^DOCTOR"
    assert stored.SeriesNumber == 2  # after the study's one series
    series = orthanc_worklist.json(
        f"/studies/{orthanc_worklist.json(f'/instances/{orthanc_worklist.instance_id(stored.SOPInstanceUID)}/study')['ID']}/series"
    )
    assert len(series) == 2
    assert dciodvfy_errors(path) == []


def test_study_in_pacs_needs_exactly_one_study(
    orthanc_worklist: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patient_id = "T" + uuid.uuid4().hex[:8]
    first = _existing_study(orthanc_worklist, tmp_path, _accession(), patient_id, "20250608")
    second = _existing_study(orthanc_worklist, tmp_path, _accession(), patient_id, "20250608")
    flags = _send_flags(orthanc_worklist)
    output = tmp_path / "new.dcm"
    assert (
        main(
            [
                "convert",
                str(_photo(tmp_path)),
                "-o",
                str(output),
                "--study-in-pacs",
                f"patient={patient_id},date=20250608",
            ]
            + flags
        )
        == EXIT_FAILED
    )
    err = capsys.readouterr().err
    assert "2 studies match" in err and first in err and second in err and err.count("\n") == 1
    assert (
        main(["convert", str(_photo(tmp_path)), "-o", str(output), "--study-in-pacs", "NOTHERE"] + flags) == EXIT_FAILED
    )
    assert "No study matches 'NOTHERE'" in capsys.readouterr().err
    assert main(["convert", str(_photo(tmp_path)), "-o", str(output), "--study-in-pacs", "NOTHERE"]) == EXIT_FAILED
    assert "add --send --host HOST" in capsys.readouterr().err
    assert not output.exists()


def test_the_worklist_config_timeout_holds_unless_to_is_given(tmp_path: Path) -> None:
    from dicomify.cli import build_parser
    from dicomify.cli.send import destination_from_args
    from dicomify.net import worklist_destination

    config = tmp_path / "dicomify.json"
    config.write_text(json.dumps({"worklist": {"host": "127.0.0.1", "port": 11112, "timeout": 7}}))
    args = build_parser().parse_args(["convert", "a.jpg", "-o", "a.dcm", "--send", "--host", "pacs"])
    assert args.timeout is None  # not given: the config file's or the default applies
    assert destination_from_args(args).timeout == 30.0
    assert worklist_destination(config=config, environ={}).timeout == 7.0
    given = build_parser().parse_args(["convert", "a.jpg", "-o", "a.dcm", "--send", "--host", "pacs", "-to", "5"])
    assert destination_from_args(given).timeout == 5.0
    assert worklist_destination(config=config, environ={}, timeout=given.timeout).timeout == 5.0
