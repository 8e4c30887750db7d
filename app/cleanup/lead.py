"""Bylines and datelines at the head of the copy: "<name> ـ <city> <first sentence>".

News copy often opens with who wrote it and where, on a line of its own or glued to the
first sentence. ``split_lead`` finds that prefix in one line and splits it into a byline, a
dateline and an agency credit, and the rest of the line (the sentence, which stays in the
body). It recognises, in Arabic and Latin scripts:

- wire markers: "WASHINGTON (AP) — ...", "LONDON, March 3 (Reuters) - ...", "القاهرة (رويترز) - ...";
- agency prefixes with a colon: "عوض الفهمي- سبق- أضم: ...", "واس- جدة: ...";
- "<name> ـ <city> ..." and "<city> - <name> ..." where the city is a known place;
- a whole line of such parts: "فايز الحسيكي – عين اليوم", "جدة ـ نجيب الجداوي", "كتب: name".

Without a known place or agency a dash is just punctuation ("آل سعود - حفظه الله -"), so
nothing is split: losing body copy is worse than leaving a byline in it.
"""

import re
from dataclasses import dataclass

from app.text import fold

DASH = r"\s*[-–—ـ]+\s*"
# Wire services and the newsrooms' own credits seen in the copy ("متابعات": compiled reports).
AGENCIES = frozenset(fold(name) for name in (
    "واس", "رويترز", "ا ف ب", "أ ف ب", "د ب أ", "أ ش أ", "قنا", "وام", "كونا", "بنا", "الأناضول",
    "سبق", "عين اليوم", "الرياضية", "الرياضي", "الوئام", "متابعات", "متابعة", "وكالات",
    "ap", "afp", "reuters", "spa", "dpa", "upi", "associated press", "bloomberg", "xinhua",
))
# Credits that are also ordinary words: only a whole part ("عين اليوم – متابعات"), never the
# word after a dash in running text ("أكد الوزير – متابعة لما سبق").
COMMON_WORDS = frozenset(fold(word) for word in ("الرياضية", "الرياضي", "متابعات", "متابعة", "وكالات"))
# Places that open datelines in the corpus and in wire copy (folded); a name outside this
# list is never taken for a city, so "<name> ـ <city>" without one stays in the body.
PLACES = frozenset(fold(name) for name in (
    "الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة", "مكة", "المدينة", "أبها", "الطائف",
    "تبوك", "بريدة", "حائل", "الخبر", "الظهران", "الأحساء", "الاحساء", "الهفوف", "المبرز", "القطيف",
    "الجبيل", "ينبع", "نجران", "جازان", "جيزان", "الباحة", "عرعر", "سكاكا", "الجوف", "القصيم",
    "عنيزة", "الخرج", "حفر الباطن", "القنفذة", "تيماء", "أضم", "خميس مشيط", "بيشة", "رابغ", "الليث",
    "عسير", "الشرقية", "المجمعة", "شقراء", "الزلفي", "عفيف", "القريات", "رفحاء", "صبيا", "محايل",
    "الكويت", "المنامة", "الدوحة", "أبوظبي", "أبو ظبي", "دبي", "مسقط", "القاهرة", "عمان", "بيروت",
    "دمشق", "بغداد", "صنعاء", "عدن", "الخرطوم", "تونس", "الرباط", "الجزائر", "طرابلس", "القدس",
    "غزة", "رام الله", "طهران", "أنقرة", "إسطنبول", "اسطنبول", "لندن", "باريس", "واشنطن",
    "نيويورك", "موسكو", "برلين", "جنيف", "بكين", "طوكيو", "سان فرانسيسكو", "روما", "مدريد",
))
PARTICLES = frozenset(fold(word) for word in ("بن", "ابن", "بنت", "أبو", "ابو", "عبد", "آل", "أم"))
ARABIC_WORD = r"[\u0600-\u06ff]+"
NAME = rf"{ARABIC_WORD}(?:\s+{ARABIC_WORD}){{0,3}}"  # one to four Arabic words
AGENCY_GROUP = ("AP|AFP|Reuters|Bloomberg|Xinhua|dpa|UPI"
                "|رويترز|أ ف ب|ا ف ب|واس|د ب أ|أ ش أ|قنا|وام|كونا|الأناضول")

WIRE = re.compile(
    rf"^(?:(?P<place>[^\W\d_][^()\n!?؟]{{1,60}}?)\s*)?\((?P<agency>{AGENCY_GROUP})\){DASH}(?P<rest>\S.*)$",
    re.IGNORECASE)
COLON = re.compile(rf"^(?P<parts>{NAME}(?:{DASH}{NAME}){{1,2}})\s*:\s*(?P<rest>\S.*)$")
DASHED = re.compile(rf"^(?P<first>{NAME}){DASH}(?P<rest>{ARABIC_WORD}.*)$")
WHOLE = re.compile(rf"^{NAME}(?:\s*[،,]\s*{NAME})?(?:{DASH}{NAME}){{1,2}}$")
WROTE = re.compile(r"^(?P<verb>كتب|كتبت|بقلم|تقرير)\s*[:：]\s*(?P<name>\S[^.!?؟:]{1,60})$")
# Every lead has a dash, a colon or an agency in brackets near the start of the line: most
# first lines have none, and this one search spares them the five patterns.
LEAD_MARK = re.compile(r"[-–—ـ:：(]")
LEAD_MARK_WITHIN = 120
REST_MIN_WORDS = 3  # the sentence left in the body after a prefix


