"""`flask import` and `flask cleanup preview` on real files, through the same services."""

import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import bulk_import
from app.extensions import db
from app.models import Article, ArticleRevision, CleanupRun, RawInput
from app.platform import users
from tests.conftest import _empty_tables

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


def _articles_by_source(sources: int, per_source: int) -> list[dict]:
    """SaudiNewsNet-like records: each source's articles share a footer line (learned as
    boilerplate once the source has seen enough of them) around lines of the sample."""
    lines = [line for record in SAMPLE for line in record["content"].split("\n") if len(line) > 40]
    return [{"source": f"source{s}", "title": f"خبر رقم {n} من المصدر {s}",
             "content": "\n".join([*lines[(s * 7 + n) % len(lines):][:3],
                                   f"تابعونا على حسابات المصدر {s} في الشبكات الاجتماعية"])}
            for s in range(sources) for n in range(per_source)]


def _import_with_jobs(app, archive: Path, jobs: int) -> dict[str, str]:
    result = app.test_cli_runner().invoke(args=["import", str(archive), "--jobs", str(jobs)])
    assert result.exit_code == 0, result.output
    assert _counts(result.output)[2] == 0, result.output
    with app.app_context():
        rows = db.session.execute(select(RawInput.sha256, Article.latest_revision_id)
                                  .join(Article, Article.id == RawInput.article_id)).all()
        return {sha: db.session.get(ArticleRevision, revision).body for sha, revision in rows}


def test_import_in_parallel_processes_gives_the_sequential_result(committed_app_factory, tmp_path):
    """--jobs N gives each source to one process, in file order: every article is cleaned
    exactly as one process would clean it, learned boilerplate included."""
    app = committed_app_factory()
    archive = tmp_path / "2015-08-01.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("2015-08-01.json", json.dumps(_articles_by_source(3, 14), ensure_ascii=False))
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("--jobs needs PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        users.ensure_admin("admin@localhost")
    sequential = _import_with_jobs(app, archive, 1)
    assert any("تابعونا" not in body for body in sequential.values())  # the footer was learned
    _empty_tables(app)
    with app.app_context():
        users.ensure_admin("admin@localhost")
    assert _import_with_jobs(app, archive, 2) == sequential
    again = app.test_cli_runner().invoke(args=["import", str(archive), "--jobs", "2"])
    assert _counts(again.output) == (0, 42, 0)


def test_jobs_are_refused_on_sqlite(app, admin, tmp_path):
    if app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("the refusal is SQLite's")
    text = tmp_path / "story.txt"
    text.write_text("The council met today and agreed the budget for next year.")
    result = app.test_cli_runner().invoke(args=["import", str(text), "--source", "x", "--jobs", "2"])
    assert result.exit_code == 2 and "--jobs needs PostgreSQL" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RawInput)) == 0


def test_share_out_gives_each_source_to_one_process_and_balances_them():
    sizes = Counter({"a": 50, "b": 30, "c": 25, "d": 5, None: 1})
    assigned = bulk_import.share_out(sizes, 2)
    assert set(assigned) == set(sizes) and set(assigned.values()) == {0, 1}
    loads = Counter()
    for name, job in assigned.items():
        loads[job] += sizes[name]
    assert sorted(loads.values()) == [55, 56]
    assert bulk_import.share_out(sizes, 8) == {"a": 0, "b": 1, "c": 2, "d": 3, None: 4}
