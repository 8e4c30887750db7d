"""Custom fields that enforce the text rules of app.text at the edge."""

from urllib.parse import urlsplit

import nh3
from marshmallow import ValidationError, fields, validate

from app.text import canonical_language, forbidden_character, nfc

# What the spec can say of the text rules; HTML markup is refused too, which no regex states.
NO_CONTROL_CHARACTERS = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufdd0-\\ufdef\\ufffe\\uffff]*$"
BCP47_SHAPE = "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
LANGUAGE_MAX_LENGTH = 35  # RFC 5646 4.4.1: the length implementations must support
# Revision numbers, line indexes and counts are 32-bit integers in the database: anything
# larger is refused with 422 (documented as the maximum) instead of failing the query.
INT32_MAX = 2 ** 31 - 1


def revision_number(**kwargs) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1, max=INT32_MAX), **kwargs)


class PlainText(fields.String):
    """A string stored exactly (after NFC): no HTML markup, no control characters."""

    def __init__(self, *, max_length: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.metadata.setdefault("maxLength", max_length)
        self.metadata.setdefault("pattern", NO_CONTROL_CHARACTERS)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = nfc(super()._deserialize(value, attr, data, **kwargs))
        bad = forbidden_character(text)
        if bad is not None:
            raise ValidationError(f"Contains a character that copy may not hold (U+{ord(bad):04X}: "
                                  "a control character or a Unicode noncharacter).")
        if len(text) > self.max_length:
            raise ValidationError(f"Longer than {self.max_length} characters.")
        if nh3.is_html(text):
            raise ValidationError(
                "Contains HTML markup; send plain text (HTML pages go through /v1/imports)."
            )
        return text


class LanguageTag(fields.String):
    """A BCP 47 language tag, returned in its canonical form (e.g. 'ar-EG')."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {}).update(
            {"description": "Registered BCP 47 language tag, e.g. ar, ar-EG, en-GB",
             "example": "ar", "pattern": BCP47_SHAPE, "maxLength": LANGUAGE_MAX_LENGTH}
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        tag = canonical_language(raw) if len(raw) <= LANGUAGE_MAX_LENGTH else None
        if tag is None or len(tag) > LANGUAGE_MAX_LENGTH:
            raise ValidationError("Not a valid BCP 47 language tag.")
        return tag


class WebUrl(fields.String):
    """An absolute http(s) URL."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {}).update({"format": "uri", "maxLength": 2048})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        url = super()._deserialize(value, attr, data, **kwargs)
        try:
            parts = urlsplit(url)
        except ValueError as error:
            raise ValidationError("Not a valid URL.") from error
        bad = forbidden_character(url) or any(c.isspace() for c in url)
        if parts.scheme not in ("http", "https") or not parts.hostname or bad or len(url) > 2048:
            raise ValidationError("Must be an absolute http or https URL.")
        return url
