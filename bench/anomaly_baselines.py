"""The two classic log anomaly detectors, written here with numpy, to compare ours against.

* **PCA** after Xu et al., "Detecting Large-Scale System Problems by Mining Console Logs"
  (SOSP'09): sessions become event-count vectors (optionally TF-IDF weighted), centred; the
  principal components that explain most of the variance span the "normal" subspace; a session
  whose squared prediction error (SPE, its distance from that subspace) exceeds the Q-statistic
  threshold of Jackson and Mudholkar (1979) is anomalous.
* **Invariant Mining** after Lou et al., "Mining Invariants from Console Logs for System Problem
  Detection" (USENIX ATC'10): sparse integer vectors theta with ``counts . theta == 0`` in
  (almost) every session are mined by searching small groups of events, smallest first, up to
  the dimension of the invariant space that the count matrix's singular values suggest; a
  session that breaks any invariant is anomalous.

Both take an ``(n_sessions, n_events)`` count matrix; fitting is unsupervised.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


def count_matrix(sequences: Sequence[Sequence[str]], events: Sequence[str]) -> Matrix:
    """Sessions x events: how many times each event occurs in each session."""
    column = {event: index for index, event in enumerate(events)}
    matrix = np.zeros((len(sequences), len(events)), dtype=np.float64)
    for row, sequence in enumerate(sequences):
        for event in sequence:
            index = column.get(event)
            if index is not None:
                matrix[row, index] += 1
    return matrix


@dataclass
class PCADetector:
    """Normal subspace by explained variance, SPE against the Q-statistic."""

    variance: float = 0.95
    #: Normal-deviate for the false-alarm rate alpha: 3.2905 is alpha = 0.001 (two-sided).
    c_alpha: float = 3.2905
    tf_idf: bool = False
    mean: Matrix = field(default_factory=lambda: np.zeros(0))
    idf: Matrix = field(default_factory=lambda: np.zeros(0))
    residual: Matrix = field(default_factory=lambda: np.zeros((0, 0)))
    threshold: float = 0.0
    components: int = 0

    def _transform(self, counts: Matrix) -> Matrix:
        weighted = counts * self.idf if self.tf_idf else counts
        return weighted - self.mean

    def fit(self, counts: Matrix) -> PCADetector:
        sessions, events = counts.shape
        if self.tf_idf:
            present = np.count_nonzero(counts, axis=0)
            self.idf = np.log(sessions / np.maximum(present, 1))
        weighted = counts * self.idf if self.tf_idf else counts
        self.mean = weighted.mean(axis=0)
        centred = weighted - self.mean
        covariance = centred.T @ centred / sessions
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues = np.clip(eigenvalues[order], 0.0, None)
        eigenvectors = eigenvectors[:, order]
        total = float(eigenvalues.sum())
        explained = np.cumsum(eigenvalues) / total if total > 0 else np.ones(events)
        self.components = int(np.searchsorted(explained, self.variance) + 1)
        normal = eigenvectors[:, : self.components]
        self.residual = np.eye(events) - normal @ normal.T
        self.threshold = q_statistic(eigenvalues[self.components :], self.c_alpha)
        return self

    def spe(self, counts: Matrix) -> Matrix:
        projected = self._transform(counts) @ self.residual
        return np.asarray(np.sum(projected * projected, axis=1), dtype=np.float64)

    def predict(self, counts: Matrix) -> NDArray[np.bool_]:
        return self.spe(counts) > self.threshold


def q_statistic(residual_eigenvalues: Matrix, c_alpha: float) -> float:
    """Jackson and Mudholkar's upper limit for the SPE of normal data, from the eigenvalues of
    the residual (abnormal) subspace."""
    phi = [float(np.sum(residual_eigenvalues**power)) for power in (1, 2, 3)]
    if phi[0] <= 0 or phi[1] <= 0:
        return 0.0
    h0 = 1.0 - 2.0 * phi[0] * phi[2] / (3.0 * phi[1] ** 2)
    if h0 <= 0:
        return phi[0]
    inner = (
        c_alpha * math.sqrt(2.0 * phi[1] * h0**2) / phi[0]
        + 1.0
        + phi[1] * h0 * (h0 - 1.0) / phi[0] ** 2
    )
    return float(phi[0] * max(inner, 0.0) ** (1.0 / h0))


@dataclass(frozen=True)
class IntegerInvariant:
    columns: tuple[int, ...]
    weights: tuple[int, ...]
    holds: float


@dataclass
class InvariantMiner:
    """Sparse integer invariants among event counts (Lou et al. 2010)."""

    #: Share of training sessions an invariant must hold in.
    support: float = 0.98
    #: Largest group of events searched together.
    max_size: int = 3
    #: Largest absolute integer coefficient accepted.
    max_weight: int = 10
    #: A singular value of the normalised count matrix below this counts as (near) zero when
    #: estimating the invariant space's dimension.
    tolerance: float = 0.1
    invariants: list[IntegerInvariant] = field(default_factory=list)
    dimension: int = 0

    def fit(self, counts: Matrix) -> InvariantMiner:
        sessions, events = counts.shape
        singular = np.linalg.svd(counts / math.sqrt(max(sessions, 1)), compute_uv=False)
        padded = np.concatenate([singular, np.zeros(max(0, events - singular.size))])
        self.dimension = int(np.count_nonzero(padded < self.tolerance))
        self.invariants = []
        covered: list[frozenset[int]] = []
        for size in range(1, self.max_size + 1):
            for columns in itertools.combinations(range(events), size):
                if len(self.invariants) >= self.dimension:
                    return self
                group = frozenset(columns)
                # Lou et al.: a group that contains an invariant already found adds nothing new.
                if any(found <= group for found in covered):
                    continue
                invariant = self._invariant(counts, columns)
                if invariant is not None:
                    self.invariants.append(invariant)
                    covered.append(group)
        return self

    def _invariant(self, counts: Matrix, columns: tuple[int, ...]) -> IntegerInvariant | None:
        sub = counts[:, columns]
        if len(columns) == 1:
            weights = np.ones(1)
        else:
            _, _, vt = np.linalg.svd(sub, full_matrices=False)
            theta = vt[-1]
            if np.any(np.abs(theta) < 1e-6):
                return None  # a smaller group already says this
            weights = theta / np.min(np.abs(theta))
            best = None
            for scale in (1, 2, 3):
                scaled = weights * scale
                if np.all(np.abs(scaled - np.round(scaled)) < 0.15):
                    best = np.round(scaled)
                    break
            if best is None:
                return None
            weights = best
        if np.max(np.abs(weights)) > self.max_weight:
            return None
        holds = float(np.mean(np.abs(sub @ weights) < 0.5))
        if holds < self.support:
            return None
        return IntegerInvariant(columns, tuple(int(w) for w in weights), round(holds, 4))

    def predict(self, counts: Matrix) -> NDArray[np.bool_]:
        broken = np.zeros(counts.shape[0], dtype=bool)
        for invariant in self.invariants:
            values = counts[:, invariant.columns] @ np.asarray(invariant.weights, dtype=np.float64)
            broken |= np.abs(values) >= 0.5
        return broken
