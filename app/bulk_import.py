"""Reading import files: plain text, HTML, JSON Lines and SaudiNewsNet zip archives.

Each reader yields ImportItem records; `flask import` feeds them to the same service
(and cleanup code) as POST /v1/imports.
"""

import json
import zipfile
from collections import Counter
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


def census(path: Path, source: str | None) -> Counter:
    """How many items ``read`` will yield, per source name (for the progress bar and to
    share the sources out between import processes)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return Counter(record["source"] for records in _zip_records(path) for record in records)
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            return Counter(json.loads(line).get("source", source) for line in lines if line.strip())
    return Counter({source: 1})


def share_out(sizes: Counter, jobs: int) -> dict[str | None, int]:
    """Each source to one of ``jobs`` processes, the biggest first to the least loaded, so
    one source's articles are learned by one process (no two writers on its line counts)
    and the processes get about the same work."""
    loads, assigned = [0] * jobs, {}
    for name, size in sorted(sizes.items(), key=lambda item: (-item[1], str(item[0]))):
        job = loads.index(min(loads))
        assigned[name], loads[job] = job, loads[job] + size
    return assigned


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
