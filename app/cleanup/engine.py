"""Line classification of scraped text: body, headline candidates, metadata, boilerplate.

Every input line gets exactly one decision with the rule that made it and a reason an
editor can read, so that nothing is silently dropped and anything can be restored.
"""

import hashlib
import itertools
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from app.cleanup import rules
from app.cleanup.lead import Lead, split_lead
from app.text import fold, nfc, without_forbidden

TERMINAL = re.compile(r"[.!?؟…:؛;،,»\"”)\]]\s*$")
SENTENCE_END = re.compile(r"[.!?؟…]\s*[»\"”)]?\s*$")
WORD = re.compile(r"\w+")
HEADLINE_MAX_WORDS = 18
HEADLINE_MIN_WORDS = 3
INNER_SENTENCE_END = re.compile(r"(?<!\.)[.!?؟](?!\.)\s+\S")  # ".." is a pause, not an end
# Keyword rules judge short lines only: a long line that mentions "SMS" or "newsletter"
# is a sentence about them, and deleting real copy is the worst failure.
RULE_MAX_WORDS = 25
# A repeated short body line is a list item or a table cell ("Pre-Workout Meal" on each day of
# a meal plan), not an echo of the page: only lines this long are dropped as duplicates.
DUPLICATE_MIN_WORDS = 8
# A byline or dateline is in the copy's first lines (a byline line, a dateline line, the lead).
LEAD_LINES = 3
# A recurring line with a sentence's shape is copy, not boilerplate ("وقد أعد مرسوم ملكي بذلك.").
CONTENT_MIN_WORDS = 5
TAXONOMY = "builtin:taxonomy"
# After the copy, a page repeats its title and subtitle (two or three lines); more short
# lines there are the copy's own verse or list.
TRAILING_HEADLINES_MAX = 3
TAG_LIST = re.compile(r"^[^.!?؟:]+([,،|]\s*[^.!?؟,،|]+){1,}$")  # "a, b, c": no sentence in it


@dataclass
class Decision:
    index: int
    line: str
    kind: str  # body | headline | byline | dateline | credit | boilerplate | duplicate
    rule: str
    reason: str
    moved: dict[str, str] | None = None  # byline/dateline/credit taken out of the line
    original: str | None = None  # the whole line, when only a prefix moved


# Learned templates: a short line that recurs once its numbers are masked ("تعليقات (12)",
# "19:23 ت م"), and a short prefix before a colon or a dash that recurs in front of text
# that differs per article ("رابط الخبر بصحيفة الوئام: <the article's title>").
TEMPLATE_MAX_WORDS = 8  # a masked line: a counter or a time stamp, not a sentence
PREFIX_MAX_WORDS = 6
NUMBER = re.compile(r"\d+")
PREFIX_END = re.compile(r"\s*:\s*|\s+[-–—ـ]+\s+")
# A template must be a habit of the source, not a turn of phrase: in at least this share of
# its articles ("وقال:" heads quotes in 1-2% of a paper's articles; the link line of a site
# in 57%, a wire's time stamp in 98%).
TEMPLATE_MIN_SHARE = 0.05


@dataclass
class Learned:
    """What the database knows of a source: how many of its articles contain each line
    (and each template, see ``template_keys``)."""

    articles: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # line_key -> articles containing it
    min_articles: int = 3

    def template_count(self, key: str) -> int:
        """Articles holding the template, if that is enough to call it the source's."""
        count = self.counts.get(key, 0)
        return count if count >= max(self.min_articles, TEMPLATE_MIN_SHARE * self.articles) else 0


@dataclass
class CleanupResult:
    language: str | None
    body_paragraphs: list[str]
    headline_candidates: list[dict]
    metadata: dict[str, str]
    removed: list[dict]
    decisions: list[Decision]

    def to_dict(self) -> dict:
        return {**asdict(self), "decisions": [asdict(d) for d in self.decisions]}

    def record(self) -> dict:
        """What a run stores: each decision without its line and reason (those of removed
        lines are in ``removed``), built directly: asdict is slow for 100,000 lines."""
        return {"language": self.language, "body_paragraphs": self.body_paragraphs,
                "headline_candidates": self.headline_candidates, "metadata": self.metadata,
                "removed": self.removed,
                "decisions": [{"index": d.index, "kind": d.kind, "rule": d.rule}
                              for d in self.decisions]}


def line_key(folded: str) -> str:
    return hashlib.sha256(folded.encode()).hexdigest()


