"""Build the course site in build/: an index of the notebooks, their HTML pages, slides and student editions.

Everything the pages load is copied into ``build/assets`` from ``vendor/node_modules`` (pinned in
``vendor/package-lock.json``, filled by ``npm ci --prefix vendor``), so the site works from ``file://`` with no
network. The index lists each notebook's title, what it teaches, the data it used, its quick runtime and its
key metrics (from ``build/results``), with links to its page, slides, student edition and Colab.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from udl import notebooks

VENDOR = Path(__file__).resolve().parents[1] / "vendor" / "node_modules"
# What the pages need from each npm package (MathJax: the TeX input and CommonHTML output with its TeX fonts).
ASSET_PATHS = (
    "reveal.js/dist", "reveal.js/plugin/notes", "jquery/dist/jquery.min.js", "requirejs/require.js",
    "mathjax/MathJax.js", "mathjax/config/TeX-AMS_CHTML-full.js", "mathjax/config/Safe.js", "mathjax/extensions",
    "mathjax/jax/input/TeX", "mathjax/jax/output/CommonHTML", "mathjax/jax/element", "mathjax/fonts/HTML-CSS/TeX/woff",
    "mathjax/localization/en",
)


def install_assets(build: Path, source: Path = VENDOR) -> Path:
    """Copy the scripts, styles and fonts the pages load from `source` into ``build/assets``; return that folder."""
    try:
        notebooks.check_assets(source)
    except FileNotFoundError as error:
        raise FileNotFoundError(str(error).replace("`assets`", "`source`", 1)) from None
    dest = Path(build) / "assets"
    for inside in ASSET_PATHS:
        origin, target = Path(source) / inside, dest / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True)
        elif origin.is_file():
            shutil.copy2(origin, target)
    return dest


def colab_url(path: Path, pyproject: Path | None = None) -> str | None:
    """Return the Colab URL of a committed notebook, the one its badge links to, or None without a GitHub URL."""
    from udl import template

    try:
        url = template.repository_url(pyproject)
    except RuntimeError:
        return None
    link = re.search(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)$", template.badge(Path(path).stem, url))
    return link[1] if url.startswith("https://github.com/") and link else None


def describe(nb) -> tuple[str, str]:
    """Return a notebook's title and its first sentence of description, from the header cell."""
    header = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    title = next((line.lstrip("# ").strip() for line in header.splitlines() if line.startswith("#")), "")
    prose = [b.strip() for b in re.split(r"\n\s*\n", header) if b.strip() and not b.lstrip().startswith(("#", "[!["))]
    first = re.split(r"(?<=[.!?])\s+", " ".join(prose[0].split()), maxsplit=1)[0] if prose else ""
    return title, first


def _metrics(entry: dict) -> str:
    metrics = entry.get("metrics", {}).items()
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics)


def _row(stem: str, nb, entry: dict, seconds, colab: str | None, build: Path) -> str:
    title, teaches = describe(nb)
    data = ", ".join(f"{name} ({source})" for name, source in entry.get("data", {}).items()) or "-"
    runtime = f"{seconds:.0f} s" if seconds is not None else "-"
    links = [(f"html/{stem}.html", "page"), (f"slides/{stem}.slides.html", "slides"),
             (f"student/{stem}.ipynb", "student edition")]
    cells = " · ".join(f'<a href="{href}">{text}</a>' for href, text in links if (build / href).is_file())
    if colab:
        cells += f' · <a href="{html.escape(colab)}" class="colab">Colab</a>'
    e = html.escape
    return (f"<tr><td><b>{e(title or stem)}</b><br><span class=teaches>{e(teaches)}</span></td><td>{e(data)}</td>"
            f"<td>{runtime}</td><td>{e(_metrics(entry)) or '-'}</td><td>{cells}</td></tr>")


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5em; vertical-align: top; text-align: left; }}
.teaches {{ color: #555; font-size: .9em; }}
</style></head>
<body><h1>{title}</h1>
<p>The course notebooks in order: each as a page with its figures, as slides to present (arrow keys; <kbd>s</kbd>
opens the speaker notes), as a student edition without the solutions, and on Colab. Data, runtime and metrics are
from the run that built this site ({profile} profile).</p>
<table><tr><th>notebook</th><th>data used</th><th>runtime</th><th>key metrics</th><th>open</th></tr>
{rows}
</table></body></html>
"""


def index(build: Path, paths: list[Path], entries: list[dict], title: str = "Unstructured Data Learning") -> Path:
    """Write ``build/index.html`` listing the executed notebooks `paths` (in ``build/notebooks``) in order."""
    import nbformat

    build = Path(build)
    by_name = {e["notebook"]: e for e in entries}
    rows, profiles = [], set()
    for path in sorted(Path(p) for p in paths):
        nb = nbformat.read(build / "notebooks" / path.name, as_version=4)
        run = nb.metadata.get("udl", {})
        entry = by_name.get(path.stem, {})
        profiles.add(run.get("profile") or entry.get("profile") or "?")
        seconds = run.get("seconds", entry.get("seconds_since_setup"))
        rows.append(_row(path.stem, nb, entry, seconds, colab_url(path), build))
    page = PAGE.format(title=html.escape(title), rows="\n".join(rows), profile="/".join(sorted(profiles)))
    dest = build / "index.html"
    dest.write_text(page, encoding="utf-8")
    return dest


def build_site(paths: list[Path], build: Path = Path("build"), source: Path = VENDOR) -> Path:
    """Write pages, slides, student editions and the index for the executed notebooks `paths`; return the index."""
    import nbformat

    from udl import results

    build = Path(build)
    assets = install_assets(build, source)
    for path in paths:
        executed = nbformat.read(build / "notebooks" / Path(path).name, as_version=4)
        notebooks.to_html(executed, build / "html" / f"{Path(path).stem}.html", assets, index="../index.html")
        notebooks.slides(executed, build / "slides" / f"{Path(path).stem}.slides.html", assets)
        (build / "student").mkdir(parents=True, exist_ok=True)
        student = notebooks.student_edition(nbformat.read(path, as_version=4), Path(path).name)
        nbformat.write(student, build / "student" / Path(path).name)
    return index(build, paths, results.read_all())
