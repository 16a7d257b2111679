"""Group quotes that carry no theme tag by text similarity, computed locally (no network)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import snowballstemmer
from scipy.sparse import csr_matrix

LABEL_WORDS = 3
UNGROUPED = "Other comments"
# Quotes closer than this (cosine distance, average linkage) share a group.
DISTANCE_THRESHOLD = 0.9
# Beyond this many quotes the n×n distance matrix gets large; k-means keeps memory flat.
MAX_PAIRWISE = 3000


@dataclass(frozen=True)
class QuoteGroup:
    """Quotes that read alike, labelled by their characteristic words."""

    label: str
    members: list[int]  # indices into the texts given


class _Tokens:
    """Stemmed words without stop words, remembering the commonest surface form of each stem."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.stemmer = snowballstemmer.stemmer("english")
        self.words: Callable[[str], list[str]] = TfidfVectorizer(
            stop_words="english"
        ).build_analyzer()
        self.surface: dict[str, Counter[str]] = defaultdict(Counter)

    def __call__(self, text: str) -> list[str]:
        stems = []
        for word in self.words(text):
            stem = self.stemmer.stemWord(word)
            self.surface[stem][word] += 1
            stems.append(stem)
        return stems

    def readable(self, stem: str) -> str:
        """The word people actually wrote for a stem."""
        forms = self.surface.get(stem)
        return forms.most_common(1)[0][0] if forms else stem


def group_by_similarity(texts: Sequence[str], *, seed: int = 0) -> list[QuoteGroup]:
    """Group texts by TF-IDF similarity of their stemmed words; label each by its top words.

    Deterministic for the same texts. Quotes that resemble no other quote, or have no meaningful
    words (only stop words or emoji), go to one "Other comments" group. Largest groups first.
    """
    if not texts:
        return []
    # scikit-learn is imported here, not at the top: the bot itself (which only needs this for
    # reports) starts faster and keeps a smaller heap without it.
    from sklearn.feature_extraction.text import TfidfVectorizer

    tokens = _Tokens()
    vectorizer = TfidfVectorizer(analyzer=tokens, sublinear_tf=True)
    try:
        matrix = csr_matrix(vectorizer.fit_transform(texts))
    except ValueError:  # no text had a single meaningful word
        return [QuoteGroup(UNGROUPED, list(range(len(texts))))]
    usable = np.flatnonzero(matrix.getnnz(axis=1) > 0)
    leftovers = [int(i) for i in np.flatnonzero(matrix.getnnz(axis=1) == 0)]
    labels = _cluster(matrix[usable], seed) if len(usable) > 1 else np.zeros(len(usable), int)
    vocabulary = vectorizer.get_feature_names_out()
    groups: list[QuoteGroup] = []
    for cluster in np.unique(labels):
        picked = np.flatnonzero(labels == cluster)
        members = sorted(int(usable[i]) for i in picked)
        if len(members) == 1 and len(usable) > 1:
            leftovers.extend(members)
            continue
        weights = np.asarray(matrix[usable[picked]].mean(axis=0)).ravel()
        groups.append(QuoteGroup(_label(weights, vocabulary, tokens), members))
    if leftovers:
        groups.append(QuoteGroup(UNGROUPED, sorted(leftovers)))
    return sorted(groups, key=lambda g: (g.label == UNGROUPED, -len(g.members), g.members[0]))


def _cluster(rows: csr_matrix, seed: int) -> np.ndarray:
    """Cluster L2-normalised TF-IDF rows."""
    from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans

    if rows.shape[0] <= MAX_PAIRWISE:
        distances = np.clip(1.0 - (rows @ rows.T).toarray(), 0.0, 2.0)
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="precomputed",
            linkage="average",
            distance_threshold=DISTANCE_THRESHOLD,
        )
        return np.asarray(model.fit_predict(distances))
    k = min(50, round(math.sqrt(rows.shape[0] / 2)))
    kmeans = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048)
    return np.asarray(kmeans.fit_predict(rows))


def _label(weights: np.ndarray, vocabulary: Sequence[str], tokens: _Tokens) -> str:
    """The group's characteristic words, strongest first."""
    top = [int(i) for i in np.argsort(-weights, kind="stable")[:LABEL_WORDS] if weights[i] > 0]
    return ", ".join(tokens.readable(str(vocabulary[i])) for i in top) or UNGROUPED
