"""Sessions and staged pictures are bounded: a flood cannot fill memory or disk."""

from __future__ import annotations

from pathlib import Path

from dicomify.serve.config import ServeConfig
from dicomify.serve.security import MAX_SESSIONS, Auth
from dicomify.serve.staging import StagingArea


def test_sessions_are_bounded() -> None:
    auth = Auth(ServeConfig())
    first = auth.new_session("local")
    for _ in range(MAX_SESSIONS):
        auth.new_session("local")
    assert len(auth._sessions) == MAX_SESSIONS
    assert first.id not in auth._sessions  # the oldest went first


def test_staged_batches_are_bounded_and_their_files_deleted(tmp_path: Path) -> None:
    area = StagingArea(3600, max_batches=3)
    folders = []
    for index in range(5):
        folder = tmp_path / f"batch{index}"
        folder.mkdir()
        (folder / "object-0000.dcm").write_bytes(b"x")
        folders.append(folder)
        area.add("owner", folder, [])
    assert [f.exists() for f in folders] == [False, False, True, True, True]


def test_staged_batches_expire(tmp_path: Path) -> None:
    area = StagingArea(0.0)
    folder = tmp_path / "batch"
    folder.mkdir()
    batch = area.add("owner", folder, [])
    assert area.get(batch.id, "owner") is None and not folder.exists()
