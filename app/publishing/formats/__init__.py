"""Formatters: one small module per wire format.

Every delivery stores the article as a ninjs document (``ninjs.document``) when the change
commits; a formatter turns stored documents into what an outlet receives. To add a format,
add a module with ``MEDIA_TYPE`` and ``render`` and list it in ``WEBHOOK_FORMATS`` or
``FEED_FORMATS``.
"""

from app.publishing.formats import atom, ninjs

WEBHOOK_FORMATS = {"ninjs": ninjs}
FEED_FORMATS = {"atom": atom}
