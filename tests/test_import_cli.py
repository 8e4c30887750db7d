"""`flask import` and `flask cleanup preview` on real files, through the same services."""

import json
import re
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import CleanupRun, RawInput

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = json.loads((FIXTURES / "saudinewsnet_sample.json").read_text())
SEED = FIXTURES / "seed" / "000_b0cbef1f536209a0.txt"


def _counts(output: str) -> tuple[int, int, int]:
    match = re.search(r"imported: (\d+), duplicates: (\d+), failed: (\d+)", output)
    return tuple(int(n) for n in match.groups())


def test_import_zip_jsonl_text_and_html(app, admin, tmp_path):
    archive = tmp_path / "2015-07-22.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("2015-07-22.json", json.dumps(SAMPLE, ensure_ascii=False))
    lines = tmp_path / "wire.jsonl"
    lines.write_text("\n".join(json.dumps({"content": f"Item {n}: the council met today and "
                                                      "agreed the budget for next year.",
                                           "source": "wire", "language": "en"})
                               for n in range(3)) + "\n\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", str(archive), str(lines), str(SEED),
                                 str(FIXTURES / "html" / "article.html"), "--source", "aawsat"])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (len(SAMPLE) + 3 + 2, 0, 0)
    again = runner.invoke(args=["import", str(archive), "--source", "aawsat"])
    assert _counts(again.output) == (0, len(SAMPLE), 0)
    with app.app_context():
        sources = set(db.session.scalars(select(RawInput.source_id)).all())
        runs = db.session.scalars(select(CleanupRun.status)).all()
        assert len(sources) == len({a["source"] for a in SAMPLE} | {"wire"})
        assert set(runs) == {"succeeded"}


def test_import_reports_failures_with_reasons(app, admin, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"   ")
    result = app.test_cli_runner().invoke(args=["import", str(empty), "--source", "x"])
    assert _counts(result.output) == (0, 0, 1)
    assert "failed 1: The input is empty." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RawInput)) == 1


def test_preview_prints_the_cleanup_and_stores_nothing(app, admin):
    result = app.test_cli_runner().invoke(
        args=["cleanup", "preview", str(SEED), "--source", "aawsat", "--language", "ar"])
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    expected = json.loads((FIXTURES / "seed" / "000_b0cbef1f536209a0.expected.json").read_text())
    assert preview["body_paragraphs"] == expected["body_paragraphs"]
    assert [r["reason"] for r in preview["removed"]] == [r["reason"] for r in expected["removed"]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RawInput)) == 0
