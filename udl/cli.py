"""The ``udl`` command: datasets, notebooks and results from the shell.

    udl data list                      where each dataset would come from right now
    udl data fetch NAME... | --all     fill the cache ahead of a class (needs a network)
    udl data verify [NAME...]          check cached datasets against the hashes recorded at fetch time
    udl notebooks run [NB...]          execute notebooks into build/ (HTML too) and print the results table
    udl notebooks refresh NB...        re-run in the quick profile and keep only the outputs nbval checks
    udl notebooks student [NB...]      write build/student/: the otter-grader student editions
    udl notebooks slides [NB...]       write reveal.js slides of the executed notebooks to build/slides/
    udl notebooks site [NB...]         write the course site (index, pages, slides, student editions) into build/
    udl notebooks lint [NB...]         check notebooks against the template in CONTRIBUTING.md
    udl notebooks colab [NB...]        (re)write each notebook's Colab badge and install cell
    udl notebooks estimate [--results DIR]  uncapped CPU time per notebook, from a capped run (make smoke-full)
    udl results                        print the table of recorded metrics

Errors are one line on stderr: exit code 2 for a wrong command line or setting, 1 for a failure;
``udl --debug ...`` shows the traceback too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from udl import data, download, estimate, formats, notebooks, results, template
from udl.settings import SettingError

NOTEBOOKS = Path("notebooks")


class UsageError(Exception):
    """The command line asks for something that cannot be done as given (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of the usage block
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of seconds; received: {text!r}")
    return int(text)


def _notebook_paths(given: list[str]) -> list[Path]:
    paths = [Path(p) for p in given] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SystemExit(f"udl: no notebooks given and none found in {NOTEBOOKS.resolve()}")
    for path in paths:
        if not path.is_file():
            raise UsageError(f"no such notebook: {path}")
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path} is not a readable notebook ({type(exc).__name__}: {exc})") from None
    return paths


