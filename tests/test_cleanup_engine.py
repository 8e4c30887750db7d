"""The cleanup engine as a pure function: rules, learning, headlines, nothing lost."""

import json
from pathlib import Path

import pytest

from app.cleanup.engine import Learned, clean, learning_keys, line_key, split_lines
from app.cleanup.extract import ExtractionError, decode_text, detect_language, extract_html
from app.text import fold

FIXTURES = Path(__file__).parent / "fixtures"
SEED = (FIXTURES / "seed" / "000_b0cbef1f536209a0.txt").read_text("utf-8")
EXPECTED = json.loads((FIXTURES / "seed" / "000_b0cbef1f536209a0.expected.json").read_text())
BODY = ("وقال المتحدث باسم الوزارة إن الاجتماع ناقش خطط التعاون الاقتصادي بين البلدين "
        "خلال العام المقبل، مؤكدًا أهمية تنفيذ الاتفاقيات الموقعة.")


def test_seed_gives_exactly_the_expected_cleanup():
    result = clean(SEED, language="ar")
    assert result.body_paragraphs == EXPECTED["body_paragraphs"]
    assert [c["text"] for c in result.headline_candidates] == EXPECTED["headline_candidates"]
    assert [{"line": r["line"], "reason": r["reason"]} for r in result.removed] == EXPECTED["removed"]
    assert result.headline_candidates[0]["occurrences"] == 2


def test_every_line_gets_exactly_one_decision():
    result = clean(SEED)
    lines = split_lines(SEED)
    assert [d.line for d in result.decisions] == lines
    assert all(d.reason and d.rule for d in result.decisions)
    kept = len(result.body_paragraphs) + len(result.headline_candidates) + len(result.removed)
    assert kept == len(lines)


@pytest.mark.parametrize(("line", "reason"), [
    ("لم تشترك بعد", "subscription prompt"),
    ("اشترك الآن", "subscription prompt"),
    ("Subscribe now", "subscription prompt"),
    ("Abonnez-vous à notre offre", "subscription prompt"),
    ("Sign up for free", "account sign-up"),
    ("Créez votre compte", "account sign-up"),
    ("اشترك في النشرة البريدية", "subscription prompt"),
    ("Get our daily newsletter", "newsletter"),
    ("We use cookies to improve your experience", "cookie"),
    ("شارك الخبر", "share prompt"),
    ("Share on Twitter", "share prompt"),
    ("تابعونا على تويتر", "social follow"),
    ("للتواصل مع الكاتب ارسل رسالة SMS", "SMS"),
    ("88591 - Stc", "SMS"),
    ("للتواصل مع المحرر", "contact prompt"),
    ("Contact us", "contact prompt"),
    ("...المزيد", "read-more"),
    ("اقرأ أيضا", "read-more"),
    ("Read more", "read-more"),
    ("Lire aussi", "read-more"),
    ("// انتهى //", "wire end marker"),
    ("//انتهى//", "wire end marker"),
    ("-ENDS-", "wire end marker"),
    ("editor@example.com", "e-mail"),
    ("https://example.com/story", "URL"),
    ("* * *", "separator"),
    ("------", "separator"),
    ("جميع الحقوق محفوظة", "copyright"),
    ("Tags", "tags or categories"),
    ("الوسوم:", "tags or categories"),
    ("Categoria: Saúde", "tags or categories"),
    ("05/10/2018 - Publicado por: Clarissa Borba - Categoria: Saúde - Tags: sad", "tags or categories"),
    ("October 12, 2017", "publication date"),
    ("segunda-feira, 22 de janeiro de 2018 às 0:13", "publication date"),
    ("Friday, March 3, 2017 at 5:30 pm", "publication date"),
    ("الأحد 12 مارس 2015", "publication date"),
    ("22/01/2018 - 10:15", "publication date"),
    ("تعليقات (12)", "comment counter"),
    ("12 comments", "comment counter"),
    ("Leave a comment", "comment"),
    ("ATENÇÃO: Comentários com textos ofensivos não serão aprovados pelo moderador.", "comment"),
])
def test_builtin_rules(line, reason):
    result = clean(f"{BODY}\n{line}", language="ar")
    assert result.body_paragraphs == [BODY]
    assert reason in result.removed[0]["reason"]
    assert result.removed[0]["rule"].startswith("builtin:")


@pytest.mark.parametrize(("line", "field"), [
    ("بقلم: محمد العلي", "byline"), ("By Jane Doe", "byline"), ("(واس)", "credit"),
    ("الرياض 26 شوال 1436 هـ الموافق 11 أغسطس 2015 م واس", "dateline"),
])
def test_metadata_lines(line, field):
    result = clean(f"{line}\n{BODY}")
    assert result.metadata[field] == line
    assert result.body_paragraphs == [BODY]


@pytest.mark.parametrize("line", [
    "The tags were removed in May 2019.", "On October 12, 2017 the council voted to close the bridge.",
    "Categories of voters changed after 2015, officials said.",
    "The comments of the minister were approved by parliament on Monday."])
