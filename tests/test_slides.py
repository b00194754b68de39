"""Tests for udl.slides: what the class sees (no test markers, no remote images) and how cells become slides."""

import nbformat
import pytest

from udl import slides, template

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/o/r/blob/main/notebooks/99_x.ipynb)")


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def kinds(nb):
    return [(c.metadata["slideshow"]["slide_type"], c.source.splitlines()[0][:20]) for c in nb.cells]


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_clean_drops_markers_and_remote_images_without_touching_the_original():
    nb = notebook(md(f"# 99 · X\n\n{BADGE}\n\n![remote](https://example.org/a.png) and ![local](fig.png)"),
                  code("# NBVAL_CHECK_OUTPUT\nprint(1)"), code("x = 1  # NBVAL_CHECK_OUTPUT stays: not a marker line"))
    clean = slides.clean(nb)
    assert clean.cells[0].source == ("# 99 · X\n\n[Open In Colab](https://colab.research.google.com/github/o/r/blob/"
                                     "main/notebooks/99_x.ipynb)\n\nremote and ![local](fig.png)")
    assert clean.cells[1].source == "print(1)"
    assert clean.cells[2].source == nb.cells[2].source
    assert nb.cells[1].source.startswith("# NBVAL_CHECK_OUTPUT")


def test_headings_start_slides_and_sub_slides_and_code_after_an_explanation_is_a_fragment():
    nb = notebook(md("# Title\n\nOne line."), md("## Part"), md("Explain."), code("x = 1"), code("y = 2"),
                  md("### Detail"), code("z = 3"))
    assert kinds(slides.deck(nb)) == [("slide", "# Title"), ("slide", "## Part"), ("-", "Explain."),
                                      ("fragment", "x = 1"), ("-", "y = 2"), ("subslide", "### Detail"),
                                      ("-", "z = 3")]  # a bare heading explains nothing: no fragment


def groups(deck) -> list[int]:
    """The estimated height of each slide and sub-slide of a deck."""
    heights = []
    for cell in deck.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("slide", "subslide") or not heights:
            heights.append(0)
        heights[-1] += 0 if kind == "notes" else slides.height(cell)
    return heights


def test_a_slide_that_would_overflow_continues_on_sub_slides_that_fit():
    tall = "\n".join(f"row_{i} = {i}" for i in range(9))  # 9 lines: about 250 layout pixels
    deck = slides.deck(notebook(md("## Part"), *[code(tall) for _ in range(5)]))
    assert [k for k, _ in kinds(deck)].count("subslide") >= 2
    assert all(h <= slides.BUDGET for h in groups(deck)) and sum(groups(deck)) > 2 * slides.BUDGET


def test_markdown_taller_than_a_slide_is_split_at_list_items():
    items = "\n".join(f"- point {i}: " + "words " * 20 for i in range(14))
    deck = slides.deck(notebook(md(f"## Summary\n\n{items}\n\nA closing line.")))
    texts = [c.source for c in deck.cells]
    assert len(texts) >= 2 and texts[0].startswith("## Summary\n\n- point 0") and texts[-1].endswith("A closing line.")
    assert [k for k, _ in kinds(deck)][1:] == ["subslide"] * (len(texts) - 1)
    assert "\n".join(texts).count("- point") == 14 and "\n\n- point 1:" not in texts[0]  # items stay one tight list
    assert all(h <= slides.BUDGET for h in groups(deck))
    assert len({c.id for c in deck.cells}) == len(deck.cells)


def test_consecutive_stdout_is_one_output_and_all_outputs_are_capped_together():
    epochs = [stream(f"Epoch {i}/8\n") for i in range(8)]
    deck = slides.deck(notebook(md("# T"), code("fit()", outputs=epochs)))
    assert [o.text for o in deck.cells[1].outputs] == ["".join(f"Epoch {i}/8\n" for i in range(8))]
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                                    metadata={"image/png": {"width": 600, "height": 400}})
    many = code("plot()", outputs=[figure] * 4)
    assert slides.height(many) == slides.height(code("plot()")) + slides.OUTPUTS_MAX


