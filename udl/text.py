"""Text helpers for notebooks 07-08: a vectoriser and its vocabulary, sequences cut where you choose, embeddings.

```python
from udl import text
vectorizer = text.vectorizer(imdb.x_train, max_tokens=20_000)      # a Keras TextVectorization, adapted
print(text.vocabulary_table(vectorizer, 8))                          # index -> word, most frequent first
x_train = text.sequences(vectorizer, imdb.x_train, 150, keep="end")  # the last 150 tokens, padded after
print(text.padding_report(text.lengths(vectorizer, imdb.x_train), 150, keep="end"))
text.plot_embeddings(weights, vectorizer.get_vocabulary(), words=["good", "bad"])
text.nearest(weights, vectorizer.get_vocabulary(), "good")
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from udl._checks import fail, one_of, positive_int

PROJECTIONS = ("pca", "tsne")
MARKUP = r"<[^>]*>|&(#[0-9]+|[a-z]+);"          # HTML tags such as IMDB's <br />, and entities such as &amp;
PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # what TextVectorization strips by default
ENDS = ("start", "end")


def _texts(arg: str, texts) -> list[str]:
    if isinstance(texts, str) or not hasattr(texts, "__len__") or len(texts) == 0 \
            or not all(isinstance(t, str) for t in texts):
        raise fail(arg, "a non-empty list of strings (one text each)", texts, TypeError)
    return list(texts)


@keras.saving.register_keras_serializable(package="udl")
def standardize(texts):
    """Lower-case `texts` (a string tensor), replace HTML markup with a space, and strip punctuation.

    Keras's default standardiser would turn IMDB's ``film.<br /><br />I`` into the words "filmbr", "br" and "i";
    this one gives "film" and "i". It is what `vectorizer` uses.

    Example:
        >>> text.standardize(tf.constant(["A <i>great</i> film.<br /><br />Loved it &amp; more"])).numpy()
        array([b'a  great  film  loved it   more'], dtype=object)
    """
    lowered = tf.strings.lower(texts)
    return tf.strings.regex_replace(tf.strings.regex_replace(lowered, MARKUP, " "), PUNCTUATION, "")


def strip_markup(review: str) -> str:
    """Return `review` lower-cased, with HTML markup (tags such as ``<br />``, entities such as ``&amp;``) made spaces.

    The plain-Python twin of `standardize`, for scikit-learn's vectorisers (`preprocessor=text.strip_markup`).

    Example:
        >>> text.strip_markup("Great.<br /><br />Loved it")
        'great.  loved it'
    """
    if not isinstance(review, str):
        raise fail("review", "a string (one review)", review, TypeError)
    return re.sub(MARKUP, " ", review.lower())


def vectorizer(texts, max_tokens: int = 20_000) -> keras.layers.TextVectorization:
    """Return a `TextVectorization` layer (lower case, HTML markup and punctuation stripped) adapted to `texts`.

    Index 0 is padding and 1 is `[UNK]`, every word outside the `max_tokens - 2` most frequent ones.

    Example:
        >>> v = text.vectorizer(["a good film", "a bad film"], max_tokens=10)
        >>> v.get_vocabulary()[:3]
        ['', '[UNK]', 'film']
    """
    texts = _texts("texts", texts)
    max_tokens = positive_int("max_tokens", max_tokens)
    if max_tokens < 3:
        raise fail("max_tokens", "at least 3 (padding, [UNK] and one word)", max_tokens)
    layer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize=standardize)
    layer.adapt(tf.constant(texts), batch_size=512)
    return layer


def _check_vectorizer(layer) -> None:
    if not isinstance(layer, keras.layers.TextVectorization):
        raise fail("vectorizer", "a keras.layers.TextVectorization (e.g. from text.vectorizer)", layer, TypeError)


def vocabulary_table(vectorizer, n: int = 10) -> str:
    """Return the first `n` rows of the vectoriser's word table, one 'index  word' per line."""
    _check_vectorizer(vectorizer)
    n = positive_int("n", n)
    vocabulary = vectorizer.get_vocabulary()
    rows = [f"{i:>6}  '{word}'" + ("  (padding)" if i == 0 else "  (out of vocabulary)" if i == 1 else "")
            for i, word in enumerate(vocabulary[:n])]
    return "\n".join(["index  word"] + rows + [f"... {len(vocabulary):,} entries in all"])


def _token_lists(vectorizer, texts) -> list[np.ndarray]:
    """Return each text's token indices, without padding."""
    _check_vectorizer(vectorizer)
    texts = _texts("texts", texts)
    out = []
    for start in range(0, len(texts), 512):  # batches keep the padded tensor small
        batch = vectorizer(tf.constant(texts[start : start + 512])).numpy()
        out += [row[: np.flatnonzero(row)[-1] + 1] if row.any() else row[:0] for row in batch]
    return out


def lengths(vectorizer, texts) -> np.ndarray:
    """Return the number of tokens in each text."""
    return np.array([len(tokens) for tokens in _token_lists(vectorizer, texts)])


def sequences(vectorizer, texts, length: int, keep: str = "end") -> np.ndarray:
    """Return int32 sequences (N, `length`): each text's first or last `length` tokens, zeros appended after.

    `keep="end"` cuts the start of long texts (a review's verdict is often at its end). Padding always goes
    after the tokens, so a mask of the zeros is right-padded, as cuDNN's fast recurrent kernels require.

    Example:
        >>> text.sequences(v, ["a good film", "film"], 2, keep="end")
        array([[4, 2], [2, 0]], dtype=int32)
    """
    length = positive_int("length", length)
    one_of("keep", keep, ENDS)
    tokens = _token_lists(vectorizer, texts)
    return keras.utils.pad_sequences(tokens, maxlen=length, dtype="int32", padding="post",
                                     truncating="pre" if keep == "end" else "post")


