"""Backup → restore → identical row counts and checksums, on both engines."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from painpath.backup import table_fingerprints
from painpath.db import make_engine
from tests.cli.conftest import run
from tests.conftest import drop_database, fresh_database_url


def test_backup_and_restore_round_trip(env: dict[str, str], backend: str, tmp_path: Path) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    assert run(env, "demo", "--seed", "3", "--patients", "3").returncode == 0
    archive = tmp_path / "painpath.backup"
    made = run(env, "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["rows"] > 500 and archive.exists()

    target_dir = tmp_path / "restored"
    target_dir.mkdir()
    url, token = fresh_database_url(backend, target_dir)
    try:
        target = dict(env, PAINPATH_DATABASE_URL=url, PAINPATH_DATA_DIR=str(target_dir))
        restored = run(target, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        result = json.loads(restored.stdout)
        assert result["verified"] is True and result["mismatched"] == []
        assert result["rows"] == summary["rows"]
        assert result["schema"] == summary["schema"]
        listed = json.loads(run(target, "patients", "list").stdout)
        assert len(listed) == 3
        # Checked against the source itself, not only against the backup's own manifest.
        assert fingerprints(url) == fingerprints(env["PAINPATH_DATABASE_URL"])
        again = run(target, "restore", str(archive))
        assert again.returncode == 2 and "not empty" in again.stderr
    finally:
        drop_database(token)

    # A backup whose contents no longer match its manifest is reported, table by table.
    tampered = tmp_path / "tampered.backup"
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["diary_entries"]["sha256"] = "0" * 64
                data = json.dumps(manifest).encode()
            copy.writestr(item, data)
    again_dir = tmp_path / "tampered"
    again_dir.mkdir()
    url, token = fresh_database_url(backend, again_dir)
    try:
        target = dict(env, PAINPATH_DATABASE_URL=url, PAINPATH_DATA_DIR=str(again_dir))
        refused = run(target, "restore", str(tampered))
        assert refused.returncode == 1, (refused.stdout, refused.stderr)
        assert json.loads(refused.stdout)["mismatched"] == ["diary_entries"]
    finally:
        drop_database(token)


def fingerprints(url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(url, pool_size=1)
    try:
        return table_fingerprints(engine)
    finally:
        engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(env: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-backup.zip"
    bogus.write_text("hello")
    result = run(env, "restore", str(bogus))
    assert result.returncode == 2
    assert "not a PainPath backup" in result.stderr
