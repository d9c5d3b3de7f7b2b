"""Another process on the server, listening where a confused or forged request could go.

    python -m tests_support.bystander RECORD_FILE HOST:PORT [HOST:PORT ...]

Stands in for another user's ``python3 -m http.server 9999`` or a cloud metadata service:
it accepts connections, writes what each sent (first 64 KiB) as one JSON line to
RECORD_FILE, and answers like a web server, so a request made to it would succeed and
carry on. Prints ``ready`` once it listens on every address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: stolen=1\r\n\r\nok"


async def main(record: str, addresses: list[str]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            data = await asyncio.wait_for(reader.read(64 * 1024), 5)
        except (asyncio.TimeoutError, ConnectionError):
            data = b""
        local = writer.get_extra_info("sockname")
        with open(record, "a") as f:
            f.write(json.dumps({"at": list(local[:2]), "sent": data.decode("latin-1")}) + "\n")
        with contextlib.suppress(ConnectionError):
            writer.write(ANSWER)
            await writer.drain()
            writer.close()

    servers = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        servers.append(await asyncio.start_server(handle, host.strip("[]"), int(port)))
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
