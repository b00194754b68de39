"""The course site served over loopback HTTP (deploy/jupyterhub/static_site.py, the hub's /services/course/) works
as it does from file://: every relative link and asset of every page resolves to the same file.

- A small made-up site: pages in sub-folders linking up and across, an image, a query string and a fragment,
  served under JupyterHub's service prefix; the prefix without its slash redirects, nothing outside the folder
  or outside the prefix is served, and folders are not listed.
- ``UDL_SITE=build`` (CI, after ``make site``): every href/src of every HTML page of the real build, fetched
  over HTTP, answers 200 with the bytes of the file it names from file://.
The browser checks over HTTP (JavaScript, slides) are in tests/test_browser.py.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("udl_static_site", REPO / "deploy" / "jupyterhub" / "static_site.py")
static_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(static_site)

PREFIX = "/services/course/"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.found.append(value)


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.found


@pytest.fixture
def serve():
    servers = []

    def start(folder: Path, prefix: str = PREFIX) -> str:
        server = static_site.serve(folder, 0, prefix)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, bytes, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, b"", error.headers.get("Location", "")


def check_site(build: Path, base: str) -> tuple[list[str], set[Path]]:
    """Fetch every local href/src of every page over HTTP; return the ones that differ from file://, and the files
    that were fetched."""
    problems, seen, fetched = [], set(), set()
    for page in sorted(build.rglob("*.html")):
        relative = page.relative_to(build).as_posix()
        page_url = base + PREFIX + relative
        for link in links_of(page.read_text(encoding="utf-8", errors="replace")):
            if urlsplit(link).scheme in ("http", "https", "data", "mailto", "javascript") or link.startswith("#"):
                continue
            on_disk = (page.parent / unquote(urlsplit(link).path)).resolve()
            over_http = urljoin(page_url, link)
            if (over_http, on_disk) in seen:
                continue
            seen.add((over_http, on_disk))
            if not on_disk.is_relative_to(build.resolve()):
                problems.append(f"{relative}: {link} leaves the site folder")
                continue
            if on_disk.is_dir():
                on_disk = on_disk / "index.html"
            fetched.add(on_disk)
            status, body, _ = get(over_http)
            if not on_disk.is_file():
                problems.append(f"{relative}: {link} names no file (broken from file:// too)")
            elif status != 200 or body != on_disk.read_bytes():
                problems.append(f"{relative}: {link} -> {over_http} answered {status}, not {on_disk.name}")
    return problems, fetched


def test_a_site_served_under_the_hub_prefix_resolves_every_link_as_from_file(tmp_path, serve):
    build = tmp_path / "build"
    (build / "slides").mkdir(parents=True)
    (build / "assets" / "img").mkdir(parents=True)
    (build / "html").mkdir()
    (build / "assets" / "img" / "logo.png").write_bytes(b"\x89PNG fake")
    (build / "assets" / "style.css").write_text("body {}")
    (build / "index.html").write_text('<link href="assets/style.css" rel="stylesheet"><img src="assets/img/logo.png">'
                                      '<a href="slides/01%20deck.slides.html#/2">deck</a><a href="html/">pages</a>'
                                      '<a href="html/02.html?x=1">page</a><a href="#top">top</a>')
    (build / "slides" / "01 deck.slides.html").write_text('<script src="../assets/style.css"></script>'
                                                          '<a href="../index.html">back</a>')
    (build / "html" / "index.html").write_text('<a href="02.html">2</a><img src="../assets/img/logo.png">')
    (build / "html" / "02.html").write_text('<a href="../slides/01%20deck.slides.html">deck</a>')
    base = serve(build)
    problems, fetched = check_site(build, base)
    assert problems == []
    assert fetched == {(build / f).resolve() for f in ("assets/style.css", "assets/img/logo.png", "index.html",
                                                       "slides/01 deck.slides.html", "html/index.html",
                                                       "html/02.html")}
    assert get(base + PREFIX.rstrip("/")) == (301, b"", PREFIX)
    assert get(base + "/index.html")[0] == 404  # only under the prefix
    assert get(base + PREFIX + "assets/")[0] == 404  # no listing
    assert get(base + PREFIX + "../../../etc/passwd")[0] == 404
    assert get(base + PREFIX + "%2e%2e/%2e%2e/etc/passwd")[0] == 404
    # the checker itself fails on a broken link
    (build / "html" / "02.html").write_text('<a href="../slides/missing.slides.html">gone</a>')
    assert any("missing.slides.html names no file" in p for p in check_site(build, base)[0])


def test_serving_a_folder_without_a_built_site_is_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a built site with index.html"):
        static_site.serve(tmp_path, 0)


def test_the_built_site_over_http():
    raw = os.environ.get("UDL_SITE")
    if not raw:
        pytest.skip("UDL_SITE is not set: build the site (make site) and set UDL_SITE=build to check it; CI does")
    build = Path(raw).resolve()
    server = static_site.serve(build, 0, PREFIX)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        problems, fetched = check_site(build, base)
        # every notebook's page, deck and student edition is linked from the site and was fetched over HTTP
        expected = {p.resolve() for folder, pattern in (("html", "*.html"), ("slides", "*.slides.html"),
                                                        ("student", "*.ipynb"))
                    for p in (build / folder).glob(pattern)}
        assert len(expected) >= 3 * 15, f"the site at {build} is incomplete: {sorted(expected)}"
        assert expected <= fetched, f"not linked from any page: {sorted(expected - fetched)}"
    finally:
        server.shutdown()
        server.server_close()
    assert problems == [], "\n".join(problems)
