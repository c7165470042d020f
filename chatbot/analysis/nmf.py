"""Non-negative matrix factorization of TF-IDF rows, as scikit-learn's ``NMF(init="nndsvd")``.

``X ~ W H``, both factors non-negative, Frobenius loss. The start is NNDSVD (Boutsidis &
Gallopoulos 2008): the positive or negative part of each of the top singular pairs, so
the same data always gives the same factors. The singular pairs come from a randomized
SVD seeded as scikit-learn seeds it (``RandomState(0)``, ten extra vectors, 4 or 7 power
rounds; QR between rounds where scikit-learn uses LU, which spans the same subspace and
needs no scipy). The solver is coordinate descent over whole columns (HALS, scikit-learn's
``"cd"`` solver): each column of ``W``, then of ``H``, is set to its exact least-squares
optimum given the others, at most ``max_iter`` rounds, stopping early as scikit-learn does
when the projected gradient falls below ``1e-4`` of the first round's. Everything is
float32 on numpy, so one import of numpy is all the themes need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chatbot.analysis.tfidf import Floats, SparseRows

TOLERANCE = 1e-4
"""Stop once a round's projected gradient is this share of the first round's."""
_OVERSAMPLES = 10
_EPS = 1e-6
"""NNDSVD's factors below this are zero: a near-zero start weighs nothing."""


@dataclass(frozen=True, slots=True)
class Factors:
    """``weights`` (documents x topics) and ``components`` (topics x terms)."""

    weights: Floats
    components: Floats


def factorize(matrix: SparseRows, topics: int, max_iter: int) -> Factors:
    """``matrix ~ weights @ components`` in ``topics`` non-negative parts."""
    transposed = matrix.transposed()
    weights, components = _nndsvd(matrix, transposed, topics)
    ht = np.ascontiguousarray(components.T)
    first = 0.0
    for _ in range(max_iter):
        violation = _sweep(weights, ht, matrix.dot(ht))
        violation += _sweep(ht, weights, transposed.dot(weights))
        first = first or violation
        if not first or violation / first <= TOLERANCE:
            break
    return Factors(weights=weights, components=np.ascontiguousarray(ht.T))


def place(matrix: SparseRows, components: Floats, max_iter: int) -> Floats:
    """The weights of new rows in fitted ``components``: the same solver, ``components`` fixed."""
    weights = np.zeros((matrix.shape[0], components.shape[0]), dtype=np.float32)
    ht = np.ascontiguousarray(components.T)
    xht = matrix.dot(ht)
    first = 0.0
    for _ in range(max_iter):
        violation = _sweep(weights, ht, xht)
        first = first or violation
        if not first or violation / first <= TOLERANCE:
            break
    return weights


def _sweep(w: Floats, ht: Floats, xht: Floats) -> float:
    """One round of coordinate descent on ``w`` (in place), ``ht`` fixed; its violation.

    Column ``t`` of ``w`` minimizes ``|X - w ht.T|`` given the other columns: a Newton step
    on the quadratic, clipped at zero. The violation sums the projected gradient.
    """
    hht = ht.T @ ht
    violation = 0.0
    for t in range(w.shape[1]):
        grad = w @ hht[:, t] - xht[:, t]
        column = w[:, t]
        violation += float(np.abs(np.where(column == 0, np.minimum(grad, 0), grad)).sum())
        if hht[t, t] != 0:
            w[:, t] = np.maximum(column - grad / hht[t, t], 0)
    return violation


def _nndsvd(matrix: SparseRows, transposed: SparseRows, topics: int) -> tuple[Floats, Floats]:
    """NNDSVD's start: each singular pair's larger signed part, scaled by its value."""
    u, s, v = _top_singular(matrix, transposed, topics)
    w = np.zeros_like(u)
    h = np.zeros_like(v)
    w[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])  # the leading pair is of one sign
    h[0, :] = np.sqrt(s[0]) * np.abs(v[0, :])
    for j in range(1, topics):
        x, y = u[:, j], v[j, :]
        parts = [(np.maximum(x, 0), np.maximum(y, 0)), (-np.minimum(x, 0), -np.minimum(y, 0))]
        (xp, yp), (xn, yn) = parts
        xp_norm, yp_norm = np.linalg.norm(xp), np.linalg.norm(yp)
        xn_norm, yn_norm = np.linalg.norm(xn), np.linalg.norm(yn)
        if xp_norm * yp_norm > xn_norm * yn_norm:
            x, y, x_norm, y_norm = xp, yp, xp_norm, yp_norm
        else:
            x, y, x_norm, y_norm = xn, yn, xn_norm, yn_norm
        if not x_norm * y_norm:
            continue  # no part to start from: the column starts at zero
        scale = np.sqrt(s[j] * x_norm * y_norm)
        w[:, j] = scale * x / x_norm
        h[j, :] = scale * y / y_norm
    w[w < _EPS] = 0
    h[h < _EPS] = 0
    return w, h


def _top_singular(
    matrix: SparseRows, transposed: SparseRows, k: int
) -> tuple[Floats, Floats, Floats]:
    """The ``k`` leading singular triplets ``(u, s, vt)`` of ``matrix``, randomized (Halko et al.).

    As scikit-learn's ``randomized_svd``: the wider side is sampled (``transpose="auto"``).
    """
    n, m = matrix.shape
    flip = n < m
    a, at = (transposed, matrix) if flip else (matrix, transposed)
    size = k + _OVERSAMPLES
    rounds = 7 if k < 0.1 * min(n, m) else 4
    q = np.random.RandomState(0).normal(size=(a.shape[1], size)).astype(np.float32)
    for _ in range(rounds):
        q, _r = np.linalg.qr(a.dot(q))
        q, _r = np.linalg.qr(at.dot(q))
    q, _r = np.linalg.qr(a.dot(q))
    b = np.ascontiguousarray(at.dot(q).T)  # q.T @ a
    u_small, s, vt = np.linalg.svd(b, full_matrices=False)
    u = q @ u_small
    if flip:
        return np.ascontiguousarray(vt[:k].T), s[:k], np.ascontiguousarray(u[:, :k].T)
    return u[:, :k], s[:k], vt[:k]
