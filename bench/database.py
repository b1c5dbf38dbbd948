"""The benchmark's databases: their URLs, creation, migration and the seeded marker."""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def url_for(url: str, database: str) -> str:
    """`url` (a libpq URL) pointing at `database` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def owner_url() -> str:
    return os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]


def _connect(url: str):
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    return psycopg2.connect(
        dbname=parts.path.lstrip("/"),
        user=parts.username,
        password=parts.password,
        host=query.get("host") or parts.hostname,
        port=parts.port or 5432,
    )


def marker(database: str) -> dict | None:
    """What the database was seeded with (its COMMENT), or None."""
    conn = _connect(url_for(owner_url(), "postgres"))
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [database],
            )
            row = cursor.fetchone()
    finally:
        conn.close()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def recreate(database: str) -> None:
    conn = _connect(url_for(owner_url(), "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        conn.close()


def mark(database: str, data: dict) -> None:
    conn = _connect(url_for(owner_url(), "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                f'COMMENT ON DATABASE "{database}" IS %s',  # noqa: S608 — our own name
                [json.dumps(data)],
            )
    finally:
        conn.close()