def test_sentences_with_dates_or_tags_are_copy(line):
    assert clean(f"{BODY}\n{line}").body_paragraphs == [BODY, line]


def test_the_list_under_a_tags_heading_goes_with_it():
    result = clean(f"{BODY}\nTags\nstock car 2018, stock car brasil, interlagos")
    assert result.body_paragraphs == [BODY]
    assert [r["rule"] for r in result.removed] == ["builtin:taxonomy"] * 2
    assert "the list under it" in result.removed[1]["reason"]


def test_long_lines_that_mention_keywords_are_copy():
    line = ("وخصصت اللجنة من خلال التطبيق قسما خاصا بالخدمات التفاعلية مثل خدمة رسائل الجوال "
            "SMS والقائمة البريدية للمشتركين الذين يرغبون في متابعة نتائج الانتخابات البلدية "
            "في جميع مناطق المملكة")
    assert clean(f"{BODY}\n{line}").body_paragraphs == [BODY, line]


def test_learned_recurring_lines_are_removed_after_a_few_articles():
    footer = "حمّل تطبيق عين اليوم على جوالك"  # not a byline: the lead rules leave it alone
    learned = Learned(articles=3, counts={line_key(fold(footer)): 3}, min_articles=3)
    result = clean(f"{footer}\n{BODY}", learned=learned)
    assert result.body_paragraphs == [BODY]
    assert result.removed[0]["rule"] == "learned:recurring"
    assert "recurs in 3" in result.removed[0]["reason"]
    fewer = Learned(articles=3, counts={line_key(fold(footer)): 2}, min_articles=3)
    assert clean(f"{footer}\n{BODY}", learned=fewer).removed == []


def test_short_learned_footer_without_length_minimum():
    footer = "لم تشترك"  # short and not a built-in pattern on its own
    learned = Learned(articles=5, counts={line_key(fold(footer)): 5})
    assert clean(f"{BODY}\n{footer}", learned=learned).body_paragraphs == [BODY]


def _learned_from(pages: list[str]) -> Learned:
    """A source's statistics after ``pages``, counted as the service counts them."""
    learned = Learned(articles=len(pages))
    for page in pages:
        for key in learning_keys([fold(line) for line in split_lines(page)]):
            learned.counts[key] = learned.counts.get(key, 0) + 1
    return learned


TITLES = ["الأمطار تغلق مدارس جدة", "افتتاح معرض الكتاب في الرياض", "ارتفاع أسعار النفط اليوم",
          "المنتخب يستعد لمباراة الحسم"]


def test_a_learned_prefix_template_removes_the_link_line_whatever_title_follows():
    link = "رابط الخبر بصحيفة الوئام: {}"
    learned = _learned_from([f"{BODY}\n{link.format(title)}" for title in TITLES[:3]])
    result = clean(f"{BODY}\n{link.format(TITLES[3])}", learned=learned)
    assert result.body_paragraphs == [BODY]
    assert result.removed[0]["rule"] == "learned:template-prefix"
    assert "'رابط الخبر بصحيفه الوئام: …'" in result.removed[0]["reason"]
    assert "in 3 of this source's articles" in result.removed[0]["reason"]
    long_title = " ".join(["عنوان"] * 18)  # the prefix and a title of a headline's length
    assert clean(f"{BODY}\n{link.format(long_title)}", learned=learned).body_paragraphs == [BODY]


def test_a_learned_number_template_removes_counters_and_time_stamps():
    learned = _learned_from([f"{BODY}\nعدد الزيارات ({n})\n{t} ت م" for n, t in ((3, "19:23"), (17, "13:05"),
                                                                         (40, "09:41"))])
    result = clean(f"{BODY}\nعدد الزيارات (125)\n16:09 ت م", learned=learned)
    assert result.body_paragraphs == [BODY]
    assert {r["rule"] for r in result.removed} == {"learned:template-number"}


def test_templates_leave_copy_alone():
    """A quote after "وقال:" in a few articles is a turn of phrase, not the site's template;
    a sentence is copy whatever template it fits; so is a line longer than a headline."""
    quote = "وقال: «سنواصل العمل حتى ينتهي المشروع في موعده المحدد»"
    pages = [f"{BODY}\nوقال: «{title}»" for title in TITLES[:3]] + [BODY] * 60
    assert quote in clean(f"{BODY}\n{quote}", learned=_learned_from(pages)).body_paragraphs
    link = "المصدر: {}"
    learned = _learned_from([f"{BODY}\n{link.format(title)}" for title in TITLES[:3]])
    sentence = link.format("قالت الوزارة إن العمل سيبدأ في المدارس الأسبوع المقبل.")
    long_line = link.format(" ".join(["كلمة"] * 20))
    kept = clean(f"{BODY}\n{sentence}\n{long_line}", learned=learned).body_paragraphs
    assert kept == [BODY, sentence, long_line]


