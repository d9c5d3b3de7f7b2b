"""One half of an SSH-style port forward, through a unix socket (which crosses network
namespaces, where TCP on loopback does not).

    python -m tests_support.forwarder tcp:127.0.0.1:9999 unix:/tmp/t.sock   # laptop side
    python -m tests_support.forwarder unix:/tmp/t.sock tcp:127.0.0.1:8888   # server side

Run the laptop side in the test's namespace and the server side in the server's: together
they are ``ssh -N -L 9999:localhost:8888``. Prints ``ready`` once it listens; every
connection is piped both ways until either end closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def connect(target: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    kind, _, address = target.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(address)
    host, _, port = address.rpartition(":")
    return await asyncio.open_connection(host.strip("[]"), int(port))


async def main(listen: str, target: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await connect(target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    kind, _, address = listen.partition(":")
    if kind == "unix":
        server = await asyncio.start_unix_server(handle, address)
    else:
        host, _, port = address.rpartition(":")
        server = await asyncio.start_server(handle, host.strip("[]"), int(port))
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(sys.argv[1], sys.argv[2]))
