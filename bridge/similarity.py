"""Which texts look alike: Snowball word stems (German and English), TF-IDF weighted cosine.

Shared by the similar-idea offer of ``/idea`` and the similar-question offer of ``/ask``.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter as Bag
from collections.abc import Hashable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = ["Match", "met", "pieces", "rank", "rank_texts", "terms", "vector"]

K = TypeVar("K", bound=Hashable)

_STOP = frozenset(
    """
    a about after all also an and any are as at be because been but by can could do does
    for from get had has have how i if in into is it its just let lets like make may me
    more most my new no not now of on one or our out over please should so some such than
    that the their them then there these they this to too up us use used using via want
    was we were what when where which while who why will with would you your
    ab aber alle allem allen aller alles als also am an auch auf aus bei beim bin bis bitte
    da damit dann das dass dem den denn der des die dies diese diesem diesen dieser doch
    dort du durch ein eine einem einen einer eines es etwa euch fur gibt hat hatte haben
    hier ich ihr im in ins ist ja jede jeden jeder jedes kann kein keine konnen konnte man
    mehr mit muss mussen nach neue neuen neuer nicht noch nun nur ob oder ohne sehr sein
    seine sich sie sind so soll sollen sollte statt uber um und uns unser unsere unter viel
    vom von vor wann war warum was weil welche wenn wer werden wie wir wird wo zu zum zur
    """.split()
)


_local = threading.local()


def _stemmers() -> tuple[Any, Any]:
    """This thread's stemmers: a Snowball stemmer keeps the word it works on, so two
    threads (the loop and a ranking in a worker) never share one."""
    pair: tuple[Any, Any] | None = getattr(_local, "stemmers", None)
    if pair is None:
        import snowballstemmer

        pair = _local.stemmers = (
            snowballstemmer.stemmer("german"),
            snowballstemmer.stemmer("english"),
        )
    return pair


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Snowball's English stem, stemmed again by Snowball's German: one stem for a word's
    forms in either language ("Lieferungen" and "Lieferung" "liefer", "quarterly" and
    "quarter" "quart", "applies" and "apply" "appli", "parking" and "parken" "park")."""
    german, english = _stemmers()
    return str(german.stemWord(english.stemWord(word)))


