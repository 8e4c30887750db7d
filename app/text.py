"""Text rules shared by every layer: NFC storage, folded comparison, language direction.

Text is stored exactly as sent, after NFC normalisation. Searching and comparing use a
folded form that ignores what readers do not see as a difference: Latin case, Arabic
diacritics (tashkeel), tatweel, and the alef / yeh / teh marbuta spelling variants.
"""

import re
import sys
import unicodedata
from functools import cache

import langcodes

# Scripts written right to left (ISO 15924 codes, as langcodes reports them).
RTL_SCRIPTS = frozenset(
    {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr", "Mend", "Yezi"}
)

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_ARABIC_VARIANTS = str.maketrans(
    {
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u06cc": "\u064a",  # farsi yeh -> yeh
        "\u0629": "\u0647",  # teh marbuta -> heh
    }
)
# What no copy needs and not every outlet format can carry (XML 1.0 has no place for
# them): C0/C1 controls other than tab, line feed and carriage return; lone surrogates;
# and the Unicode noncharacters (U+FDD0-U+FDEF and the last two code points of every plane).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
_FORBIDDEN_CHARS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
_WHITESPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def forbidden_character(text: str) -> str | None:
    """The first character that may not be stored (control, lone surrogate or
    noncharacter), if any: the API refuses such text with 422."""
    match = _FORBIDDEN_CHARS.search(text)
    return match.group() if match else None


def without_forbidden(text: str) -> str:
    """The text with those characters dropped (scraped copy: kept byte for byte as the
    raw import, cleaned without them)."""
    return _FORBIDDEN_CHARS.sub("", text)


def fold(text: str) -> str:
    """Comparison form: NFKC, case folded, Arabic marks and variants unified, format
    characters (bidi marks, zero-width joiners) dropped, spaces collapsed."""
    text = fold_arabic(unicodedata.normalize("NFKC", text).casefold()).translate(_format_characters())
    return _WHITESPACE.sub(" ", text).strip()


@cache
def _format_characters() -> dict[int, None]:
    """Every Unicode format character (category Cf), to drop with str.translate: a page of
    160,000 lines is folded in a third of the time a per-character check takes."""
    return dict.fromkeys(c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")


def fold_arabic(text: str) -> str:
    """Only the Arabic part of folding: no diacritics or tatweel, one form of each letter."""
    return _ARABIC_MARKS.sub("", text).replace(_TATWEEL, "").translate(_ARABIC_VARIANTS)


def canonical_language(tag: str) -> str | None:
    """The canonical BCP 47 form of ``tag``, or None if it is not a valid tag."""
    if not tag or "_" in tag or not langcodes.tag_is_valid(tag):
        return None
    return langcodes.standardize_tag(tag)


def direction(tag: str) -> str:
    """'rtl' or 'ltr' for a BCP 47 tag, from its explicit or most likely script."""
    script = langcodes.Language.get(tag).maximize().script
    return "rtl" if script in RTL_SCRIPTS else "ltr"