def test_a_recurring_dateline_goes_to_its_field():
    line = "عين اليوم – جدة"
    learned = Learned(articles=50, counts={line_key(fold(line)): 20})
    result = clean(f"{line}\n{BODY}", learned=learned)
    assert result.metadata == {"dateline": "جدة", "credit": "عين اليوم"}
    assert result.body_paragraphs == [BODY] and result.removed[0]["kind"] == "dateline"


def test_verse_that_ends_the_copy_stays_in_the_body():
    """More short lines after the last sentence than a page's repeated title and subtitle:
    the article's own closing verse, not headline candidates."""
    verse = ["أيام كان السهر لا غبت يجمعنا", "واليوم ذبل الوصل والمارد شحيح",
             "تقبل وتقفي كل صبح ومغيبي", "أنا على مر الزمن لك حبيبي"]
    assert clean("\n".join([BODY, *verse])).body_paragraphs == [BODY, *verse]
    title = "وزير الخارجية يلتقي نظيره الروسي غدا"
    assert clean(f"{BODY}\n{title}").body_paragraphs == [BODY]  # one line: a title


def test_a_line_of_bidi_marks_alone_is_a_separator():
    result = clean(f"{BODY}\n\u200f\u202b\n{BODY}.")
    assert [d.rule for d in result.decisions] == ["default:body", "builtin:separator", "default:body"]


def test_recurring_sentences_stay():
    sentence = "وقد أعد مرسوم ملكي بذلك."
    learned = Learned(articles=50, counts={line_key(fold(sentence)): 4})
    assert sentence in clean(f"{BODY}\n{sentence}", learned=learned).body_paragraphs


def test_headline_candidates_are_deduplicated_after_folding_and_ranked():
    text = f"عاجل اجتماع الوزراء اليوم\n{BODY}\nعاجلٌ اجتماعُ الوزراء اليوم\nعنوان آخر للخبر نفسه"
    result = clean(text)
    assert [c["text"] for c in result.headline_candidates] == [
        "عاجل اجتماع الوزراء اليوم", "عنوان آخر للخبر نفسه"]
    assert result.removed[0]["reason"] == "duplicate of headline candidate"


def test_subheads_inside_the_body_stay_in_the_body():
    text = f"{BODY}\nتفاصيل الاتفاق الجديد\n{BODY.replace('العام', 'الشهر')}"
    assert len(clean(text).body_paragraphs) == 3


def test_brief_keeps_its_one_line():
    result = clean("عنوان الخبر القصير هنا\nوصول الدفعة الأولى من الحجاج إلى جدة")
    assert result.body_paragraphs == ["وصول الدفعة الأولى من الحجاج إلى جدة"]
    assert result.headline_candidates[0]["text"] == "عنوان الخبر القصير هنا"


def test_mixed_languages_and_bidi_marks():
    text = f"\u200fمرحبا بكم\u200e\n{BODY}\nThe English summary of the article follows here, in full."
    result = clean(text)
    assert result.body_paragraphs[-1].startswith("The English summary")


def test_html_extraction_keeps_the_article_and_drops_the_chrome():
    extracted = extract_html((FIXTURES / "html" / "article.html").read_bytes(), "en")
    result = clean(extracted.text, extra_headlines=(extracted.title,), find_headlines=False)
    assert len(result.body_paragraphs) == 3
    assert result.body_paragraphs[0].startswith("The city council approved")
    assert not any("newsletter" in p or "Facebook" in p for p in result.body_paragraphs)
    assert "Council approves new budget" in result.headline_candidates[0]["text"]


@pytest.mark.parametrize(("raw", "message"), [
    (b"\xff\xfe\x00\x01binary", "binary"),
    (b"caf\xe9 au lait", "not valid UTF-8"),
])
def test_undecodable_text_is_refused_with_a_reason(raw, message):
    with pytest.raises(ExtractionError, match=message):
        decode_text(raw, None)


def test_unknown_declared_charset():
    with pytest.raises(ExtractionError, match="Unknown character encoding"):
        decode_text(b"hello", "x-no-such-charset")


def test_html_without_article():
    with pytest.raises(ExtractionError):
        extract_html(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "en")


def test_language_detection():
    assert detect_language(SEED) == "ar"
    assert detect_language("The council approved the budget after a long debate.") == "en"
    assert detect_language("Le conseil a approuvé le budget après un long débat.") == "fr"
    assert detect_language("12345 !!!") is None


def test_extremely_long_line_is_handled():
    line = "كلمة " * 50_000
    assert clean(line.strip() + ".").body_paragraphs


def test_short_repeated_lines_are_list_items_and_stay():
    meal = "Pre-Workout Meal"
    echo = "The council voted on Tuesday to close the old bridge for repairs."
    result = clean(f"{echo}\n{meal}\nOatmeal with berries.\n{meal}\nEggs and toast.\n{echo}",
                   find_headlines=False)
    assert result.body_paragraphs == [echo, meal, "Oatmeal with berries.", meal, "Eggs and toast."]
    assert [r["rule"] for r in result.removed] == ["duplicate:body"]
