"""Which texts look alike: stems in English and German, common words weigh less."""

from __future__ import annotations

from bridge.similarity import met, rank, rank_texts, terms, vector


def test_terms_fold_case_accents_plurals_and_stop_words() -> None:
    assert terms("The BIKES, the Bike!") == ["bik", "bik"]
    assert terms("Größere Räder für die Straße") == ["gross", "rad", "strass"]


def test_rank_prefers_shared_rare_words() -> None:
    candidates = [
        (1, vector(("Bike sharing for employees", 2))),
        (2, vector(("Parking for employees", 2))),
        (3, vector(("Lieferzeiten nach Österreich", 2))),
    ]
    ranked = rank(vector(("Company bikes for employees", 2)), candidates, 3, 0.3)
    assert [key for key, _ in ranked] == [1]
    german = rank(
        vector(("Wie lange dauert die Lieferzeit nach Österreich?", 1)), candidates, 3, 0.3
    )
    assert [key for key, _ in german] == [3]


def test_nothing_alike_gives_nothing() -> None:
    assert rank(vector(("", 1)), [(1, vector(("bikes", 1)))], 3, 0.3) == []
    assert rank(vector(("bikes", 1)), [], 3, 0.3) == []


def test_german_compounds_meet_their_parts() -> None:
    candidates = [
        (1, (("Fahrräder für Mitarbeitende", 2), ("Diensträder am Haupteingang", 1))),
        (2, (("Weihnachtsfeier planen", 2), ("Im Dezember", 1))),
        (3, (("Bike sharing for employees", 2), ("Ten company bikes", 1))),
    ]
    [match] = rank_texts((("Fahrradleasing", 2),), candidates, 3, 0.3)
    assert match.key == 1 and not match.by_words  # only its pieces meet "Fahrräder"
    [match] = rank_texts((("Dienstfahrräder für Mitarbeiter", 2),), candidates, 3, 0.3)
    assert match.key == 1  # "Mitarbeiter" and "Mitarbeitende" share their stem
    assert met({"dienstfahrrad", "mitarbeit"}, {"fahrrad", "mitarbeit", "dienstrad"}) == {
        "dienstfahrrad",
        "mitarbeit",
    }
    assert met({"employe", "lunch"}, {"bik", "employe"}) == {"employe"}
    [bikes] = rank_texts((("Company bikes for employees", 2),), candidates, 3, 0.3)
    assert bikes.key == 3 and bikes.by_words
    assert rank_texts((("Weihnachtsmarkt besuchen", 2),), candidates, 3, 0.3) == []


def test_snowball_stems_not_the_crude_ones() -> None:
    # issue 14: the hand-written stemmer made "lief", "int" and "app" of these
    assert terms("Lieferung Lieferungen") == ["liefer", "liefer"]
    assert terms("interest apply applies") == ["inter", "appli", "appli"]
    assert terms("parking parken") == ["park", "park"]
