"""From raw bytes to text: decoding, HTML article extraction, language detection."""

import contextlib
import re
from dataclasses import dataclass

import justext
import py3langid
import trafilatura
from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title

from app.text import nfc, without_forbidden

ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
LETTERS = re.compile(r"[^\W\d_]")
WORDS = re.compile(r"\w+")
ARTICLE_MIN_WORDS = 5  # fewer words than this is navigation, not an article
ARABIC_SCRIPT = {"ar", "fa", "ur", "ps", "ku", "sd", "ug"}
JUSTEXT_STOPLISTS = {"ar": "Arabic", "en": "English", "fr": "French", "de": "German",
                     "es": "Spanish", "it": "Italian", "pt": "Portuguese", "tr": "Turkish"}


class ExtractionError(ValueError):
    """The input cannot become article text; the message is the reason shown to users."""


@dataclass
class Extracted:
    text: str
    title: str | None
    extractor: str


CHARSET_NAME = re.compile(r"[A-Za-z0-9._:+-]{1,40}")


def parse_content_type(value: str) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type value; a malformed charset is dropped."""
    mimetype, _, params = value.partition(";")
    charset = next((p.split("=", 1)[1].strip().strip('"') for p in params.split(";")
                    if p.strip().lower().startswith("charset=")), None)
    return mimetype.strip().lower(), charset if charset and CHARSET_NAME.fullmatch(charset) else None


def decode_text(raw: bytes, charset: str | None) -> str:
    """Decode plain text strictly: the declared charset or UTF-8; binary is refused."""
    if b"\x00" in raw[:4096]:
        raise ExtractionError("The input looks binary (NUL bytes), not text.")
    try:
        return raw.decode(charset or "utf-8")
    except LookupError as error:
        raise ExtractionError(f"Unknown character encoding '{charset}'.") from error
    except UnicodeDecodeError as error:
        raise ExtractionError(
            f"The input is not valid {charset or 'UTF-8'} (byte {error.start})."
        ) from error


def _title(tree: HtmlElement) -> str | None:
    """The page title as trafilatura's metadata finds it (meta tags, then JSON-LD, then the
    headings), without the rest of its metadata: the publication date search alone costs
    more than the extraction. NFC, without characters copy may not hold."""
    metadata = examine_meta(tree)
    with contextlib.suppress(Exception):  # as trafilatura does: its JSON-LD reader has bugs
        metadata = extract_meta_json(tree, metadata)
    title = metadata.title or extract_title(tree) or ""
    return without_forbidden(nfc(title)).strip() or None


def extract_html(raw: bytes, language: str | None) -> Extracted:
    """The article body of an HTML page: trafilatura first, jusText if it finds nothing.
    The page is parsed once; the extraction works on a copy of the tree."""
    if b"\x00" in raw[:4096]:
        raise ExtractionError("The input looks binary (NUL bytes), not HTML.")
    html = _decode_html(raw)
    tree = trafilatura.load_html(html)
    if tree is None:
        raise ExtractionError("No article text could be found in the page.")
    title = _title(tree)
    text = trafilatura.extract(tree, include_comments=False, include_tables=True, fast=True,
                              favor_recall=True)
    if _is_article(text):
        return Extracted(text, title, "trafilatura")
    paragraphs = justext.justext(html, justext.get_stoplist(JUSTEXT_STOPLISTS.get(
        (language or "en").split("-")[0], "English")))
    text = "\n".join(p.text for p in paragraphs if not p.is_boilerplate)
    if not _is_article(text):
        raise ExtractionError("No article text could be found in the page.")
    return Extracted(text, title, "justext")


def _is_article(text: str | None) -> bool:
    return bool(text) and len(WORDS.findall(text)) >= ARTICLE_MIN_WORDS


def _decode_html(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise ExtractionError("The page's character encoding could not be determined.") from None
        return str(best)


def detect_language(text: str) -> str | None:
    """A BCP 47 language for ``text``: Arabic by script, else py3langid; None if no letters."""
    sample = text[:5000]
    letters = len(LETTERS.findall(sample))
    if letters == 0:
        return None
    language, _score = py3langid.classify(sample)
    if len(ARABIC_LETTERS.findall(sample)) / letters > 0.5 and language not in ARABIC_SCRIPT:
        return "ar"  # short Arabic-script text py3langid misreads
    return language