def template_keys(folded: str) -> dict[str, tuple[str, str]]:
    """The templates a folded line may be an instance of: kind -> (key, template text)."""
    templates = {}
    if NUMBER.search(folded) and len(WORD.findall(folded)) <= TEMPLATE_MAX_WORDS:
        masked = NUMBER.sub("0", folded)
        templates["number"] = (line_key(f"\x00number\x00{masked}"), masked)
    end = PREFIX_END.search(folded)
    if end and end.start() > 0 and end.end() < len(folded):
        prefix, rest = folded[:end.start()], folded[end.end():]
        if len(WORD.findall(prefix)) <= PREFIX_MAX_WORDS and len(WORD.findall(rest)) <= HEADLINE_MAX_WORDS:
            text = f"{prefix}{end.group().strip()} …"
            templates["prefix"] = (line_key(f"\x00prefix\x00{prefix}"), text)
    return templates


def learning_keys(folded_lines: list[str]) -> dict[str, str]:
    """What a page teaches its source: each distinct line and template, key -> sample."""
    keys = {}
    for folded in folded_lines:
        keys[line_key(folded)] = folded
        keys.update(template_keys(folded).values())
    return keys


def split_lines(text: str) -> list[str]:
    """NFC lines without surrounding spaces, control characters or blank lines."""
    lines = []
    for raw in nfc(text).splitlines():
        line = without_forbidden(raw).strip()
        if line:
            lines.append(line)
    return lines


def clean(text: str, *, language: str | None = None, learned: Learned | None = None,
          extra_headlines: tuple[str, ...] = (), find_headlines: bool = True,
          folded: list[str] | None = None) -> CleanupResult:
    """Classify every line of ``text``. HTML extractors already separate the title, so
    their output is cleaned with ``find_headlines=False`` and the title passed in
    ``extra_headlines``. ``folded``: the folded ``split_lines(text)``, if the caller has
    them already (folding is most of the work for a big page)."""
    lines = split_lines(text)
    folded = folded if folded is not None else [fold(line) for line in lines]
    decisions = [_first_pass(i, line, f, learned)
                 for i, (line, f) in enumerate(zip(lines, folded, strict=True))]
    _split_leads(decisions, folded)
    _mark_tag_lists(decisions)
    if find_headlines:
        _mark_headlines(decisions, folded)
    _mark_duplicates(decisions, folded, extra_headlines)
    _keep_short_articles(decisions)
    return _result(language, decisions, folded, extra_headlines)


def _first_pass(index: int, line: str, folded: str, learned: Learned | None) -> Decision:
    words = len(WORD.findall(line))
    rule = rules.match(folded) if words <= RULE_MAX_WORDS else None
    if rule is not None:
        return Decision(index, line, rule.kind, f"builtin:{rule.name}", rule.reason)
    if learned is None or (words >= CONTENT_MIN_WORDS and SENTENCE_END.search(line)):
        return Decision(index, line, "body", "default:body", "article text")  # copy, however often
    count = learned.counts.get(line_key(folded), 0)
    if count >= learned.min_articles:
        return Decision(index, line, "boilerplate", "learned:recurring",
                        f"site boilerplate: recurs in {count} of this source's articles")
    short = words <= HEADLINE_MAX_WORDS + PREFIX_MAX_WORDS  # a headline, or a prefix and a headline
    template = _template(index, line, folded, learned) if short else None
    return template or Decision(index, line, "body", "default:body", "article text")


def _template(index: int, line: str, folded: str, learned: Learned) -> Decision | None:
    """A short line that is an instance of one of the source's templates (a number
    template is at most TEMPLATE_MAX_WORDS long, a prefix's text at most a headline)."""
    for kind, (key, text) in template_keys(folded).items():
        count = learned.template_count(key)
        if count:
            return Decision(index, line, "boilerplate", f"learned:template-{kind}",
                            f"site template '{text}': in {count} of this source's articles")
    return None


def _split_leads(decisions: list[Decision], folded: list[str]) -> None:
    """Move the byline and dateline that head the copy into metadata. A whole line of them
    leaves the body; of "<name> ـ <city> <first sentence>" only the prefix does. A line
    the source's statistics call boilerplate ("عين اليوم – جدة" recurs) that is a whole
    byline or dateline goes to its field too: it is this article's."""
    for d in decisions[:LEAD_LINES]:
        learned = d.rule.startswith("learned:")
        if d.kind != "body" and not learned:
            continue
        lead = split_lead(d.line)
        if learned and (lead is None or lead.rest):
            continue
        if lead is None:
            return
        d.moved, d.rule, d.reason = lead.fields(), lead.rule, _moved_reason(lead)
        if lead.rest:
            d.original, d.line = d.line, lead.rest
            folded[d.index] = fold(lead.rest)
            return
        d.kind = next(iter(d.moved), "byline")