def cmd_data_list(args) -> int:
    print(f"lookup order: {data.policy()}\n")
    rows = [("dataset", "would come from", "where", "quick subset")]
    for name in data.names():
        tier, _, detail = next(t for t in data.locate(name) if t[1])
        quick = data.spec(name).quick
        rows.append((name, tier, detail, f"{quick[0]:,} chars" if not quick[1] else f"{quick[0]:,} / {quick[1]:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
    return 0


def cmd_data_fetch(args) -> int:
    chosen = data.names() if args.all else args.names
    if not chosen:
        raise SystemExit("udl data fetch: name at least one dataset, or --all; known: " + ", ".join(data.names()))
    failed = 0
    for name in chosen:
        try:
            print(f"{name}: cached at {data.fill_cache(name, force=args.force)}")
        except (download.DownloadError, download.UnsafeArchiveError, formats.MirrorFormatError) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def cmd_data_verify(args) -> int:
    verdicts = [data.verify(name) for name in (args.names or data.names())]
    print("\n".join(verdicts))
    return 1 if any("CORRUPTED" in v for v in verdicts) else 0


def cmd_notebooks_run(args) -> int:
    seconds, errors = notebooks.run(_notebook_paths(args.notebooks), Path(args.build), args.cell_timeout)
    print("\n" + results.table(results.read_all(), seconds, errors))
    print(f"\nexecuted notebooks and HTML are in {Path(args.build).resolve()}/")
    return 1 if errors else 0


def cmd_notebooks_refresh(args) -> int:
    for path in _notebook_paths(args.notebooks):
        print(f"{path}: refreshed in {notebooks.refresh(path, args.data_dir):.0f} s")
    return 0


def _write_each(args, folder: str, make) -> int:
    import nbformat

    for path in _notebook_paths(args.notebooks):
        dest = make(nbformat.read(path, as_version=4), Path(args.build) / folder, path)
        print(dest)
    return 0


def cmd_notebooks_student(args) -> int:
    import nbformat

    checks = []

    def make(nb, folder, path):
        folder.mkdir(parents=True, exist_ok=True)
        student = notebooks.student_edition(nb, path.name)
        checks.append(notebooks.check_cells(student))
        nbformat.write(student, folder / path.name)
        return folder / path.name
    _write_each(args, "student", make)
    print(f"{sum(checks)} check cells in {len(checks)} student editions")
    return 0


def _executed(path: Path, build: Path):
    """The executed copy of `path` in build/notebooks, executing the notebook first if that copy is missing or stale."""
    import nbformat

    done = build / "notebooks" / path.name
    if not done.is_file() or done.stat().st_mtime < path.stat().st_mtime:
        print(f"{path}: no executed copy newer than it in {done.parent}/, so executing it first", flush=True)
        _, errors = notebooks.run([path], build)
        if errors:
            raise SystemExit(f"udl: no slides for {path}: it failed to run ({errors[path.stem]})")
    return nbformat.read(done, as_version=4)


def _assets(args) -> Path:
    """Copy the pages' scripts into build/assets (from --assets or vendor/node_modules) before executing anything."""
    from udl import site

    try:
        return site.install_assets(Path(args.build), args.assets or site.VENDOR)
    except FileNotFoundError as error:
        raise SystemExit(f"udl: {error}") from None


def cmd_notebooks_slides(args) -> int:
    # Committed notebooks keep almost no outputs, so slides are made from executed copies: figures included.
    build, paths, assets = Path(args.build), _notebook_paths(args.notebooks), _assets(args)
    for path in paths:
        print(notebooks.slides(_executed(path, build), build / "slides" / f"{path.stem}.slides.html", assets))
    return 0


def cmd_notebooks_site(args) -> int:
    from udl import site

    build, paths = Path(args.build), _notebook_paths(args.notebooks)
    _assets(args)
    for path in paths:
        _executed(path, build)
    print(f"site: {site.build_site(paths, build, args.assets or site.VENDOR).resolve().as_uri()}")
    return 0


def cmd_notebooks_lint(args) -> int:
    problems = [p for path in _notebook_paths(args.notebooks) for p in template.lint(path)]
    print("\n".join(map(str, problems)) or "every notebook follows the template")
    return 1 if problems else 0


def cmd_notebooks_colab(args) -> int:
    for path in _notebook_paths(args.notebooks):
        print(f"{path}: {'updated' if template.colab(path) else 'already up to date'}")
    return 0


def cmd_notebooks_estimate(args) -> int:
    folder = Path(args.results) if args.results else results.results_dir()
    entries = estimate.read(folder) if folder.is_dir() else []
    if not entries:
        raise UsageError(f"no results of a capped run in {folder}: run `make smoke-full` (or any run with "
                         f"UDL_MAX_STEPS set) first, or pass --results with its folder")
    print(estimate.table(entries))
    return 0


def cmd_results(args) -> int:
    print(results.table(results.read_all()))
    return 0


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="udl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--debug", action="store_true", help="show the traceback of an error")
    groups = top.add_subparsers(dest="group", required=True)

    dat = groups.add_parser("data", help="datasets").add_subparsers(dest="command", required=True)
    dat.add_parser("list", help="where each dataset would come from").set_defaults(func=cmd_data_list)
    fetch = dat.add_parser("fetch", help="download into the cache")
    fetch.add_argument("names", nargs="*", metavar="NAME")
    fetch.add_argument("--all", action="store_true", help="every dataset")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    fetch.set_defaults(func=cmd_data_fetch)
    verify = dat.add_parser("verify", help="check cached datasets")
    verify.add_argument("names", nargs="*", metavar="NAME")
    verify.set_defaults(func=cmd_data_verify)

    nbs = groups.add_parser("notebooks", help="execute and render notebooks").add_subparsers(dest="command", required=True)
    for name, func, text in (("run", cmd_notebooks_run, "execute into build/ and print the results table"),
                             ("refresh", cmd_notebooks_refresh, "re-run quick and keep only checked outputs"),
                             ("student", cmd_notebooks_student, "otter-grader student editions: no solutions, check cells"),
                             ("slides", cmd_notebooks_slides, "reveal.js slides"),
                             ("site", cmd_notebooks_site, "the course site in build/"),
                             ("lint", cmd_notebooks_lint, "check notebooks against the template"),
                             ("colab", cmd_notebooks_colab, "write the Colab badge and install cell")):
        sub = nbs.add_parser(name, help=text)
        sub.add_argument("notebooks", nargs="*", metavar="NB")
        sub.add_argument("--build", default="build", help="output folder (default: build)")
        sub.set_defaults(func=func)
        if name == "run":
            sub.add_argument("--cell-timeout", type=_positive_int, default=None,
                             help="seconds per cell (default: none)")
        if name in ("slides", "site"):
            sub.add_argument("--assets", default=None, type=Path, metavar="DIR",
                             help="copy reveal.js, jQuery, RequireJS and MathJax from DIR (laid out as npm installs "
                                  f"them; default vendor/node_modules, filled by {notebooks.ASSETS_NPM})")
        if name == "refresh":
            sub.add_argument("--data-dir", default=None, help="mirror to use (default: $UDL_DATA_DIR)")

    guess = nbs.add_parser("estimate", help="uncapped CPU time per notebook, from a capped run's step times")
    guess.add_argument("--results", default=None, metavar="DIR",
                       help="results folder of a run with UDL_MAX_STEPS (default: $UDL_RESULTS_DIR or build/results; "
                            "make smoke-full writes build/smoke-full/results)")
    guess.set_defaults(func=cmd_notebooks_estimate)

    groups.add_parser("results", help="print recorded metrics").set_defaults(func=cmd_results)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    unknown = [n for n in getattr(args, "names", None) or [] if n not in data.names()]
    if unknown:
        top.error(f"unknown dataset {unknown[0]!r}; known: {', '.join(data.names())}")
    if getattr(args, "build", None) and Path(args.build).exists() and not Path(args.build).is_dir():
        top.error(f"--build must be a folder; {args.build} is a file")
    try:
        return args.func(args)
    except Exception as exc:  # one line, not a traceback: the message names the file or setting at fault
        if args.debug:
            raise
        print(f"udl: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 2 if isinstance(exc, (UsageError, SettingError)) else 1


if __name__ == "__main__":
    sys.exit(main())
