"""Lay an executed notebook out as a lecture deck that fits a 16:9 screen, and hide what only tests need.

- `clean` removes the ``# NBVAL_CHECK_OUTPUT`` markers and turns remote images (the Colab badge) into plain
  links, for every page a class sees: slides, HTML pages, the student edition.
- `deck` marks cells for reveal.js: a ``#``/``##`` heading starts a slide, ``###`` a sub-slide, a slide that
  would not fit in 1280×720 continues on a sub-slide, code after an explanation appears as a fragment, long
  prose goes to the speaker notes (its first sentence stays), cells tagged ``notes`` are notes; the Colab
  install cell and, as on every page, the exercises' answers and tests are left out (`without_answers`).

Heights are estimated in reveal.js's layout pixels (a 960×700 slide); `SLIDE_CSS` caps every code box,
output and figure so that no single cell can exceed a slide, and the browser test measures the real thing.
"""

from __future__ import annotations

import base64
import copy
import re
import struct
import uuid

from udl import exercises

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
SOLUTION_TAG = "solution"
INSTALL_MARK = "# On Colab, install the course package"  # the first line of the install cell (udl.template)
NOTES_TAG = "notes"
PROSE_WORDS = 45          # a paragraph longer than this goes to the speaker notes, all but its first sentence
BUDGET = 600              # layout pixels of a 700-pixel slide that cells may fill (the rest: margins, controls)
TAIL = 660                # ... and a short remark after a cell's output may still join it
WIDTH = 900               # layout pixels a cell may use
# Caps in SLIDE_CSS (layout pixels): a code box, one text output, one figure, all of a cell's outputs together.
# Taller content scrolls inside its box, so that no cell is taller than a slide.
CODE_MAX, OUTPUT_MAX, IMAGE_MAX, OUTPUTS_MAX = 260, 240, 360, 380

SLIDE_CSS = f"""
.reveal .slides {{ text-align: left; }}
.reveal .jp-InputArea, .reveal .jp-InputArea-editor {{ display: block; }}
.reveal .jp-InputArea-editor {{ max-height: {CODE_MAX}px; overflow-y: auto; }}
.reveal .jp-OutputArea-output pre, .reveal .jp-RenderedHTMLCommon.jp-OutputArea-output {{
  max-height: {OUTPUT_MAX}px; overflow-y: auto; }}
.reveal .jp-OutputArea-output img {{ max-height: {IMAGE_MAX}px; width: auto; max-width: 100%; }}
.reveal .jp-Cell-outputWrapper {{ max-height: {OUTPUTS_MAX}px; overflow-y: auto; }}
.reveal .jp-RenderedHTMLCommon.jp-OutputArea-output pre {{ font-size: 14px; }}
.reveal section img {{ margin: 0; }}
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt {{ display: none; }}
"""

_REMOTE_IMAGE_LINK = re.compile(r"\[!\[([^\]]*)\]\((?:https?:)?//[^)]*\)\]\(([^)]*)\)")
_REMOTE_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:https?:)?//[^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z*`(\[])")


def is_install_cell(cell) -> bool:
    """Return True for the Colab install cell that `udl notebooks colab` writes (it starts with INSTALL_MARK)."""
    return cell.cell_type == "code" and cell.source.startswith(INSTALL_MARK)


