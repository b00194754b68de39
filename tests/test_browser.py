"""Open slides and the course site in a real browser (headless Chromium driven by Playwright) from file://, and
over loopback HTTP as a class's JupyterHub serves them (deploy/jupyterhub/static_site.py at /services/course/).

Every deck is stepped through slide by slide and fragment by fragment; a test fails on any request that would
leave the machine (all are blocked and recorded), any request for a local file that is missing, any JavaScript
error, a slide with nothing on it, or a slide taller than the 1280x720 viewport. The title slide of each deck is
saved as a screenshot.

- `test_a_deck_with_long_cells_presents_offline` builds a deck from a made-up executed notebook with every kind
  of long content and runs always (seconds).
- `test_a_deck_presents_over_http_from_the_hub_as_from_file`: the same deck, the same slides, no problem either way.
- `test_the_built_site` checks the site `make site` wrote: the index, every link on it, every deck, from file://
  and over HTTP (requests to the site's own loopback origin are the only ones let through). It runs when
  ``UDL_SITE`` names the build folder (CI sets it after ``make site``).

Chromium is Debian's ``chromium`` package (or ``UDL_CHROMIUM``): Playwright's own browser download is not
used. Without it, or without ``vendor/node_modules`` (``npm ci --prefix vendor``), the tests are skipped saying
why, unless ``UDL_REQUIRE_BROWSER=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

import loopback
from udl import notebooks, site

_spec = importlib.util.spec_from_file_location(
    "udl_static_site", Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub" / "static_site.py")
static_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(static_site)
HUB_PREFIX = "/services/course/"  # where jupyterhub_config.py's "course" service serves build/
VIEWPORT = {"width": 1280, "height": 720}
REVEAL = "Object.values(require.s.contexts._.defined).find(m => m && m.getIndices)"


def _unavailable(reason: str):
    if os.environ.get("UDL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"UDL_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    for name in (os.environ.get("UDL_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    _unavailable("no Chromium found (apt-get install chromium, or set UDL_CHROMIUM): the browser tests need one")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (pip install playwright)")
    executable = _chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def assets():
    if not (site.VENDOR / "reveal.js").is_dir():
        _unavailable(f"{site.VENDOR} is empty: fill it once with `{notebooks.ASSETS_NPM}` (make slides does)")
    return site.VENDOR


class Page:
    """A browser tab (and its pop-ups) that blocks and records every request leaving the machine, failed requests
    and JS errors."""

    def __init__(self, browser, allow: tuple[str, ...] = ()):
        self.problems: list[str] = []
        self.allow = ("file:", "data:", "blob:", "about:", *allow)  # allow: the loopback site's own origin
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.route("**/*", self._route)
        self.context.on("page", self._watch)
        self.page = self.context.new_page()

    def _watch(self, page):
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allow):
            return route.continue_()
        self.problems.append(f"request leaving the machine: {url}")
        return route.abort()

    def open(self, url: str):
        self.page.goto(url, wait_until="load")
        return self.page

    def close(self):
        self.context.close()


SLIDE_STATE = """() => {
  const R = %s, slide = R.getCurrentSlide();
  const visible = [...slide.querySelectorAll('*')].some(e => e.closest('aside.notes') === null &&
      (e.matches('img, svg, canvas, .MathJax_CHTML') || (e.children.length === 0 && e.innerText && e.innerText.trim())));
  return {indices: R.getIndices(), tall: slide.scrollHeight * R.getScale(), last: R.isLastSlide(),
          more: R.availableFragments().next, visible: visible, text: slide.innerText.slice(0, 60)};
}""" % REVEAL


def check_deck(browser, url: str, screenshot: Path | None = None, allow: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """Step through every slide of the deck at `url`; return (problems, number of slides seen)."""
    tab = Page(browser, allow)
    page = tab.open(url)
    try:
        page.wait_for_selector(".reveal.ready", timeout=20_000)
        page.wait_for_function("() => !window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0",
                               timeout=20_000)
    except Exception as error:  # noqa: BLE001 - a deck that never starts is reported with what the page said
        tab.problems.append(f"the deck never became ready: {type(error).__name__}")
        problems = tab.problems
        tab.close()
        return problems, 0
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
    seen = set()
    for _ in range(3000):
        state = page.evaluate(SLIDE_STATE)
        where = f"slide {state['indices']['h']}.{state['indices']['v']} ({state['text'][:40]!r})"
        key = (state["indices"]["h"], state["indices"]["v"])
        if key not in seen:
            seen.add(key)
            if not state["visible"]:
                tab.problems.append(f"{where} shows nothing")
            if state["tall"] > VIEWPORT["height"]:
                tab.problems.append(f"{where} is {state['tall']:.0f} px tall, "
                                    f"more than the {VIEWPORT['height']} px viewport")
        if state["last"] and not state["more"]:
            break
        page.evaluate(f"() => {REVEAL}.next()")
    tab.close()
    return tab.problems, len(seen)


# ---------------------------------------------------------------- a made-up deck with every kind of long content
def _png(height_inches: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, height_inches))
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _executed_notebook():
    new_md, new_code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    long_prose = " ".join(f"Sentence {i} explains one more detail of the method at some length." for i in range(12))
    long_code = "\n".join(f"value_{i} = {i} * 2  # a line of a long cell" for i in range(40))
    cells = [
        new_md("# 99 · A long deck\n\nThe title slide says what the notebook teaches in one sentence."),
        new_md(f"## Overview\n\n{long_prose}\n\n- a short list item\n- another one, with math $x^2 + y^2$"),
        new_code(long_code, outputs=[_stream("\n".join(map(str, range(60))))]),
        new_code("# NBVAL_CHECK_OUTPUT\nprint((28, 28))", outputs=[_stream("(28, 28)\n")]),
        new_md("### A figure\n\n$$\\frac{W - F + 2P}{S} + 1$$"),
        *[new_code(f"plot({i})", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": _png(h), "text/plain": "<Figure>"})]) for i, h in enumerate((4, 9, 3))],
        new_md("Only the lecturer reads this."),
        new_md("## Exercises\n\n**1.** Do it again."),
        new_code("print('the answer')"),
    ]
    cells[-3].metadata["tags"] = ["notes"]
    cells[-1].metadata["tags"] = ["solution"]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_a_deck_with_long_cells_presents_offline(browser, assets, tmp_path):
    build = tmp_path / "build"
    deck = notebooks.slides(_executed_notebook(), build / "slides" / "99_long.slides.html",
                            site.install_assets(build, assets))
    html = deck.read_text(encoding="utf-8")
    assert "NBVAL_CHECK_OUTPUT" not in html and "the answer" not in html  # markers and solutions stay out
    assert "Only the lecturer reads this." in html.split('<aside class="notes">', 1)[1]
    assert "Sentence 11 explains" in html.split('<aside class="notes">', 1)[1]  # long prose in the notes
    assert "unpkg.com" not in html and "cdnjs" not in html
    problems, slides = check_deck(browser, deck.as_uri(), tmp_path / "title.png")
    assert problems == [], "\n".join(problems)
    assert slides >= 6  # title, overview, its continuation, figure sub-slides, exercises
    assert (tmp_path / "title.png").stat().st_size > 1000


def served(build: Path):
    """Serve `build` over loopback HTTP as the hub does (deploy/jupyterhub/static_site.py, under its prefix)."""
    return loopback.running(static_site.serve(build, 0, HUB_PREFIX))


def test_a_deck_presents_over_http_from_the_hub_as_from_file(browser, assets, tmp_path):
    build = tmp_path / "build"
    deck = notebooks.slides(_executed_notebook(), build / "slides" / "99_long.slides.html",
                            site.install_assets(build, assets))
    (build / "index.html").write_text('<a href="slides/99_long.slides.html">deck</a>', encoding="utf-8")
    from_file = check_deck(browser, deck.as_uri())
    broken = build / "slides" / "broken.slides.html"
    broken.write_text(deck.read_text(encoding="utf-8").replace("</body>", '<img src="../assets/none.png"></body>'))
    with served(build) as origin:
        over_http = check_deck(browser, f"{origin}{HUB_PREFIX}slides/99_long.slides.html", allow=(origin + "/",))
        missing, _ = check_deck(browser, f"{origin}{HUB_PREFIX}slides/broken.slides.html", allow=(origin + "/",))
    assert over_http == from_file and from_file[0] == [] and from_file[1] >= 6, (from_file, over_http)
    assert [p for p in missing if p.startswith("HTTP 404") and p.endswith("/assets/none.png")], missing


def test_speaker_notes_open_offline_with_the_long_prose_and_the_notes_cell(browser, assets, tmp_path):
    build = tmp_path / "build"
    deck = notebooks.slides(_executed_notebook(), build / "slides" / "99_long.slides.html",
                            site.install_assets(build, assets))
    tab = Page(browser)
    page = tab.open(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=20_000)
    page.evaluate(f"() => {REVEAL}.slide(1, 0)")  # the overview, whose long paragraph went to the notes
    with page.expect_popup() as popup:
        page.keyboard.press("s")  # reveal.js's speaker view
    view = popup.value
    view.wait_for_function("() => document.querySelector('.speaker-controls-notes') && "
                           "document.querySelector('.speaker-controls-notes').innerText.includes('Sentence 11')",
                           timeout=20_000)
    tab.close()
    assert tab.problems == []


def test_the_checker_catches_outside_requests_errors_and_tall_slides(browser, assets, tmp_path):
    build = tmp_path / "build"
    deck = notebooks.slides(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\n\nText.")]),
                            build / "slides" / "bad.slides.html", site.install_assets(build, assets))
    html = deck.read_text(encoding="utf-8").replace(
        "</body>", '<img src="https://example.org/x.png"><script>undefined_function()</script>'
                   '<script>const tall = document.createElement("div"); tall.style.height = "2000px"; '
                   'tall.textContent = "tall"; document.querySelector("section > section").appendChild(tall)</script>'
                   '</body>')
    deck.write_text(html, encoding="utf-8")
    problems, _ = check_deck(browser, deck.as_uri())
    text = "\n".join(problems)
    assert "request leaving the machine: https://example.org/x.png" in text
    assert "undefined_function" in text
    assert "more than the 720 px viewport" in text


# ---------------------------------------------------------------- the site `make site` built
def _site() -> Path:
    raw = os.environ.get("UDL_SITE")
    if not raw:
        pytest.skip("UDL_SITE is not set: build the site (make site) and set UDL_SITE=build to check it; CI does")
    folder = Path(raw)
    if not (folder / "index.html").is_file():
        pytest.fail(f"UDL_SITE={raw} has no index.html: run make site first")
    return folder.resolve()


@pytest.mark.parametrize("over", ["file", "http"])
def test_the_built_site(browser, over):
    """From file://, and over HTTP as the hub serves it (/services/course/): the same links, pages and decks."""
    build = _site()
    if over == "file":
        _check_site(browser, build, (build / "index.html").as_uri(), lambda path: Path(path), ())
    else:
        with served(build) as origin:
            _check_site(browser, build, f"{origin}{HUB_PREFIX}index.html",
                        lambda path: build / path[len(HUB_PREFIX):], (origin + "/",))


