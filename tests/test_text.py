"""Unit tests of the pure text rules: folding, language tags, direction."""

import pytest

from app.text import canonical_language, direction, fold, forbidden_character, nfc, without_forbidden


@pytest.mark.parametrize(("a", "b"), [
    ("مُدَرِّسَةٌ", "مدرسه"),
    ("أحمد", "احمد"), ("إسلام", "اسلام"), ("آمن", "امن"),
    ("مستشفى", "مستشفي"),
    ("العـــربية", "العربيه"),
    ("Hello  World", "hello world"),
    ("STRASSE", "strasse"), ("Straße", "strasse"),
    ("\u200fمرحبا\u200e", "مرحبا"),  # bidi marks are invisible
])
def test_fold_equates_what_readers_see_as_equal(a, b):
    assert fold(a) == fold(b)


def test_fold_keeps_different_words_apart():
    assert fold("كتب") != fold("كتاب")


def test_nfc_composes():
    assert nfc("e\u0301") == "\u00e9"


@pytest.mark.parametrize(("tag", "canonical", "dir_"), [
    ("ar", "ar", "rtl"), ("AR-eg", "ar-EG", "rtl"), ("he", "he", "rtl"), ("fa", "fa", "rtl"),
    ("ur", "ur", "rtl"), ("yi", "yi", "rtl"), ("dv", "dv", "rtl"), ("en-GB", "en-GB", "ltr"),
    ("az-Arab", "az-Arab", "rtl"), ("az", "az", "ltr"), ("zh-Hant-TW", "zh-Hant-TW", "ltr"),
])
def test_language_tags_and_direction(tag, canonical, dir_):
    assert canonical_language(tag) == canonical
    assert direction(canonical) == dir_


@pytest.mark.parametrize("tag", ["", "en_US", "english", "x", "12", "ar-", "-ar"])
def test_invalid_language_tags(tag):
    assert canonical_language(tag) is None


def test_forbidden_characters():
    assert forbidden_character("line\nnext\ttab\r") is None
    assert forbidden_character("a\x00b") == "\x00"
    assert forbidden_character("bell\x07") == "\x07"
    assert forbidden_character("lone \ud800") == "\ud800"
    assert forbidden_character("عربي \u200f") is None
    for noncharacter in ("\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"):
        assert forbidden_character(f"a{noncharacter}") == noncharacter
    assert forbidden_character("\ufdcf \ufdf0 \ufffd \U0001f4f0") is None  # neighbours are fine
    assert without_forbidden("a\x00b\uffffc\u200fد") == "abc\u200fد"
