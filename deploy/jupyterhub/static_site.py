"""Serve a folder (the course site `make site` wrote: build/) read-only under a URL prefix, on loopback.

    python static_site.py build --port 8010 [--prefix /services/course/]

JupyterHub runs it as the managed service "course" (jupyterhub_config.py): the hub's proxy forwards
/services/course/... here unchanged, so the prefix (``JUPYTERHUB_SERVICE_PREFIX``, or --prefix) is removed
before the file is looked up. Only GET and HEAD; nothing outside the folder; no directory listings.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


class PrefixedFiles(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler for the files under `directory`, reached as <prefix><relative path>."""

    prefix = "/"

    def __init__(self, *args, prefix: str = "/", **kwargs):
        self.prefix = prefix
        super().__init__(*args, **kwargs)

    def send_head(self):
        path = urlsplit(self.path).path
        if path == self.prefix.rstrip("/") and self.prefix != "/":
            self.send_response(301)
            self.send_header("Location", self.prefix)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if not path.startswith(self.prefix):
            self.send_error(404, f"not under {self.prefix}")
            return None
        self.path = "/" + self.path[len(self.prefix):]
        if os.path.isdir(self.translate_path(self.path)) and not (
                Path(self.translate_path(self.path)) / "index.html").is_file():
            self.send_error(404, "no listing")
            return None
        return super().send_head()

    def log_message(self, format, *args):  # noqa: A002 - the signature of BaseHTTPRequestHandler
        if os.environ.get("UDL_SITE_LOG"):
            super().log_message(format, *args)


def serve(folder: Path, port: int, prefix: str = "/", host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Return a server (not yet serving) of `folder` under `prefix`; port 0 picks a free one."""
    folder = Path(folder).resolve()
    if not (folder / "index.html").is_file():
        raise FileNotFoundError(f"folder: expected a built site with index.html (make site); received {folder}")
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    handler = functools.partial(PrefixedFiles, directory=str(folder), prefix=prefix)
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--prefix", default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"))
    args = parser.parse_args(argv)
    server = serve(args.folder, args.port, args.prefix)
    print(f"serving {args.folder} at http://127.0.0.1:{server.server_address[1]}{args.prefix}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