def clean(nb):
    """Return a copy of `nb` without test markers, with remote images replaced by text links."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK):
            cell.source = cell.source.lstrip()[len(CHECK_MARK):].lstrip("\n")
        elif cell.cell_type == "markdown":
            cell.source = _REMOTE_IMAGE.sub(r"\1", _REMOTE_IMAGE_LINK.sub(r"[\1](\2)", cell.source))
    return nb


def without_answers(nb):
    """Return `clean(nb)` without what a class must not see: raw cells (otter's markers), the solution and test
    cells of the exercises (`udl.exercises`) and the cells tagged ``solution``; the prompts stay."""
    hidden = exercises.answer_cells(nb)
    nb = clean(nb)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in hidden]
    return nb


def _lines(text: str, chars: int) -> int:
    return sum(max(1, -(-len(line) // chars)) for line in text.splitlines() or [""])


def _png_size(data: str) -> tuple[int, int] | None:
    raw = base64.b64decode(data[:32])  # the signature and the IHDR chunk's width and height
    if raw[:8] != b"\x89PNG\r\n\x1a\n" or len(raw) < 24:
        return None
    return struct.unpack(">II", raw[16:24])


def _output_height(output) -> int:
    if output.output_type == "stream":
        return min(OUTPUT_MAX, 24 * _lines(output.text, 80)) + 10
    data = output.get("data", {})
    if "image/png" in data:
        meta = output.get("metadata", {}).get("image/png", {})
        if "width" in meta and "height" in meta:  # IPython's retina figures say their display size here
            width, height = meta["width"], meta["height"]
        else:
            width, height = _png_size(data["image/png"]) or (640, 480)
        return min(IMAGE_MAX, height * min(1.0, WIDTH / width)) + 10
    if output.output_type == "error" or "text/html" in data:  # tables and tracebacks: assume the cap
        return OUTPUT_MAX + 10
    text = data.get("text/plain", "")
    return min(OUTPUT_MAX, 24 * _lines(text, 80)) + 10 if text else 0


def _markdown_height(text: str) -> int:
    height = 0
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.startswith("#"):
            height += {1: 90, 2: 80}.get(len(block) - len(block.lstrip("#")), 60)
            continue
        images = re.findall(r"!\[[^\]]*\]\([^)]*\)", block)
        height += 280 * len(images) + 28 * _lines(_REMOTE_IMAGE.sub("", block), 75) + 30
    return height


def height(cell) -> int:
    """Estimate how tall `cell` is on a slide, in layout pixels."""
    if cell.cell_type == "markdown":
        return _markdown_height(cell.source)
    if cell.cell_type != "code":
        return 30 * _lines(cell.source, 75)
    code = min(CODE_MAX, 25 * _lines(cell.source, 78)) + 24
    return code + min(OUTPUTS_MAX, sum(_output_height(o) for o in cell.get("outputs", [])))


def _split_prose(text: str) -> tuple[str, str]:
    """Return (what stays on the slide, what goes to the notes) for one markdown cell."""
    shown, notes = [], []
    for block in re.split(r"\n\s*\n", text.strip()):
        plain = not block.lstrip().startswith(("#", "-", "*", "|", "$$", "```", ">", "<", "!")) \
            and not re.match(r"\s*\d+\.\s", block)
        if plain and len(block.split()) > PROSE_WORDS:
            first, *rest = _SENTENCE_END.split(block.strip(), maxsplit=1)
            shown.append(first)
            notes.extend(rest)
        else:
            shown.append(block)
    return "\n\n".join(shown), "\n\n".join(notes)


_LIST_ITEM = re.compile(r"\s*([-*]|\d+\.)\s")


def _chunks(text: str) -> list[str]:
    """Split markdown taller than a slide at paragraphs and list items into pieces that fit one each."""
    chunks, current, last_item = [], "", False
    for block in re.split(r"\n\s*\n", text.strip()):
        units = re.split(r"\n(?=(?:[-*]|\d+\.)\s)", block) if _LIST_ITEM.match(block) else [block]
        for unit in units:
            item = bool(_LIST_ITEM.match(unit))
            joined = current + ("\n" if item and last_item else "\n\n") + unit if current else unit
            shown = any(line.strip() and not line.startswith("#") for line in current.splitlines())
            if shown and _markdown_height(joined) > BUDGET:
                chunks.append(current)
                joined = unit
            current, last_item = joined, item
    return chunks + [current]


def _coalesce(outputs) -> list:
    """Drop stderr and join consecutive stdout outputs (Keras prints each epoch's line as one)."""
    merged = []
    for output in outputs:
        if output.output_type == "stream" and output.name == "stderr":
            continue
        if output.output_type == "stream" and merged and merged[-1].output_type == "stream":
            merged[-1].text += output.text
        else:
            merged.append(output)
    return merged


def _pieces(cell):
    """Yield (cell, speaker notes) for one notebook cell: markdown split to fit, code with its outputs tidied."""
    if cell.cell_type == "code":
        cell.outputs = _coalesce(cell.outputs)
        yield cell, ""
        return
    if cell.cell_type != "markdown":
        yield cell, ""
        return
    shown, notes = _split_prose(cell.source)
    for number, chunk in enumerate(_chunks(shown)):
        yield _new_cell(cell, chunk, "-", new_id=number > 0), notes if number == 0 else ""


def _new_cell(cell, source: str, slide_type: str, new_id: bool = False):
    cell = copy.deepcopy(cell)
    cell.source = source
    if new_id:
        cell.id = uuid.uuid4().hex[:8]
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    return cell


def _room(cell, previous: str | None, size: int) -> int:
    remark = cell.cell_type == "markdown" and previous == "code" and size <= 120  # e.g. "the lecture's answer"
    return TAIL if remark else BUDGET


def deck(nb):
    """Return a copy of `nb` with reveal.js slide types set so that each slide fits a 1280×720 screen."""
    nb = without_answers(nb)
    cells, filled, previous = [], 0, None
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags or is_install_cell(cell) or not cell.source.strip():
            continue
        if NOTES_TAG in tags:
            cells.append(_new_cell(cell, cell.source, "notes"))
            continue
        for piece, notes in _pieces(cell):
            text, size = piece.source.lstrip(), height(piece)
            if piece.cell_type == "markdown" and text.startswith(("# ", "## ")):
                kind, filled = "slide", 0
            elif piece.cell_type == "markdown" and text.startswith("### ") or \
                    filled + size > _room(piece, previous, size):
                kind, filled = ("subslide", 0) if filled else ("-", filled)
            elif piece.cell_type == "code" and previous == "explanation":
                kind = "fragment"
            else:
                kind = "-"
            filled += size
            explains = piece.cell_type == "markdown" and any(not line.startswith("#") and line.strip()
                                                             for line in piece.source.splitlines())
            previous = "explanation" if explains else piece.cell_type
            cells.append(_new_cell(piece, piece.source, kind))
            if notes:
                cells.append(_new_cell(piece, notes, "notes", new_id=True))
    nb.cells = cells
    return nb
