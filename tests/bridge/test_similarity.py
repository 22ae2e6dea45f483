"""Which texts look alike: stems in English and German, common words weigh less."""

from __future__ import annotations

from bridge.similarity import rank, terms, vector


def test_terms_fold_case_accents_plurals_and_stop_words() -> None:
    assert terms("The BIKES, the Bike!") == ["bik", "bik"]
    assert terms("Größere Räder für die Straße") == ["gross", "rad", "stras"]


def test_rank_prefers_shared_rare_words() -> None:
    candidates = [
        (1, vector(("Bike sharing for employees", 2))),
        (2, vector(("Parking for employees", 2))),
        (3, vector(("Lieferzeiten nach Österreich", 2))),
    ]
    ranked = rank(vector(("Company bikes for employees", 2)), candidates, 3, 0.3)
    assert [key for key, _ in ranked] == [1]
    german = rank(vector(("Wie lange dauert die Lieferzeit nach Österreich?", 1)),
                  candidates, 3, 0.3)
    assert [key for key, _ in german] == [3]


def test_nothing_alike_gives_nothing() -> None:
    assert rank(vector(("", 1)), [(1, vector(("bikes", 1)))], 3, 0.3) == []
    assert rank(vector(("bikes", 1)), [], 3, 0.3) == []