@dataclass(frozen=True)
class PaddingReport:
    """How fixed-length sequences fit texts of these lengths: what is cut, what is padding."""

    length: int
    keep: str
    n_texts: int
    median_tokens: float
    longest: int
    truncated: float        # fraction of texts longer than `length`
    tokens_cut: float       # fraction of all tokens dropped
    padding: float          # fraction of sequence positions that are padding

    def __str__(self) -> str:
        cut = "start" if self.keep == "end" else "end"
        return (f"{self.n_texts:,} texts, median {self.median_tokens:,.0f} tokens, longest {self.longest:,}\n"
                f"length {self.length}: keeps each text's {self.keep}; {self.truncated:.0%} of the texts lose "
                f"their {cut}, {self.tokens_cut:.0%} of all tokens are cut, {self.padding:.0%} of the positions "
                f"are padding")


def padding_report(lengths, length: int, keep: str = "end") -> PaddingReport:
    """Report what cutting and padding texts of these token `lengths` to `length` tokens does."""
    counts = np.asarray(lengths)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.integer) or counts.min() < 0:
        raise fail("lengths", "a non-empty 1-D array of token counts >= 0 (e.g. from text.lengths)", lengths)
    length = positive_int("length", length)
    one_of("keep", keep, ENDS)
    kept = np.minimum(counts, length)
    return PaddingReport(length=length, keep=keep, n_texts=len(counts), median_tokens=float(np.median(counts)),
                         longest=int(counts.max()), truncated=float(np.mean(counts > length)),
                         tokens_cut=float(1 - kept.sum() / max(1, counts.sum())),
                         padding=float(1 - kept.sum() / (length * len(counts))))


def _embeddings(vectors, vocabulary) -> tuple[np.ndarray, list[str]]:
    array = np.asarray(vectors.numpy() if hasattr(vectors, "numpy") else vectors)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
        raise fail("vectors", "a float array (vocabulary size, dimensions), e.g. an Embedding layer's weights",
                   vectors)
    vocabulary = list(vocabulary)
    if not 0 < len(vocabulary) <= len(array):  # an Embedding sized for more words than the corpus has: rows unused
        raise fail("vocabulary", f"one word per row of `vectors` (at most {len(array):,})",
                   f"{len(vocabulary):,} words")
    return array[: len(vocabulary)], vocabulary


def _index(vocabulary: list[str], word: str) -> int:
    if word not in vocabulary:
        raise fail("word", "a word in the vocabulary", word, KeyError)
    return vocabulary.index(word)


def nearest(vectors, vocabulary, word: str, k: int = 5) -> list[tuple[str, float]]:
    """Return the `k` words whose vectors have the highest cosine similarity to `word`'s, with the similarity.

    Example:
        >>> text.nearest(model.get_layer("embedding").get_weights()[0], vectorizer.get_vocabulary(), "good", 3)
        [('great', 0.91), ('fine', 0.88), ('well', 0.85)]
    """
    array, vocabulary = _embeddings(vectors, vocabulary)
    k = positive_int("k", k)
    unit = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    target = _index(vocabulary, word)
    similarity = unit @ unit[target]
    similarity[[target, 0]] = -np.inf  # not the word itself, nor padding
    best = np.argsort(-similarity)[:k]
    return [(vocabulary[i], round(float(similarity[i]), 3)) for i in best]


def plot_embeddings(vectors, vocabulary, words, method: str = "pca", ax=None, seed: int = 0):
    """Project word embeddings to 2-D (PCA or t-SNE) and label `words` among the frequent words.

    The projection is fitted on the 1,000 most frequent words (rows 2..1001: not padding or `[UNK]`) plus
    `words`; everything runs locally with scikit-learn.

    Example:
        >>> text.plot_embeddings(weights, vectorizer.get_vocabulary(), ["good", "bad", "plot"], method="tsne")
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    array, vocabulary = _embeddings(vectors, vocabulary)
    one_of("method", method, PROJECTIONS)
    if isinstance(words, str) or not words:
        raise fail("words", "a non-empty list of words to label", words, TypeError)
    chosen = [_index(vocabulary, w) for w in words]
    rows = sorted(set(range(2, min(len(array), 1002))) | set(chosen))
    if len(rows) < 5:
        raise fail("vectors", "at least 5 word vectors to project", array)
    if method == "pca":
        points = PCA(n_components=2, random_state=seed).fit_transform(array[rows])
    else:
        points = TSNE(n_components=2, perplexity=min(30, len(rows) - 1), init="pca",
                      random_state=seed).fit_transform(array[rows])
    where = {row: i for i, row in enumerate(rows)}
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    ax.scatter(points[:, 0], points[:, 1], s=4, color="0.75", label="frequent words")
    for word, row in zip(words, chosen):
        x, y = points[where[row]]
        ax.scatter([x], [y], s=18, color="C3")
        ax.annotate(word, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{method.upper()} 1")
    ax.set_ylabel(f"{method.upper()} 2")
    ax.set_title(f"Word embeddings projected with {'PCA' if method == 'pca' else 't-SNE'}")
    return ax
