"""A plain TCP forwarder: ``python tcp_forward.py TARGET_HOST:PORT LISTEN_HOST:PORT...``.

The shared PostgreSQL listens on loopback only; the many-hosts test runs this in the
root namespace on each veth address, so processes in the other namespaces reach the
database over their own links (and lose it when their link is cut).
"""

from __future__ import annotations

import asyncio
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(target: str, listens: list[str]) -> None:
    target_host, target_port = target.rsplit(":", 1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    servers = []
    for listen in listens:
        host, port = listen.rsplit(":", 1)
        servers.append(await asyncio.start_server(handle, host, int(port)))
    print("forwarding", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
