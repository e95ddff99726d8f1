"""Run mongoeco as a MongoDB wire-protocol server on a TCP port.

    python -m devstack.mongo_server --port 27017 --engine sqlite --path var/mongo/ponte.sqlite

The application reaches it through pymongo over ``MONGO_URI`` exactly as it would a
real MongoDB. SIGINT/SIGTERM close it cleanly (SQLite data is flushed and kept).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

logger = logging.getLogger("devstack.mongo")


async def serve(host: str, port: int, engine_name: str, path: str | None) -> None:
    # Imported here so that merely importing devstack costs nothing.
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    if engine_name == "sqlite":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = SQLiteEngine(path)
    else:
        engine = MemoryEngine()
    proxy = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await proxy.start()
    # The launcher and the test fixtures wait for this exact line.
    print(f"mongoeco ready {proxy.address.uri} engine={engine_name}", flush=True)
    try:
        await stop.wait()
    finally:
        await proxy.close()
        print("mongoeco stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--engine", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--path", default="var/mongo/ponte.sqlite", help="SQLite file (engine=sqlite)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.engine, args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
