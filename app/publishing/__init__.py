"""Delivering published articles to outlets: document formats, signing, the URL guard and
the webhook client. Pure functions over documents; the services decide what to send."""
