"""Consistent online backups of the whole database, and a verified restore.

A backup file is a zip with ``manifest.json`` (engine, schema revision, per-table row
counts and checksums) and the data: a SQLite database made with SQLite's online
backup API, or a ``pg_dump`` custom-format archive for PostgreSQL. ``restore`` loads
it into an EMPTY database of the same engine and checks every table's row count and
checksum against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import make_url

import painpath.models  # noqa: F401  (every table)
from painpath import migrate
from painpath.db import Base
from painpath.kit.errors import InvalidInput

FORMAT = "painpath-backup/1"


def table_fingerprints(engine: Engine) -> dict[str, dict[str, Any]]:
    """Row count and a SHA-256 over every row (ordered by primary key) per table."""
    with engine.connect() as conn:
        return _fingerprints_on(conn)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InvalidInput(f"{name} is not installed: install the PostgreSQL client tools")
    return path


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return [*args, "-d", u.database or "postgres"], env


def backup(engine: Engine, url: str, out: Path) -> dict[str, Any]:
    """Write a consistent backup of the database at ``url`` to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if engine.dialect.name == "sqlite":
            data = work / "database.sqlite"
            source = sqlite3.connect(make_url(url).database or "")
            target = sqlite3.connect(data)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
            snapshot = _sqlite_engine(data)
            fingerprints = table_fingerprints(snapshot)
            snapshot.dispose()
        else:
            data = work / "database.dump"
            args, env = _pg_env(url)
            # One repeatable-read snapshot for the dump; fingerprints from the dump itself
            # would need a restore, so they are taken in the same snapshot via pg_dump's
            # exported snapshot.
            with engine.connect() as conn:
                conn.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                subprocess.run(  # noqa: S603 (arguments come from the configured URL)
                    [
                        _tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot_id}",
                        "-f",
                        str(data),
                        *args,
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                fingerprints = _fingerprints_on(conn)
                conn.execute(text("COMMIT"))
        manifest = {
            "format": FORMAT,
            "engine": engine.dialect.name,
            "schema": migrate.current_revision(engine),
            "created_at": datetime.now(UTC).isoformat(),
            "tables": fingerprints,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(out.suffix + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
            archive.write(data, data.name)
        os.replace(partial, out)
    return {
        "written": str(out),
        "engine": manifest["engine"],
        "schema": manifest["schema"],
        "rows": sum(t["rows"] for t in fingerprints.values()),
    }


def _fingerprints_on(conn: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for table in Base.metadata.sorted_tables:
        digest = hashlib.sha256()
        count = 0
        order = list(table.primary_key.columns) or list(table.columns)
        for row in conn.execute(select(table).order_by(*order)):
            digest.update(json.dumps([_canonical(v) for v in row], default=str).encode())
            count += 1
        out[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return out


def _sqlite_engine(path: Path) -> Engine:
    from painpath.db import make_engine

    return make_engine(f"sqlite:///{path}", pool_size=1)


def _is_empty(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    if not names:
        return True
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in names and conn.execute(select(table).limit(1)).first() is not None:
                return False
    return not names - set(Base.metadata.tables)


def restore(engine: Engine, url: str, source: Path) -> dict[str, Any]:
    """Restore ``source`` into the empty database at ``url`` and verify it."""
    if not source.is_file():
        raise InvalidInput(f"no backup file at {source}", field="FILE")
    try:
        archive = zipfile.ZipFile(source)
        manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError):
        raise InvalidInput(f"{source} is not a PainPath backup", field="FILE") from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"{source} is not a PainPath backup ({FORMAT})", field="FILE")
    if manifest["engine"] != engine.dialect.name:
        raise InvalidInput(
            f"this backup is of a {manifest['engine']} database; restore it into "
            f"{manifest['engine']}, not {engine.dialect.name}",
            field="FILE",
        )
    if not _is_empty(engine):
        raise InvalidInput(
            "the target database is not empty: restore into a new, empty database",
            field="PAINPATH_DATABASE_URL",
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if engine.dialect.name == "sqlite":
            archive.extract("database.sqlite", work)
            engine.dispose()
            target = Path(make_url(url).database or "")
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            src = sqlite3.connect(work / "database.sqlite")
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            archive.extract("database.dump", work)
            args, env = _pg_env(url)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            subprocess.run(  # noqa: S603 (arguments come from the configured URL)
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    *args,
                    str(work / "database.dump"),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
    engine.dispose()
    restored = table_fingerprints(engine)
    mismatched = [
        name for name, expected in manifest["tables"].items() if restored.get(name) != expected
    ]
    return {
        "restored": str(source),
        "engine": engine.dialect.name,
        "schema": migrate.current_revision(engine),
        "tables": len(restored),
        "rows": sum(t["rows"] for t in restored.values()),
        "verified": not mismatched,
        "mismatched": mismatched,
    }
