"""The themes' own TF-IDF and NMF: the same numbers as scikit-learn's, on the demo's texts.

scikit-learn is not a dependency of the product any more; when it is installed, these
tests fit both on the demo's 711 tickets (cleaned as the themes clean them) and compare
vocabulary, vectors and factors. The sparse product is checked against numpy's dense one.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np
import pytest

from chatbot.analysis import themes
from chatbot.analysis.nmf import Factors, factorize, place
from chatbot.analysis.tfidf import ENGLISH_STOP_WORDS, SparseRows, TfIdf
from chatbot.analysis.ticket_text import clean_texts, raw_texts
from chatbot.core.periods import utc_now
from chatbot.sources.demo import demo_tickets

TOPICS = 12
FEATURES = 300
"""Fewer than the 612 terms the fitted documents keep: the cut by corpus frequency is used."""
FITTED = 500
"""The first this many documents are fitted; the rest are placed, as a previous period is."""


@cache
def _docs() -> tuple[str, ...]:
    tickets = sorted(demo_tickets(utc_now()), key=lambda t: t.key)
    cleaned = clean_texts(tickets, raw_texts(tickets))
    return tuple(cleaned[t.key] for t in tickets)


def _fit(docs: tuple[str, ...]) -> tuple[TfIdf, SparseRows]:
    fitted = TfIdf.fit(
        docs,
        token_pattern=themes._WORD_PATTERN,
        stop_words=ENGLISH_STOP_WORDS | themes.SUPPORT_WORDS,
        min_df=2,
        max_df=0.7,
        max_features=FEATURES,
    )
    assert fitted is not None
    return fitted


def _dense(rows: SparseRows) -> np.ndarray:
    out = np.zeros(rows.shape, dtype=np.float32)
    out[np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), rows.indices] = rows.data
    return out


def _sklearn_vectorizer() -> Any:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    assert frozenset(text.ENGLISH_STOP_WORDS) == ENGLISH_STOP_WORDS
    return text.TfidfVectorizer(
        lowercase=True,
        token_pattern=themes._WORD_PATTERN,
        stop_words=sorted(ENGLISH_STOP_WORDS | themes.SUPPORT_WORDS),
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
        max_df=0.7,
        max_features=FEATURES,
        dtype=np.float32,
    )


def test_tfidf_matches_scikit_learns_vectorizer() -> None:
    docs = _docs()
    theirs = _sklearn_vectorizer()
    expected = theirs.fit_transform(docs[:FITTED]).toarray()
    ours, matrix = _fit(docs[:FITTED])
    assert list(ours.terms) == list(theirs.get_feature_names_out())
    np.testing.assert_allclose(ours.idf, theirs.idf_, rtol=1e-6)
    np.testing.assert_allclose(_dense(matrix), expected, atol=1e-6)
    placed = theirs.transform(docs[FITTED:]).toarray()
    np.testing.assert_allclose(_dense(ours.transform(docs[FITTED:])), placed, atol=1e-6)


def test_nmf_matches_scikit_learns_nndsvd_and_cd_solver() -> None:
    decomposition = pytest.importorskip("sklearn.decomposition")
    docs = _docs()
    theirs = _sklearn_vectorizer()
    matrix_theirs = theirs.fit_transform(docs[:FITTED])
    model = decomposition.NMF(
        n_components=TOPICS, init="nndsvd", max_iter=themes.MAX_ITER, random_state=0
    )
    with warnings.catch_warnings():  # it stops at MAX_ITER rounds, as the themes do
        warnings.simplefilter("ignore")
        weights = model.fit_transform(matrix_theirs)
        placed = model.transform(theirs.transform(docs[FITTED:]))
    vectorizer, matrix = _fit(docs[:FITTED])
    factors = factorize(matrix, TOPICS, themes.MAX_ITER)
    scale = float(np.abs(weights).max())
    np.testing.assert_allclose(factors.weights, weights, atol=1e-4 * scale)
    np.testing.assert_allclose(
        factors.components, model.components_, atol=1e-4 * float(model.components_.max())
    )
    assert (factors.weights.argmax(axis=1) == weights.argmax(axis=1)).all()
    ours_placed = place(vectorizer.transform(docs[FITTED:]), factors.components, themes.MAX_ITER)
    np.testing.assert_allclose(ours_placed, placed, atol=1e-4 * scale)


def test_the_sparse_product_is_the_dense_one_with_empty_rows() -> None:
    rng = np.random.default_rng(3)
    dense = rng.random((9, 7), dtype=np.float32) * (rng.random((9, 7)) < 0.3)
    dense[[0, 4, 8]] = 0  # empty rows first, inside and last
    rows = np.nonzero(dense)
    lengths = np.bincount(rows[0], minlength=9)
    sparse = SparseRows(
        indptr=np.concatenate(([0], np.cumsum(lengths))).astype(np.intp),
        indices=rows[1].astype(np.intp),
        data=dense[rows],
        shape=dense.shape,
    )
    other = rng.random((7, 3), dtype=np.float32)
    np.testing.assert_allclose(sparse.dot(other), dense @ other, rtol=1e-6)
    weights = rng.random((9, 2), dtype=np.float32)
    np.testing.assert_allclose(sparse.transposed().dot(weights), dense.T @ weights, rtol=1e-6)


def test_the_factorization_is_deterministic_and_fits_the_data() -> None:
    _, matrix = _fit(_docs()[:FITTED])
    first = factorize(matrix, TOPICS, themes.MAX_ITER)
    again = factorize(matrix, TOPICS, themes.MAX_ITER)
    assert np.array_equal(first.weights, again.weights)
    assert np.array_equal(first.components, again.components)
    assert (first.weights >= 0).all()
    assert (first.components >= 0).all()
    one_round = factorize(matrix, TOPICS, 1)

    def residual(factors: Factors) -> float:
        return float(np.linalg.norm(_dense(matrix) - factors.weights @ factors.components))

    assert residual(first) < residual(one_round) < float(np.linalg.norm(_dense(matrix)))