def test_long_prose_goes_to_the_notes_and_keeps_its_first_sentence():
    prose = "First sentence stays on the slide. " + " ".join(["Then many more words follow here."] * 10)
    nb = notebook(md(f"## Part\n\n{prose}\n\n- a list stays\n- as it is"), md("Short text stays."))
    deck = slides.deck(nb)
    assert [k for k, _ in kinds(deck)] == ["slide", "notes", "-"]
    assert deck.cells[0].source == "## Part\n\nFirst sentence stays on the slide.\n\n- a list stays\n- as it is"
    assert deck.cells[1].source.startswith("Then many more words") and len(deck.cells[1].source.split()) == 60
    assert len({c.id for c in deck.cells}) == 3  # the notes cell has an id of its own


def test_notes_solutions_install_cells_and_stderr():
    notes, solution = md("Say this aloud."), code("print('answer')")
    notes.metadata["tags"], solution.metadata["tags"] = ["notes"], ["solution"]
    install = code(template.install_cell("https://github.com/udl-course/udl"))
    noisy = code("print(1)", outputs=[stream("1\n"), nbformat.v4.new_output("stream", name="stderr", text="warn\n")])
    deck = slides.deck(notebook(md("# T"), install, noisy, notes, md("## Exercise"), solution))
    assert kinds(deck) == [("slide", "# T"), ("-", "print(1)"), ("notes", "Say this aloud."), ("slide", "## Exercise")]
    assert [o.name for o in deck.cells[1].outputs] == ["stdout"]


def test_exercise_answers_tests_and_markers_are_left_out_and_the_prompt_stays():
    raw = nbformat.v4.new_raw_cell
    exercise = [md("## Exercises"), raw("# BEGIN QUESTION\nname: q1"), md("**1. Size.** How wide?"),
                raw("# BEGIN SOLUTION"), code("w = 28  # SOLUTION"), raw("# END SOLUTION"), raw("# BEGIN TESTS"),
                code('""" # BEGIN TEST CONFIG\nfailure_message: hint\n""" # END TEST CONFIG\nassert w == 28'),
                raw("# END TESTS"), raw("# END QUESTION")]
    deck = slides.deck(notebook(md("# T"), *exercise))
    assert kinds(deck) == [("slide", "# T"), ("slide", "## Exercises"), ("-", "**1. Size.** How wid")]
    page = slides.without_answers(notebook(md("# T"), *exercise))
    assert [c.source for c in page.cells] == ["# T", "## Exercises", "**1. Size.** How wide?"]


@pytest.mark.parametrize("lines, at_least, at_most", [(1, 40, 120), (10, 250, 400), (200, slides.CODE_MAX, 400)])
def test_code_height_grows_with_lines_up_to_the_css_cap(lines, at_least, at_most):
    assert at_least <= slides.height(code("\n".join(["x = 1"] * lines))) <= at_most


def test_output_height_counts_text_lines_and_scales_figures_to_the_slide():
    few, many = code("p()", outputs=[stream("a\n" * 3)]), code("p()", outputs=[stream("a\n" * 500)])
    assert slides.height(few) < slides.height(many) <= slides.CODE_MAX + slides.OUTPUT_MAX + 100
    def figure(width, height):
        return code("f()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
            metadata={"image/png": {"width": width, "height": height}})])

    bare = slides.height(code("f()"))
    assert slides.height(figure(1800, 700)) - bare == 700 * slides.WIDTH / 1800 + 10  # scaled to the slide's width
    assert slides.height(figure(600, 2000)) - bare == slides.IMAGE_MAX + 10  # capped, as SLIDE_CSS caps it
    table = nbformat.v4.new_output("execute_result", data={"text/html": "<table></table>", "text/plain": "df"},
                                   execution_count=1)
    assert slides.height(code("f()", outputs=[table])) - bare == slides.OUTPUT_MAX + 10  # HTML: assume the cap
    assert "jp-RenderedHTMLCommon.jp-OutputArea-output" in slides.SLIDE_CSS