def terms(text: str) -> list[str]:
    """Lowercase word stems without accents, stop words or very short words."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    words = re.findall(r"[^\W_]+", plain)
    return [_stem(w) for w in words if len(w) >= 3 and w not in _STOP and not w.isdigit()]


Stemmed = Sequence[tuple[list[str], int]]
"""Texts as their stems, with their weights: stemmed once, then bagged both ways."""


def _stemmed(weighted: Sequence[tuple[str, int]]) -> list[tuple[list[str], int]]:
    return [(terms(text), weight) for text, weight in weighted]


def vector(*weighted: tuple[str, int]) -> Bag[str]:
    """A bag of stems: ``vector((title, 2), (description, 1))`` counts title words twice."""
    return _vector(_stemmed(weighted))


def _vector(stemmed: Stemmed) -> Bag[str]:
    bag: Bag[str] = Bag()
    for stems, weight in stemmed:
        for term in stems:
            bag[term] += weight
    return bag


GRAM = 4
GRAM_MIN_WORD = 7
GRAM_SHARE = 6.0


def pieces(*weighted: tuple[str, int]) -> dict[str, float]:
    """Stems plus the 4-letter pieces of long words, so German compounds meet their parts:
    "Dienstfahrräder" finds "Fahrräder" and "Diensträder", "Fahrradleasing" "Fahrrad".

    A word's pieces together weigh six words (tuned on English and German examples with
    the Snowball stems: fewer miss "Fahrradleasing"; that "Weihnachtsmarkt" is not like
    "Weihnachtsfeier" is left to the rule that two of the query's words must meet).
    """
    return _pieces(_stemmed(weighted))


def _pieces(stemmed: Stemmed) -> dict[str, float]:
    bag: dict[str, float] = {}
    for stems, weight in stemmed:
        for term in stems:
            bag[term] = bag.get(term, 0.0) + weight
            if len(term) >= GRAM_MIN_WORD:
                grams = [term[i : i + GRAM] for i in range(len(term) - GRAM + 1)]
                for gram in grams:
                    key = "#" + gram
                    bag[key] = bag.get(key, 0.0) + weight * GRAM_SHARE / len(grams)
    return bag


def rank(
    query: Mapping[str, float],
    candidates: Sequence[tuple[K, Mapping[str, float]]],
    limit: int,
    threshold: float,
) -> list[tuple[K, float]]:
    """Candidates most like ``query``, best first, at most ``limit``, cosine >= threshold.

    TF-IDF weighted cosine similarity: words that many candidates share weigh less, so one
    common word ("employees", "delivery") alone does not make two texts alike.
    """
    if not query or not candidates:
        return []
    n = len(candidates) + 1
    df: Bag[str] = Bag()
    for _key, vec in candidates:
        df.update(vec.keys())
    df.update(query.keys())

    def weigh(vec: Mapping[str, float]) -> dict[str, float]:
        return {t: c * (math.log((n + 1) / (df[t] + 0.5)) + 1.0) for t, c in vec.items()}

    q = weigh(query)
    q_norm = math.sqrt(sum(v * v for v in q.values()))
    scored: list[tuple[K, float]] = []
    for key, vec in candidates:
        shared = q.keys() & vec.keys()
        if not shared:
            continue
        w = weigh(vec)
        norm = math.sqrt(sum(v * v for v in w.values()))
        cosine = sum(q[t] * w[t] for t in shared) / (q_norm * norm)
        if cosine >= threshold:
            scored.append((key, cosine))
    scored.sort(key=lambda item: -item[1])
    return scored[:limit]


class Match(NamedTuple, Generic[K]):
    key: K
    score: float
    by_words: bool
    """True when the words alone are this alike; False when only word pieces are."""


def rank_texts(
    query: Sequence[tuple[str, int]],
    candidates: Sequence[tuple[K, Sequence[tuple[str, int]]]],
    limit: int,
    threshold: float,
) -> list[Match[K]]:
    """Rank weighted texts by the better of two scores: whole words, and words with the
    pieces of long words (compounds). Adding pieces never lowers what words found. A
    candidate must meet two of the query's words (one, for a one-word query)."""
    asking = _stemmed(query)
    stemmed = [(k, _stemmed(f)) for k, f in candidates]  # each text stemmed once
    asked = {t for stems, _w in asking for t in stems}
    words = {k: {t for stems, _w in f for t in stems} for k, f in stemmed}
    enough = min(2, len(asked))
    n = len(candidates)
    by_words = dict(rank(_vector(asking), [(k, _vector(f)) for k, f in stemmed], n, threshold))
    by_pieces = dict(rank(_pieces(asking), [(k, _pieces(f)) for k, f in stemmed], n, threshold))
    order = {key: i for i, (key, _fields) in enumerate(candidates)}
    # one shared word is chance (unless the query is one word); a compound meeting its
    # part counts as a shared word
    found = [
        Match(key, max(by_words.get(key, 0.0), by_pieces.get(key, 0.0)), key in by_words)
        for key in by_words.keys() | by_pieces.keys()
        if len(met(asked, words[key])) >= enough
    ]
    found.sort(key=lambda m: (-m.score, order[m.key]))
    return found[:limit]


def _grams(word: str) -> set[str]:
    return {word[i : i + GRAM] for i in range(len(word) - GRAM + 1)}


def met(query: set[str], candidate: set[str]) -> set[str]:
    """The query's stems that meet the candidate: the same stem, or a long word sharing
    at least two 4-letter pieces with one of the candidate's (a compound and its part:
    "fahrradleasing" meets "fahrrad")."""
    found = query & candidate
    pieces_there = set().union(*(_grams(w) for w in candidate if len(w) >= GRAM_MIN_WORD))
    for word in query - candidate:
        if len(word) >= GRAM_MIN_WORD and len(_grams(word) & pieces_there) >= 2:
            found.add(word)
    return found
