"""Reading import files: plain text, HTML, JSON Lines and SaudiNewsNet zip archives.

Each reader yields ImportItem records; `flask import` feeds them to the same service
(and cleanup code) as POST /v1/imports.
"""

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ImportItem:
    content: bytes
    content_type: str
    source: str | None
    url: str | None
    language: str | None
    label: str  # where it came from, for error reports


def read(path: Path, source: str | None, language: str | None) -> Iterator[ImportItem]:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        yield from _zip(path)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _jsonl(path, source, language)
    elif suffix in (".html", ".htm", ".xhtml"):
        yield ImportItem(path.read_bytes(), "text/html", source, None, language, str(path))
    else:
        yield ImportItem(path.read_bytes(), "text/plain; charset=utf-8", source, None, language,
                         str(path))


def count(path: Path) -> int:
    """How many items ``read`` will yield (for the progress bar)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return sum(len(records) for records in _zip_records(path))
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())
    return 1


def _jsonl(path: Path, source: str | None, language: str | None) -> Iterator[ImportItem]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            yield ImportItem(record["content"].encode("utf-8"),
                             record.get("content_type", "text/plain; charset=utf-8"),
                             record.get("source", source), record.get("url"),
                             record.get("language", language), f"{path}:{number}")


def _zip_records(path: Path) -> Iterator[list[dict]]:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".json"):
                yield json.loads(archive.read(name))


def _zip(path: Path) -> Iterator[ImportItem]:
    """SaudiNewsNet: a JSON array per archive; the title becomes the page's first line."""
    for records in _zip_records(path):
        for number, record in enumerate(records):
            text = "\n".join(part for part in (record.get("title"), record["content"]) if part)
            yield ImportItem(text.encode("utf-8"), "text/plain; charset=utf-8", record["source"],
                             record.get("url") or None, "ar", f"{path.name}#{number}")