@dataclass(frozen=True)
class Lead:
    prefix: str  # the exact text that leaves the line
    rest: str  # what stays in the body ("" when the whole line was a byline or dateline)
    byline: str | None = None
    dateline: str | None = None
    credit: str | None = None
    rule: str = "lead"

    def fields(self) -> dict[str, str]:
        return {k: v for k, v in (("byline", self.byline), ("dateline", self.dateline),
                                  ("credit", self.credit)) if v}


def split_lead(line: str) -> Lead | None:
    """The byline/dateline prefix of ``line`` and the rest, or None if it has none."""
    if not LEAD_MARK.search(line, 0, LEAD_MARK_WITHIN):
        return None
    for finder in (_wire, _wrote, _whole, _colon, _dashed):
        lead = finder(line)
        if lead is not None and (not lead.rest or len(lead.rest.split()) >= REST_MIN_WORDS):
            return lead
    return None


def _is_agency(text: str) -> bool:
    return fold(text) in AGENCIES


def _is_place(text: str) -> bool:
    return fold(text) in PLACES


def _parts(text: str) -> list[str]:
    return [part.strip() for part in re.split(DASH, text) if part.strip()]


def _prefix(line: str, rest: str) -> str:
    return line[: len(line) - len(rest)].strip()


def _wire(line: str) -> Lead | None:
    match = WIRE.match(line)
    if match is None or len((match["place"] or "").split()) > 6:
        return None
    place = (match["place"] or "").strip().rstrip(",،")
    return Lead(_prefix(line, match["rest"]), match["rest"], dateline=place or None,
                credit=match["agency"], rule="lead:wire")


def _wrote(line: str) -> Lead | None:
    match = WROTE.match(line)
    return Lead(line, "", byline=match["name"].strip(), rule="lead:wrote") if match else None


def _assign(parts: list[str], rule: str, prefix: str, rest: str) -> Lead | None:
    """Known places are the dateline, an agency the credit; of the other parts, one before
    the agency is the byline and one after it the place ("عوض الفهمي- سبق- أضم")."""
    agency = next((i for i, part in enumerate(parts) if _is_agency(part)), None)
    places = [part for part in parts if _is_place(part)]
    if agency is None and not places:
        return None
    others = [(i, part) for i, part in enumerate(parts)
              if not _is_place(part) and not _is_agency(part)]
    before = [part for i, part in others if agency is None or i < agency]
    after = [part for i, part in others if agency is not None and i > agency]
    if len(before) > 1 or len(after) > 1 or (after and places):
        return None
    return Lead(prefix, rest, byline=before[0] if before else None,
                dateline=places[0] if places else (after[0] if after else None),
                credit=parts[agency] if agency is not None else None, rule=rule)


def _whole(line: str) -> Lead | None:
    """"فايز الحسيكي – عين اليوم", "جدة ـ نجيب الجداوي": the line is only a byline."""
    if not WHOLE.match(line):
        return None
    return _assign(_parts(line), "lead:byline-line", line, "")


def _colon(line: str) -> Lead | None:
    """"عوض الفهمي- سبق- أضم: <sentence>", "واس- جدة: <sentence>"."""
    match = COLON.match(line)
    if match is None:
        return None
    return _assign(_parts(match["parts"]), "lead:colon", _prefix(line, match["rest"]), match["rest"])


def _dashed(line: str) -> Lead | None:
    """"خالد سجاف ـ الدمام <sentence>" or "الرياض - محمد الحيدر <sentence>"."""
    match = DASHED.match(line)
    if match is None:
        return None
    first, words = match["first"], match["rest"].split()
    if _is_place(first):
        named = 3 if any(fold(w) in PARTICLES for w in words[:2]) and len(words) > 3 else 2
        return _dashed_lead(line, match.start("rest"), named, byline=None, dateline=first)
    who = {"credit": first} if _is_agency(first) else {"byline": first}
    for size in (2, 1):  # "مكة المكرمة" before "مكة"
        head = " ".join(words[:size])
        if _is_place(head):
            return _dashed_lead(line, match.start("rest"), size, **who, dateline=head)
        if _is_agency(head) and fold(head) not in COMMON_WORDS and "byline" in who:
            return _dashed_lead(line, match.start("rest"), size, **who, credit=head)
    return None


def _dashed_lead(line: str, after_dash: int, words: int, **fields) -> Lead:
    """Cut ``line`` ``words`` words after the dash; a missing byline is those words."""
    taken = re.match(rf"(?:\S+\s*){{{words}}}", line[after_dash:])
    cut = after_dash + (taken.end() if taken else len(line) - after_dash)
    if "byline" in fields and fields["byline"] is None:
        fields["byline"] = line[after_dash:cut].strip().rstrip(":،,")
    return Lead(line[:cut].strip(), line[cut:].strip(), rule="lead:dashed", **fields)
