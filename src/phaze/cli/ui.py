"""`phaze ui`: serve the design and training page on this machine and print its URL."""
from __future__ import annotations

import argparse
import socket
import threading
from pathlib import Path

from phaze.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ui", help="a local web page to design a model and watch it train",
        description="Serve the Phaze page on this machine. Open the printed URL (it holds a "
                    "secret token). Only the folders given with --folder are read or written.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--folder", dest="folders", action="append", type=Path, default=[],
                        metavar="DIR", help="a folder the page may use for model folders, "
                        "preset files and faces (repeatable; default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from phaze.ui.app import create_app
    from phaze.ui.security import new_token

    folders = args.folders or [Path.cwd()]
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"--folder '{folder}' is not a folder")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is invalid: expected 0 to 65535")
    # Bind first, so that port 0 becomes a real port before the app learns its Host names.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error}") from None
    sock.listen(128)   # queue requests that arrive before uvicorn starts serving
    port = sock.getsockname()[1]
    token = new_token()
    app = create_app(folders, token, args.host, port)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"Phaze UI: http://{shown}:{port}/?token={token}", flush=True)
    print("folders: " + ", ".join(str(f.resolve()) for f in folders), flush=True)
    threading.Thread(target=_warm_up, name="phaze-warm-up", daemon=True).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])


def _warm_up() -> None:
    """Import the builder and timm while the user opens the page, so the first design they
    pick does not wait seconds for those imports."""
    import phaze.train.memory  # noqa: F401
    from phaze.model.encoders.timm_compat import timm_available

    timm_available()
