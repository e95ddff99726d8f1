"""Run mongoeco as a MongoDB wire-protocol server on a TCP port.

    python -m devstack.mongo_server --port 27017 --engine sqlite --path var/mongo/ponte.sqlite

The application reaches it through pymongo over ``MONGO_URI`` exactly as it would a
real MongoDB. SIGINT/SIGTERM close it cleanly (SQLite data is flushed and kept).

``--seed FILE`` loads data before the server says it is ready (the benchmarks' large
data sets). mongoeco answers a wire ``insert`` one document at a time, each through
every check of a single insert (as shipped, a comparison with every stored document:
10,000 products took ~5 minutes that way); its own ``insert_many`` checks a batch
against its indexes only (~5 s). FILE is a stream of
BSON records, applied in order::

    {"ns": "db.coll", "indexes": [<createIndexes specs>]}   # through the command path
    {"ns": "db.coll", "documents": [...]}                    # one insert_many

Index records come first, as the application's own ``ensure_indexes`` would create them
on empty collections (mongoeco builds an index over existing data very slowly). The
documents are decoded exactly as the wire decodes them, so what is stored is what a
pymongo insert would have stored.

Before serving it applies ``devstack.mongoeco_patch`` (single inserts no longer compare
their ``_id`` with every stored document); ``--unpatched`` serves mongoeco as shipped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from devstack import mongoeco_patch

logger = logging.getLogger("devstack.mongo")


async def seed(client, path: str) -> dict[str, int]:
    """Apply a seed file (see the module docstring); returns documents loaded per namespace."""
    import bson
    from mongoeco.wire.bson_bridge import decode_wire_value

    loaded: dict[str, int] = {}
    with open(path, "rb") as f:
        for raw in bson.decode_file_iter(f):
            record = decode_wire_value(raw)
            db_name, _, coll_name = record["ns"].partition(".")
            db = client.get_database(db_name)
            if "indexes" in record:
                await db.command({"createIndexes": coll_name, "indexes": record["indexes"]})
            else:
                await db.get_collection(coll_name).insert_many(record["documents"], ordered=True)
                loaded[record["ns"]] = loaded.get(record["ns"], 0) + len(record["documents"])
    return loaded


async def serve(
    host: str, port: int, engine_name: str, path: str | None, seed_path: str | None = None, patch: bool = True
) -> None:
    # Imported here so that merely importing devstack costs nothing.
    from mongoeco import AsyncMongoClient
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    if patch:
        mongoeco_patch.apply()
    if engine_name == "sqlite":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = SQLiteEngine(path)
    else:
        engine = MemoryEngine()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # One client for the seed and the server; entering it connects the engine (SQLite opens
    # its file), leaving it disconnects (SQLite data is flushed).
    async with AsyncMongoClient(engine) as client:
        if seed_path:
            loaded = await seed(client, seed_path)
            # stderr: stdout's first line is the ready line the launchers wait for.
            print(f"mongoeco seeded from {seed_path}: {loaded}", file=sys.stderr, flush=True)
        proxy = AsyncMongoEcoProxyServer(client=client, host=host, port=port)
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
    parser.add_argument("--seed", help="BSON records to load before serving (see the module docstring)")
    parser.add_argument("--unpatched", action="store_true", help="mongoeco as shipped (see devstack.mongoeco_patch)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.engine, args.path, args.seed, patch=not args.unpatched))
    return 0


if __name__ == "__main__":
    sys.exit(main())
