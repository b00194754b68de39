"""Tests for udl.notebooks on a tiny notebook: execute, strip, refresh, student edition, slides, and errors."""

import os
import subprocess
import sys
import time

import nbformat
import pytest

from udl import notebooks

CHECKED = "# NBVAL_CHECK_OUTPUT\nimport sys\nprint('per example:', (28, 28), 'uint8')\nprint('noise', file=sys.stderr)"
ORDINARY = "import os, sys\nprint(sys.executable)\nprint(os.getcwd())\nprint(os.environ.get('UDL_PROFILE'))"
SOLUTION = "print('the solution')"


def write_notebook(path, *sources, solution=True):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Tiny\nOne sentence."),
                *(nbformat.v4.new_code_cell(s) for s in sources),
                nbformat.v4.new_markdown_cell("## Exercise 1\nPrint the solution.")]
    if solution:
        cell = nbformat.v4.new_code_cell(SOLUTION)
        cell.metadata["tags"] = ["solution"]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The tiny notebook, executed once for the module (a kernel start is the slow part)."""
    folder = tmp_path_factory.mktemp("nb")
    path = write_notebook(folder / "99_tiny.ipynb", CHECKED, ORDINARY)
    nb, seconds, error = notebooks.execute(path, cell_timeout=60)
    return path, nb, seconds, error


def test_execute_runs_every_cell_in_this_environment_and_the_notebook_folder(executed):
    path, nb, seconds, error = executed
    assert error is None and 0 < seconds < 120
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert stdout(code[0]) == "per example: (28, 28) uint8\n"
    assert any(o.output_type == "stream" and o.name == "stderr" for o in code[0].outputs)
    executable, cwd = stdout(code[1]).splitlines()[:2]
    assert executable == sys.executable  # the venv's Python, whatever kernels are installed
    assert os.path.samefile(cwd, path.parent)
    assert stdout(code[2]) == "the solution\n"


def test_execute_shuts_its_kernel_down(tmp_path):
    # Left running, every executed notebook's kernel would keep its models and data in memory until exit.
    nb, _, error = notebooks.execute(write_notebook(tmp_path / "99_pid.ipynb", "import os\nprint(os.getpid())",
                                                    solution=False), cell_timeout=60)
    pid = int(stdout(nb.cells[1]))
    assert error is None and pid != os.getpid()
    for _ in range(50):  # shutdown_kernel(now=True) kills it; give the OS a moment to reap it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the kernel (pid {pid}) is still running after execute returned")


def test_execute_prints_no_kernel_transport_warning(tmp_path):
    # Over TCP, ipykernel printed a four-line "running over TCP without encryption" warning for every notebook,
    # burying make run's progress lines; over IPC it has no cause to.
    path = write_notebook(tmp_path / "99_quiet.ipynb", "print('hello')", solution=False)
    script = f"from udl import notebooks; print(notebooks.execute({str(path)!r}, cell_timeout=60)[2])"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr
    assert "without encryption" not in done.stderr and "TCP" not in done.stderr


def test_strip_keeps_only_the_checked_cells_stdout(executed):
    _, nb, _, _ = executed
    stripped = notebooks.strip(nbformat.from_dict(nb))
    code = [c for c in stripped.cells if c.cell_type == "code"]
    assert [(o.output_type, o.name) for o in code[0].outputs] == [("stream", "stdout")]
    assert stdout(code[0]) == "per example: (28, 28) uint8\n"
    assert code[0].execution_count == 1
    assert [c.outputs for c in code[1:]] == [[], []] and [c.execution_count for c in code[1:]] == [None, None]
    assert all("execution" not in c.metadata for c in stripped.cells)
    nbformat.validate(stripped)


def test_student_edition_drops_solutions_and_outputs_without_touching_the_original(executed):
    _, nb, _, _ = executed
    student = notebooks.student_edition(nb, "99_tiny.ipynb")
    # The test marker is dropped: students see the code, not what the test suite compares.
    assert [c.source for c in student.cells if c.cell_type == "code"] == [CHECKED.split("\n", 1)[1], ORDINARY]
    assert [c.cell_type for c in student.cells] == ["markdown", "code", "code", "markdown"]
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert SOLUTION in [c.source for c in nb.cells] and nb.cells[1].outputs  # the original is unchanged
    nbformat.validate(student)


def test_slides_and_html_are_written_without_markers_prompts_or_stderr(executed, tmp_path):
    _, nb, _, _ = executed
    dest = notebooks.slides(nb, tmp_path / "out" / "99_tiny.slides.html")
    html = dest.read_text(encoding="utf-8")
    assert dest == tmp_path / "out" / "99_tiny.slides.html" and "reveal" in html.lower() and "99 · Tiny" in html
    assert "per example: (28, 28) uint8" in html and ">noise" not in html  # outputs kept, stderr left out
    assert "NBVAL_CHECK_OUTPUT" not in html and "In&nbsp;[" not in html and "In [" not in html
    assert html.count("the solution") == 1  # only the exercise's text: the solution cell stays off the slides
    assert html.count("<section>") == 2 * 2  # two headings, two slides (each an outer and an inner section)
    assert "slideshow" not in nb.cells[0].metadata and nb.cells[1].outputs[-1].name == "stderr"  # works on a copy
    page = notebooks.to_html(nb, tmp_path / "html" / "99_tiny.html").read_text(encoding="utf-8")
    assert "per example: (28, 28) uint8" in page
    assert "NBVAL_CHECK_OUTPUT" not in page and "In&nbsp;[" not in page and "mermaid" not in page.lower()


def test_slides_put_level_three_headings_on_sub_slides(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) for text in
                ("# Title", "## Section", "Text under the section.", "### Detail", "Text under the detail.")]
    html = notebooks.slides(nb, tmp_path / "s.html").read_text(encoding="utf-8")
    # Slides: Title, Section; Section has a sub-slide, Detail: 2 slides x (outer + inner) + 1 more inner.
    assert html.count("<section>") == 5
    assert html.index("Text under the section.") < html.index("Detail") < html.index("Text under the detail.")


def test_refresh_runs_quick_and_writes_back_only_the_checked_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("UDL_PROFILE", "full")
    path = write_notebook(tmp_path / "99_tiny.ipynb",
                          "# NBVAL_CHECK_OUTPUT\nimport os\nprint(os.environ['UDL_PROFILE'])", ORDINARY)
    seconds = notebooks.refresh(path)
    assert seconds > 0 and os.environ["UDL_PROFILE"] == "full"  # the environment is restored afterwards
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert stdout(code[0]) == "quick\n"
    assert [c.outputs for c in code[1:]] == [[], []]


def test_a_failing_notebook_is_reported_not_swallowed(tmp_path, capsys):
    failing = "print('before')\nraise RuntimeError('boom 4711')"
    path = write_notebook(tmp_path / "98_failing.ipynb", CHECKED, failing, "print('never runs')", solution=False)
    original = path.read_bytes()
    seconds, errors = notebooks.run([path], build=tmp_path / "build", cell_timeout=60)
    assert list(errors) == ["98_failing"] and "RuntimeError: boom 4711" in errors["98_failing"]
    assert errors["98_failing"] == "FAILED: RuntimeError: boom 4711"  # plain text, no terminal colours
    assert "FAILED in" in capsys.readouterr().out
    executed = nbformat.read(tmp_path / "build" / "notebooks" / "98_failing.ipynb", as_version=4)
    assert [c.execution_count for c in executed.cells if c.cell_type == "code"] == [1, 2, None]
    assert (tmp_path / "build" / "html" / "98_failing.html").exists()  # the failure can be read in the HTML

    with pytest.raises(RuntimeError, match="98_failing.ipynb failed, so it was not rewritten: .*boom 4711"):
        notebooks.refresh(path)
    assert path.read_bytes() == original


def test_execute_refuses_what_is_not_a_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="`path` must be an existing .ipynb file"):
        notebooks.execute(tmp_path / "missing.ipynb")
    (tmp_path / "notes.txt").write_text("{}")
    with pytest.raises(FileNotFoundError, match="notes.txt"):
        notebooks.execute(tmp_path / "notes.txt")
