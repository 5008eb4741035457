"""A from-scratch model's stand-in text encoder: fixed random embeddings, per prompt or per word."""

from __future__ import annotations

import pytest
import torch

from diception.errors import DiceptionInputError
from diception.training.model_init import random_prompt_cache


def test_word_embeddings_are_shared_by_prompts_that_share_words():
    cache = random_prompt_cache(["box:1:left ball:2:right", "ball:2:right", "[[image2semantic]] ball"], 6, 8, 4,
                                embedding="words")  # fmt: skip
    (two, one, other), pooled = cache.lookup(["box:1:left ball:2:right", "ball:2:right", "[[image2semantic]] ball"])
    torch.testing.assert_close(two[1], one[0])  # the same word, the same row wherever it stands
    assert torch.count_nonzero(two[2:]) == 0 and torch.count_nonzero(one[1:]) == 0  # rows past the words: zero
    assert not torch.equal(other[1], one[0])  # "ball" and "ball:2:right" are different words
    again = random_prompt_cache(["ball:2:right"], 6, 8, 4, embedding="words").lookup(["ball:2:right"])
    torch.testing.assert_close(again[0][0], one)  # independent of the other prompts cached


def test_whole_prompt_embeddings_differ_between_prompts_and_do_not_depend_on_the_others():
    cache = random_prompt_cache(["a b", "b"], 4, 8, 4)
    (ab, b), _ = cache.lookup(["a b", "b"])
    assert torch.count_nonzero(ab[1:]) > 0 and not torch.equal(ab[1], b[0])
    torch.testing.assert_close(random_prompt_cache(["b"], 4, 8, 4).lookup(["b"])[0][0], b)


def test_a_prompt_longer_than_the_rows_and_an_unknown_scheme_are_named():
    with pytest.raises(DiceptionInputError, match="prompt_length"):
        random_prompt_cache(["a b c"], 2, 8, 4, embedding="words")
    with pytest.raises(DiceptionInputError, match="prompt_embedding"):
        random_prompt_cache(["a"], 2, 8, 4, embedding="letters")
