"""A resolver that rebinds, for ``bench/fault_harness.py`` (loopback only).

Python imports ``sitecustomize`` at start-up from the path, and the harness puts this
folder on ``PYTHONPATH`` of every stack process, so the API and the worker resolve one
name through this function in their own process: the DNS rebinding a hostile outlet
owner would stage, without a DNS server. ``MASTHEAD_REBIND_HOST`` is the name; while the
file ``MASTHEAD_REBIND_FLAG`` exists, successive lookups of it alternate between
127.0.0.1 (the receiver, allowed) and 127.0.0.2 (a trap the URL guard must refuse), so
a client that resolved again after the check would land on the trap; otherwise the name
is 127.0.0.1. Each answer given while rebinding is appended to the file
``MASTHEAD_REBIND_FLAG`` + ``.answers`` (process id, address), so the harness can tell
how many lookups got the trap's address. Other names resolve as usual.
"""

import itertools
import os
import socket

_HOST = os.environ.get("MASTHEAD_REBIND_HOST")

if _HOST:
    _real_getaddrinfo = socket.getaddrinfo
    _answers = itertools.cycle(["127.0.0.1", "127.0.0.2"])

    def _getaddrinfo(host, port, *args, **kwargs):
        if host != _HOST:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        rebinding = os.path.exists(os.environ["MASTHEAD_REBIND_FLAG"])
        return _real_getaddrinfo(_rebound() if rebinding else "127.0.0.1", port, *args, **kwargs)

    def _rebound() -> str:
        address = next(_answers)
        # One short line per write in append mode: lines from several processes do not mix.
        with open(os.environ["MASTHEAD_REBIND_FLAG"] + ".answers", "a") as answers:
            answers.write(f"{os.getpid()} {address}\n")
        return address

    socket.getaddrinfo = _getaddrinfo
