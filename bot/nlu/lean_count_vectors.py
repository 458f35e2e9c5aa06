"""Rasa's CountVectorsFeaturizer, trained the same way, computing the same features with less work.

For every message Rasa asks scikit-learn's CountVectorizer to analyse each token (its character
n-grams, or its words) and then the whole message again, and builds the matrices through scipy's
checked constructors: about 1 ms of a message's NLU. A token's counts depend only on the token and
the fitted vocabulary, so this subclass keeps them per token (a bounded memo) and adds them up for
the message. Adding up is exactly the message's own analysis when the analyser works word by word:
"char_wb" n-grams are taken inside each whitespace-separated word, and single words ("word",
n-grams of 1) never cross the spaces that join the tokens. Any other setting (plain "char" n-grams
that cross spaces, word n-grams longer than 1, binary counts, a custom analyser) uses Rasa's own code.
tests/test_nlu_lean_count_vectors.py compares both, matrix for matrix, on every training example.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from sklearn.feature_extraction.text import CountVectorizer

TokenCounts = Tuple[np.ndarray, np.ndarray]  # (vocabulary columns, ascending; their counts)
MEMO_LIMIT = 50_000  # distinct tokens kept per vectorizer (a few MB at most); then the memo starts over


def counts_add_up_over_tokens(vectorizer: CountVectorizer) -> bool:
    """Whether analysing the joined tokens gives the sum of analysing each token (see module docstring)."""
    return (
        not vectorizer.binary
        and hasattr(vectorizer, "vocabulary_")
        and (vectorizer.analyzer == "char_wb" or (vectorizer.analyzer == "word" and vectorizer.ngram_range[1] == 1))
    )


class _TokenCounter:
    """CountVectorizer.transform for one token at a time, remembered."""

    def __init__(self, vectorizer: CountVectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.width = len(vectorizer.vocabulary_)
        self.dtype = vectorizer.dtype
        self.memo: Dict[str, TokenCounts] = {}

    def __call__(self, token: str) -> TokenCounts:
        counts = self.memo.get(token)
        if counts is None:
            counter: Dict[int, int] = {}
            for feature in self.analyze(token):
                column = self.vocabulary.get(feature)
                if column is not None:
                    counter[column] = counter.get(column, 0) + 1
            columns = np.array(sorted(counter), dtype=np.int32)
            counts = (columns, np.array([counter[c] for c in columns.tolist()], dtype=self.dtype))
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[token] = counts
        return counts

    def features(self, tokens: List[str], with_sentence: bool) -> Tuple[scipy.sparse.coo_matrix, Optional[scipy.sparse.coo_matrix]]:
        """As Rasa's: transform(tokens) (one row per token) and, if asked, transform([" ".join(tokens)]),
        each with sorted indices, as COO matrices."""
        per_token = [self(token) for token in tokens]
        columns = np.concatenate([c for c, _ in per_token])
        data = np.concatenate([d for _, d in per_token])  # already of self.dtype
        rows = np.repeat(np.arange(len(per_token), dtype=np.int32), [len(c) for c, _ in per_token])
        sequence = scipy.sparse.coo_matrix((data, (rows, columns)), shape=(len(per_token), self.width))
        if not with_sentence:
            return sequence, None
        # The same column in several tokens: add their counts (new arrays, not shared with `sequence`).
        columns, inverse = np.unique(columns, return_inverse=True)
        summed = np.zeros(len(columns), dtype=self.dtype)
        np.add.at(summed, inverse, data)
        sentence = scipy.sparse.coo_matrix((summed, (np.zeros(len(columns), dtype=np.int32), columns.astype(np.int32))),
                                           shape=(1, self.width))
        return sequence, sentence


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class LeanCountVectorsFeaturizer(CountVectorsFeaturizer):
    """config.yml: `- name: bot.nlu.lean_count_vectors.LeanCountVectorsFeaturizer` (same options)."""

    def _counter(self, attribute: Text) -> Optional[_TokenCounter]:
        vectorizer = (self.vectorizers or {}).get(attribute)
        if vectorizer is None or not counts_add_up_over_tokens(vectorizer):
            return None
        counters = self.__dict__.setdefault("_counters", {})
        counter = counters.get(id(vectorizer))
        if counter is None or counter.vocabulary is not vectorizer.vocabulary_:
            counter = counters[id(vectorizer)] = _TokenCounter(vectorizer)
        return counter

    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        counter = self._counter(attribute)
        if counter is None:
            return super()._create_features(attribute, all_tokens)
        sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens:  # nothing to featurize
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            sequence, sentence = counter.features(tokens, with_sentence=attribute in DENSE_FEATURIZABLE_ATTRIBUTES)
            sequence_features.append(sequence)
            sentence_features.append(sentence)
        return sequence_features, sentence_features

