"""Tests for udl.text: the vectoriser and its table, sequences cut at either end, the report, embeddings."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from udl import text  # noqa: E402

TEXTS = ["a good film, a good cast", "a bad film", "good", "the end of a very long bad review"]


@pytest.fixture(scope="module")
def vectorizer():
    return text.vectorizer(TEXTS, max_tokens=20)


def test_vectorizer_and_its_table(vectorizer):
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", "a", "good"]  # padding, unknown, then by frequency
    table = text.vocabulary_table(vectorizer, 4).splitlines()
    assert table[0] == "index  word" and table[1] == "     0  ''  (padding)" and "(out of vocabulary)" in table[2]
    assert table[3] == "     2  'a'" and table[-1] == f"... {len(vocabulary)} entries in all"
    small = text.vectorizer(TEXTS, max_tokens=4)
    assert small.get_vocabulary() == ["", "[UNK]", "a", "good"]
    assert text.sequences(small, ["a bad film"], 3).tolist() == [[2, 1, 1]]  # rare words become [UNK]


def test_markup_is_stripped_before_counting_words():
    """IMDB's reviews hold <br /> tags: they must not become the words "br" or "filmbr" (issue 20)."""
    review = "A great film.<br /><br />I loved it, <i>truly</i> &amp; deeply."
    v = text.vectorizer([review, "another great film"], max_tokens=30)
    vocabulary = v.get_vocabulary()
    assert "br" not in vocabulary and "filmbr" not in vocabulary and "amp" not in vocabulary
    assert {"film", "i", "truly", "deeply", "great"} <= set(vocabulary)
    words = [vocabulary[i] for i in text.sequences(v, [review], 20, keep="start")[0] if i]
    assert words == ["a", "great", "film", "i", "loved", "it", "truly", "deeply"]
    assert text.standardize(tf.constant(["Don't <b>STOP</b>!"])).numpy()[0].split() == [b"dont", b"stop"]
    assert text.strip_markup("Great.<br /><br />Loved it &amp; more").split() == ["great.", "loved", "it", "more"]


def test_sequences_keep_the_end_or_the_start_and_pad_after(vectorizer):
    index = {w: i for i, w in enumerate(vectorizer.get_vocabulary())}
    end = text.sequences(vectorizer, ["a good film, a good cast", "good"], 3, keep="end")
    start = text.sequences(vectorizer, ["a good film, a good cast", "good"], 3, keep="start")
    assert end.dtype == np.int32 and end.shape == (2, 3)
    assert end[0].tolist() == [index["a"], index["good"], index["cast"]]
    assert start[0].tolist() == [index["a"], index["good"], index["film"]]
    assert end[1].tolist() == start[1].tolist() == [index["good"], 0, 0]  # padding after: right-padded masks
    assert text.lengths(vectorizer, TEXTS).tolist() == [6, 3, 1, 8]
    assert text.lengths(vectorizer, ["!!!"]).tolist() == [0]


def test_padding_report_counts_what_is_cut_and_padded():
    report = text.padding_report(np.array([10, 2, 4, 0]), 4, keep="end")
    assert report.truncated == 0.25 and report.tokens_cut == pytest.approx(6 / 16)
    assert report.padding == pytest.approx(1 - 10 / 16) and report.median_tokens == 3 and report.longest == 10
    assert "25% of the texts lose their start" in str(report) and "38% of all tokens are cut" in str(report)
    assert "lose their end" in str(text.padding_report([5], 2, keep="start"))


def test_nearest_by_cosine_similarity():
    vocabulary = ["", "[UNK]", "good", "great", "bad", "awful"]
    vectors = np.array([[9, 9], [1, 1], [1, 0], [0.9, 0.1], [-1, 0], [-1, -0.2]], dtype=np.float32)
    assert [w for w, _ in text.nearest(vectors, vocabulary, "good", k=2)] == ["great", "[UNK]"]
    best = text.nearest(vectors, vocabulary, "bad", k=1)
    assert best[0][0] == "awful" and 0.98 < best[0][1] <= 1
    unused = np.concatenate([vectors, np.ones((3, 2), np.float32)])  # an Embedding sized for more words
    assert text.nearest(unused, vocabulary, "good", k=2) == text.nearest(vectors, vocabulary, "good", k=2)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot_embeddings_labels_the_words(method):
    rng = np.random.default_rng(0)
    vocabulary = ["", "[UNK]"] + [f"w{i}" for i in range(40)]
    vectors = rng.normal(size=(42, 8)).astype(np.float32)
    fig, ax = plt.subplots()
    assert text.plot_embeddings(vectors, vocabulary, ["w1", "w30"], method=method, ax=ax) is ax
    assert [t.get_text() for t in ax.texts] == ["w1", "w30"] and ax.get_xlabel() == f"{method.upper()} 1"
    assert ax.get_title().startswith("Word embeddings projected")
    plt.close(fig)


@pytest.mark.parametrize("call, error, message", [
    (lambda v: text.vectorizer("one string"), TypeError, "`texts` must be a non-empty list of strings"),
    (lambda v: text.vectorizer([]), TypeError, "`texts` must be"),
    (lambda v: text.strip_markup(None), TypeError, "`review` must be a string"),
    (lambda v: text.vectorizer([1, 2]), TypeError, "`texts` must be"),
    (lambda v: text.vectorizer(TEXTS, max_tokens=2), ValueError, "`max_tokens` must be at least 3"),
    (lambda v: text.vocabulary_table("not a layer"), TypeError, "`vectorizer` must be a keras.layers.TextVectorization"),
    (lambda v: text.sequences(v, TEXTS, 0), ValueError, "`length` must be a positive integer"),
    (lambda v: text.sequences(v, TEXTS, 5, keep="middle"), ValueError, "`keep` must be one of 'start', 'end'"),
    (lambda v: text.padding_report([1.5, 2], 3), ValueError, "`lengths` must be a non-empty 1-D array"),
    (lambda v: text.padding_report([], 3), ValueError, "`lengths` must be"),
    (lambda v: text.nearest(np.zeros((2, 2)), ["a", "b", "c"], "a"), ValueError, "`vocabulary` must be one word per row"),
    (lambda v: text.nearest(np.zeros(3), ["a", "b", "c"], "a"), ValueError, "`vectors` must be a float array"),
    (lambda v: text.nearest(np.ones((3, 2)), ["", "a", "b"], "zebra"), KeyError, "`word` must be a word in the"),
    (lambda v: text.plot_embeddings(np.ones((9, 2)), list("abcdefghi"), ["b"], method="umap"), ValueError,
     "`method` must be one of 'pca', 'tsne'"),
    (lambda v: text.plot_embeddings(np.ones((9, 2)), list("abcdefghi"), "b"), TypeError, "`words` must be"),
])
def test_bad_input_is_named(vectorizer, call, error, message):
    with pytest.raises(error, match=message):
        call(vectorizer)
