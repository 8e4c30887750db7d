"""A loopback webhook receiver to watch deliveries while trying Masthead (not for production).

    python3 examples/webhook_receiver.py --port 9100 --secret whsec_...

It verifies each request's signature with the README's snippet, processes each
Idempotency-Key once, keeps the highest sequence per article, and prints one line per
delivery. Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The README's verification snippet (a test keeps the two identical).
SIGNED = ("Idempotency-Key", "Masthead-Article", "Masthead-Sequence", "Masthead-Event")

def verify_signature(secret: str, headers, body: bytes, tolerance: float = 300) -> bool:
    """headers: the request's headers (case-insensitive, as web frameworks give them)."""
    try:
        fields = dict(part.strip().split("=", 1) for part in headers["Masthead-Signature"].split(","))
        timestamp = int(fields["t"])
        values = [fields["t"], *(headers[name] for name in SIGNED)]
    except (AttributeError, KeyError, ValueError):
        return False
    if headers.get("Masthead-Delivery") != headers["Idempotency-Key"]:
        return False  # both carry the delivery id
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (a replay) or too far in the future
    message = ".".join(values).encode() + b"." + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), fields.get("v2", "").encode())


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: set[str] = set()
    latest: dict[str, int] = {}

    def do_POST(self) -> None:  # http.server names handlers so
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verify_signature(self.secret, self.headers, body):
            return self._answer(401)
        key, article = self.headers["Idempotency-Key"], self.headers["Masthead-Article"]
        sequence = int(self.headers["Masthead-Sequence"])
        if key not in self.seen and sequence > self.latest.get(article, 0):
            self.seen.add(key)
            self.latest[article] = sequence
            headline = json.loads(body).get("headlines", [{}])[0].get("value", "")
            print(f"{self.headers['Masthead-Event']} article={article} sequence={sequence} "
                  f"headline={headline!r}", flush=True)
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_args) -> None:
        """Quiet: one printed line per delivery is enough."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--secret", required=True, help="the outlet's signing secret")
    args = parser.parse_args()
    Receiver.secret = args.secret
    ThreadingHTTPServer(("127.0.0.1", args.port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