def _check_site(browser, build: Path, index: str, to_file, allow: tuple[str, ...]) -> None:
    local = ("file:", *allow)
    tab = Page(browser, allow)
    page = tab.open(index)
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    tab.close()
    problems = list(tab.problems)
    decks = sorted((build / "slides").glob("*.slides.html"))
    assert decks and links, f"{build} has no decks or the index has no links"
    linked = set()
    for link in links:
        parsed = urlparse(link)
        if not link.startswith(local):
            if not link.startswith("https://colab.research.google.com/github/"):
                problems.append(f"the index links outside the site: {link}")
            continue
        target = to_file(unquote(parsed.path))
        linked.add(target)
        if not target.is_file():
            problems.append(f"broken link: {link}")
        elif target.suffix == ".ipynb":
            student = nbformat.read(target, as_version=4)
            if any("solution" in c.metadata.get("tags", []) for c in student.cells):
                problems.append(f"{target.name}: the student edition keeps a solution cell")
        elif target.name.endswith(".slides.html"):
            shot = build / "screenshots" / f"{target.name[:-12]}.png" if not allow else None
            found, count = check_deck(browser, link, shot, allow)
            problems += [f"{target.name}: {p}" for p in found] + ([f"{target.name}: no slides"] if not count else [])
        else:
            page_tab = Page(browser, allow)
            page_tab.open(link).wait_for_load_state("load")
            back = page_tab.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            problems += [f"{target.name}: {p}" for p in page_tab.problems]
            problems += [f"{target.name}: broken link {b}" for b in back
                         if b.startswith(local) and not to_file(unquote(urlparse(b).path)).exists()]
            page_tab.close()
    problems += [f"deck not linked from the index: {d.name}" for d in decks if d not in linked]
    assert problems == [], json.dumps(problems, indent=1)
