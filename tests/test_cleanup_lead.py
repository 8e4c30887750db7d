"""Bylines and datelines at the head of real copy: every SaudiNewsNet source and AP/Reuters wire."""

import json
import re
from pathlib import Path

import pytest

from app.cleanup.engine import clean
from app.cleanup.lead import split_lead

CASES = json.loads((Path(__file__).parent / "fixtures" / "leads.json").read_text())
SOURCES = {"3alyoum", "aawsat", "aleqtisadiya", "aljazirah", "almadina", "alriyadh", "alwatan",
           "alweeam", "alyaum", "arreyadi", "arriyadiyah", "okaz", "sabq", "was"}
BODY = ("وقال المتحدث باسم الوزارة إن الاجتماع ناقش خطط التعاون الاقتصادي بين البلدين "
        "خلال العام المقبل، مؤكدًا أهمية تنفيذ الاتفاقيات الموقعة.")


def _spaceless(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_fixture_covers_every_source_and_wire_copy():
    assert {case["source"] for case in CASES} >= SOURCES
    assert sum(case["source"].startswith("zyte:") for case in CASES) >= 10
    assert sum(case["expected"] is None for case in CASES) >= 20  # lines that must stay whole


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['source']}:{case['line'][:24]}")
def test_real_first_lines_split_as_read_by_hand(case):
    lead = split_lead(case["line"])
    found = None if lead is None else {"prefix": lead.prefix, "rest": lead.rest, **lead.fields()}
    assert found == case["expected"]
    if lead is not None:  # nothing of the line is lost: prefix and rest are the whole line
        assert _spaceless(lead.prefix + lead.rest) == _spaceless(case["line"])


def test_a_lead_sentence_stays_in_the_body_and_the_record_says_what_moved():
    line = "خالد سجاف ـ الدمام أعرب عدد من زوار الشرقية عن سعادتهم بالفعاليات المنوعة."
    result = clean(f"{line}\n{BODY}", language="ar")
    assert result.body_paragraphs == ["أعرب عدد من زوار الشرقية عن سعادتهم بالفعاليات المنوعة.", BODY]
    assert result.metadata == {"byline": "خالد سجاف", "dateline": "الدمام"}
    [moved] = result.removed
    assert moved["index"] == 0 and moved["kind"] == "lead" and moved["rule"] == "lead:dashed"
    assert moved["line"] == line and moved["kept"] == result.body_paragraphs[0]
    assert moved["moved"] == {"byline": "خالد سجاف", "dateline": "الدمام"}
    assert "byline 'خالد سجاف'" in moved["reason"] and "stays in the body" in moved["reason"]


def test_a_byline_line_leaves_the_body_for_the_fields():
    result = clean(f"فايز الحسيكي – عين اليوم\n{BODY}", language="ar")
    assert result.body_paragraphs == [BODY]
    assert result.metadata == {"byline": "فايز الحسيكي", "credit": "عين اليوم"}
    assert result.removed[0]["kind"] == "byline" and result.removed[0]["rule"] == "lead:byline-line"


def test_english_wire_copy_keeps_its_sentence():
    line = "WASHINGTON (AP) — The Senate voted on Tuesday to approve the measure."
    result = clean(f"{line}\nIt now goes to the House, where its fate is unclear.", language="en")
    assert result.body_paragraphs[0] == "The Senate voted on Tuesday to approve the measure."
    assert result.metadata == {"dateline": "WASHINGTON", "credit": "AP"}


def test_only_the_head_of_the_copy_is_read_for_a_lead():
    late = "خالد سجاف ـ الدمام أعرب عدد من زوار الشرقية عن سعادتهم بالفعاليات المنوعة."
    result = clean(f"{BODY}\n{BODY} ثانيا\n{BODY} ثالثا\n{late}", language="ar")
    assert late in result.body_paragraphs and result.metadata == {}
