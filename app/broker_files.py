"""The embedded default's filesystem broker, with atomic message writes.

Kombu's filesystem transport creates a message file and then writes it; a worker
polling the folder can read it empty in between, fail to decode it and exit, losing the
message (kombu issue #1551). Writing under a name no reader picks up and renaming it into
place makes a message appear whole or not at all.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(self.data_folder_out, f"partial-{name}.tmp")
        with open(partial, "wb") as out:
            out.write(str_to_bytes(dumps(payload)))
        os.replace(partial, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    Channel = Channel