def _mark_tag_lists(decisions: list[Decision]) -> None:
    """The unpunctuated list under a "Tags" or "Categories" heading goes with its heading."""
    for heading, d in itertools.pairwise(decisions):
        if heading.rule == TAXONOMY and d.kind == "body" and TAG_LIST.match(d.line):
            d.kind, d.rule, d.reason = "boilerplate", TAXONOMY, f"{heading.reason} (the list under it)"


def _moved_reason(lead: Lead) -> str:
    moved = ", ".join(f"{field} '{text}'" for field, text in lead.fields().items())
    kept = "; the rest of the line stays in the body" if lead.rest else ""
    return f"metadata: '{lead.prefix}' moved to {moved}{kept}"


def _headline_shaped(line: str) -> bool:
    words = len(WORD.findall(line))
    return (HEADLINE_MIN_WORDS <= words <= HEADLINE_MAX_WORDS and not TERMINAL.search(line)
            and not INNER_SENTENCE_END.search(line))


def _mark_headlines(decisions: list[Decision], folded: list[str]) -> None:
    """Short unpunctuated lines before or after the body block are headline candidates;
    after it, only a few: a longer run of them is verse or a list that ends the copy."""
    body = [d.index for d in decisions if d.kind == "body" and not _headline_shaped(d.line)]
    first, last = (body[0], body[-1]) if body else (len(decisions), -1)
    trailing = [d for d in decisions[last + 1:] if d.kind == "body" and _headline_shaped(d.line)]
    verse = body and len(trailing) > TRAILING_HEADLINES_MAX
    for d in decisions:
        outside = d.index < first or (d.index > last and not verse)
        if d.kind == "body" and outside and _headline_shaped(d.line):
            d.kind, d.rule, d.reason = "headline", "headline:short-unpunctuated", "headline candidate"


def _keep_short_articles(decisions: list[Decision]) -> None:
    """A brief (a title and one short line) has no long line: keep all but the first
    headline-shaped line as its body rather than leave an empty article."""
    if any(d.kind == "body" for d in decisions):
        return
    for d in [d for d in decisions if d.kind == "headline"][1:]:
        d.kind, d.rule, d.reason = "body", "body:short-article", "article text (short article)"


def _mark_duplicates(decisions: list[Decision], folded: list[str],
                     extra_headlines: tuple[str, ...]) -> None:
    seen: dict[str, str] = {fold(text): "headline" for text in extra_headlines if text}
    for d in decisions:
        key = folded[d.index]
        if d.kind not in ("body", "headline"):
            continue
        original = seen.get(key)
        if original is None:
            seen[key] = d.kind
            continue
        if original == "body" and len(WORD.findall(d.line)) < DUPLICATE_MIN_WORDS:
            continue
        what = "headline candidate" if original == "headline" else "body paragraph"
        d.kind, d.rule, d.reason = "duplicate", f"duplicate:{original}", f"duplicate of {what}"


def _removal(d: Decision) -> dict:
    """A removed line, or a line that lost its byline/dateline prefix (kind "lead": ``line``
    is the whole original, ``kept`` what stayed in the body, ``moved`` where the rest went)."""
    item = {"index": d.index, "line": d.original or d.line, "reason": d.reason, "rule": d.rule,
            "kind": "lead" if d.original else d.kind}
    if d.moved:
        item["moved"] = d.moved
    if d.original:
        item["kept"] = d.line
    return item


def _result(language, decisions: list[Decision], folded: list[str],
            extra_headlines: tuple[str, ...]) -> CleanupResult:
    occurrences = Counter(folded)
    candidates = [d for d in decisions if d.kind == "headline"]
    candidates.sort(key=lambda d: (-occurrences[folded[d.index]], d.index))
    headline_list = [{"text": d.line, "occurrences": occurrences[folded[d.index]], "rule": d.rule}
                     for d in candidates]
    known = {fold(c["text"]) for c in headline_list}
    for text in extra_headlines:
        if text and fold(text) not in known:
            headline_list.insert(0, {"text": nfc(text), "occurrences": 1, "rule": "html:title"})
            known.add(fold(text))
    metadata = {}
    for d in decisions:
        metadata.update({k: v for k, v in (d.moved or {}).items() if k not in metadata})
    for d in decisions:
        if d.kind in ("byline", "dateline", "credit"):
            metadata.setdefault(d.kind, d.line)
    removed = [_removal(d) for d in decisions if d.kind not in ("body", "headline") or d.original]
    return CleanupResult(
        language=language, body_paragraphs=[d.line for d in decisions if d.kind == "body"],
        headline_candidates=headline_list, metadata=metadata, removed=removed,
        decisions=decisions,
    )
