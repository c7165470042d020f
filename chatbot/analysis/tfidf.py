"""TF-IDF vectors of short texts, as scikit-learn's ``TfidfVectorizer`` makes them, on numpy.

The themes need only one configuration of it (words and word pairs after stop words,
sublinear term frequency, smooth idf, unit rows, terms kept by document frequency and then
by corpus frequency); importing scikit-learn for it cost most of a second and ~70 MB per
process. :class:`TfIdf` reproduces that configuration term for term (``tests/test_tfidf.py``
compares the two when scikit-learn is installed), and :class:`SparseRows` holds the result
as compressed rows with the two products the factorization needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.intp]

# scikit-learn's ENGLISH_STOP_WORDS (sklearn/feature_extraction/_stop_words.py, itself from
# the Glasgow Information Retrieval Group's list), copied: a plain word list, BSD-3-Clause,
# Copyright (c) 2007-2024 The scikit-learn developers.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst amoungst amount an and another any anyhow anyone
    anything anyway anywhere are around as at back be became because become becomes becoming
    been before beforehand behind being below beside besides between beyond bill both bottom
    but by call can cannot cant co con could couldnt cry de describe detail do done down due
    during each eg eight either eleven else elsewhere empty enough etc even ever every
    everyone everything everywhere except few fifteen fifty fill find fire first five for
    former formerly forty found four from front full further get give go had has hasnt have
    he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter
    latterly least less ltd made many may me meanwhile might mill mine more moreover most
    mostly move much must my myself name namely neither never nevertheless next nine no
    nobody none noone nor not nothing now nowhere of off often on once one only onto or
    other others otherwise our ours ourselves out over own part per perhaps please put
    rather re same see seem seemed seeming seems serious several she should show side since
    sincere six sixty so some somehow someone something sometime sometimes somewhere still
    such system take ten than that the their them themselves then thence there thereafter
    thereby therefore therein thereupon these they thick thin third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two un
    under until up upon us very via was we well were what whatever when whence whenever
    where whereafter whereas whereby wherein whereupon wherever whether which while whither
    who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class SparseRows:
    """A float32 matrix in compressed rows: row ``i`` holds ``data[indptr[i]:indptr[i + 1]]``
    at columns ``indices[...]``. A product with a dense matrix costs what the non-zeros do."""

    indptr: Ints
    indices: Ints
    data: Floats
    shape: tuple[int, int]

    def dot(self, dense: Floats) -> Floats:
        """``self @ dense`` for a dense (columns x k) matrix: a dense (rows x k) one."""
        out = np.zeros((dense.shape[1], self.shape[0]), dtype=np.float32)
        filled = np.diff(self.indptr) > 0
        if not filled.any():
            return out.T
        # each column of ``dense`` gathered along the non-zeros, then summed row by row
        # (a segmented sum from each non-empty row's start to the next's)
        products = np.take(np.ascontiguousarray(dense.T), self.indices, axis=1)
        products *= self.data
        starts = self.indptr[:-1][filled]
        out[:, filled] = np.add.reduceat(products, starts, axis=1)  # all columns in one call
        return out.T

    def transposed(self) -> SparseRows:
        """The same matrix, columns as rows (to multiply its transpose)."""
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.shape[1])
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.intp)
        return SparseRows(
            indptr=indptr,
            indices=rows[order].astype(np.intp),
            data=self.data[order],
            shape=(self.shape[1], self.shape[0]),
        )


@dataclass(frozen=True, slots=True)
class TfIdf:
    """A fitted vocabulary (``terms``, in alphabetical order) and its idf weights."""

    terms: tuple[str, ...]
    idf: Floats
    token_pattern: str
    stop_words: frozenset[str]

    @classmethod
    def fit(
        cls,
        docs: Sequence[str],
        *,
        token_pattern: str,
        stop_words: frozenset[str],
        min_df: int,
        max_df: float,
        max_features: int,
    ) -> tuple[TfIdf, SparseRows] | None:
        """The vocabulary of ``docs`` and their vectors; None when no term is kept.

        A term is kept if at least ``min_df`` documents and at most ``max_df`` of them hold
        it; of those, the ``max_features`` most frequent in the whole corpus (ties broken as
        scikit-learn's ``argsort`` of the alphabetical vocabulary breaks them).
        """
        analyze = _analyzer(token_pattern, stop_words)
        index: dict[str, int] = {}
        counted = [_counts(analyze(doc), index, grow=True) for doc in docs]
        if not index or max_df * len(docs) < min_df:
            return None
        # columns in alphabetical order, as scikit-learn sorts its vocabulary
        names = sorted(index)
        alphabetical = np.empty(len(names), dtype=np.intp)
        alphabetical[[index[name] for name in names]] = np.arange(len(names))
        columns, counts, indptr = _stack(counted)
        columns = alphabetical[columns]
        df = np.bincount(columns, minlength=len(names))
        mask = (df <= max_df * len(docs)) & (df >= min_df)
        if mask.sum() > max_features:
            tfs = np.bincount(columns, weights=counts, minlength=len(names)).astype(np.float32)
            chosen = np.flatnonzero(mask)[(-tfs[mask]).argsort()[:max_features]]
            mask = np.zeros(len(names), dtype=bool)
            mask[chosen] = True
        if not mask.any():
            return None
        new_column = np.cumsum(mask) - 1
        kept = mask[columns]
        rows = np.repeat(np.arange(len(docs)), np.diff(indptr))[kept]
        matrix = _rows(rows, new_column[columns[kept]], counts[kept], len(docs), int(mask.sum()))
        # smooth idf: as if one more document held every term
        df_kept = df[mask].astype(np.float32) + 1
        idf = (np.log(np.float32(len(docs) + 1) / df_kept) + 1).astype(np.float32)
        fitted = cls(
            terms=tuple(name for name, keep in zip(names, mask, strict=True) if keep),
            idf=idf,
            token_pattern=token_pattern,
            stop_words=stop_words,
        )
        return fitted, fitted._weighed(matrix)

    def transform(self, docs: Sequence[str]) -> SparseRows:
        """The vectors of new ``docs`` over the fitted terms (unknown terms dropped)."""
        analyze = _analyzer(self.token_pattern, self.stop_words)
        index = {term: i for i, term in enumerate(self.terms)}
        columns, counts, indptr = _stack([_counts(analyze(d), index, grow=False) for d in docs])
        rows = np.repeat(np.arange(len(docs)), np.diff(indptr))
        return self._weighed(_rows(rows, columns, counts, len(docs), len(self.terms)))

    def _weighed(self, counts: SparseRows) -> SparseRows:
        """Counts to unit rows of (1 + ln tf) x idf."""
        data = (np.log(counts.data) + 1) * self.idf[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
        norms[norms == 0] = 1
        data = (data / norms[rows]).astype(np.float32)
        return SparseRows(counts.indptr, counts.indices, data, counts.shape)


def _analyzer(token_pattern: str, stop_words: frozenset[str]) -> Callable[[str], list[str]]:
    """Lower case, tokens, stop words out, then the words and the pairs of words left in a row."""
    findall = re.compile(token_pattern).findall

    def analyze(doc: str) -> list[str]:
        words = [w for w in findall(doc.lower()) if w not in stop_words]
        return [*words, *map(" ".join, pairwise(words))]

    return analyze


def _counts(terms: Iterable[str], index: dict[str, int], *, grow: bool) -> dict[int, int]:
    """Each term's count by its index; new terms added to ``index`` if ``grow``."""
    counted = Counter(terms)  # counted in C; then one look-up per distinct term
    if grow:
        return {index.setdefault(term, len(index)): n for term, n in counted.items()}
    get = index.get
    return {i: n for term, n in counted.items() if (i := get(term)) is not None}


def _stack(counted: Sequence[dict[int, int]]) -> tuple[Ints, Floats, Ints]:
    """Per-document counts as flat columns, counts and row offsets."""
    lengths = np.fromiter(map(len, counted), dtype=np.intp, count=len(counted))
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.intp)
    columns = np.fromiter((i for c in counted for i in c), dtype=np.intp, count=indptr[-1])
    counts = np.fromiter(
        (n for c in counted for n in c.values()), dtype=np.float32, count=indptr[-1]
    )
    return columns, counts, indptr


def _rows(rows: Ints, columns: Ints, values: Floats, n: int, m: int) -> SparseRows:
    """Compressed rows from (row, column, value) triplets, columns ascending in each row."""
    order = np.lexsort((columns, rows))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))).astype(np.intp)
    return SparseRows(indptr, columns[order].astype(np.intp), values[order], (n, m))
