"""Words and token counts shared by chunking, the hashing embedder and full-text queries.

Token counts are an approximation: every run of letters or digits and every other
non-space character counts as one token. Vendor tokenizers (BPE) split long or rare
words further and land near 1.3 tokens per counted token for English prose, so a chunk
of N counted tokens is roughly 1.3 N model tokens. Exact counts would need a tokenizer
per model and, for most, a download; chunk sizes do not need that precision.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"[^\W_]+|[^\w\s]|_", re.UNICODE)
WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words too common to say what a text is about; full-text queries and the hashing
# embedder skip them (PostgreSQL's english configuration drops its own list).
_STOPWORD_LIST = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_LIST.split())


def count_tokens(text: str) -> int:
    """The approximate token count described in the module docstring."""
    return sum(1 for _ in TOKEN.finditer(text))


def content_words(text: str) -> list[str]:
    """Lower-cased words in order, stopwords left out: what a text is about."""
    return [word for word in WORD.findall(text.lower()) if word not in STOPWORDS]
