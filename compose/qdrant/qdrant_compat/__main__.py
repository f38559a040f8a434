"""`python -m qdrant_compat --host 0.0.0.0 --port 6333 --storage /qdrant/storage`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ._app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="qdrant_compat", description="Qdrant-compatible REST server over qdrant-edge."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6333)
    parser.add_argument("--storage", default="./storage", help="folder for collections")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # uvicorn turns SIGTERM into a graceful shutdown, which closes (flushes) every shard.
    uvicorn.run(create_app(args.storage), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
