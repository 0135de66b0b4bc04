"""The simulator: realistic per-country figures, messy values, random ids, COPY-loaded sources."""
from pisa.config import COUNTRIES
from pisa.sources.generate import RowGenerator, filler_column_names
from tests.ground_truth import source_bad_values, source_figures

# DESIGN section 1: ranges of the country means in PISA 2018.
MEAN_RANGES = {"escs": (-1.5, 1.0), "tmins": (1400, 1900), "belong": (-0.4, 0.55), "durecec": (1.5, 3.7)}


def test_country_means_are_realistic_and_differ_between_countries(make_env):
    env = make_env(sources=COUNTRIES, rows=1500, seed=42, filler_columns=2)
    figures = source_figures(env)
    assert sorted(figures) == list(COUNTRIES)
    means = {c: {} for c in COUNTRIES}
    for country, (rows, *pairs) in figures.items():
        assert rows == 1500
        for i, index in enumerate(MEAN_RANGES):
            total, present = pairs[2 * i], pairs[2 * i + 1]
            assert 0.88 * rows < present < rows           # about 6% 'NA'
            means[country][index] = float(total / present)
    outside = [(c, i, round(m[i], 3)) for c, m in means.items() for i, (low, high) in MEAN_RANGES.items()
               if not low <= m[i] <= high]
    assert outside == []
    assert means["DNK"]["escs"] - means["BRA"]["escs"] > 1.2   # countries are not uniform noise


def test_initial_rows_have_no_malformed_values_but_simulated_writes_do(env):
    from pisa.sources.writer import Simulator
    assert source_bad_values(env) == set()
    simulator = Simulator(env.settings, rate=0, bad_share=0.5, seed=9)
    simulator.write_rows(200)
    simulator.close()
    bad = source_bad_values(env)
    assert simulator.stats.malformed > 50
    assert {column for _, _, column, _ in bad} == {"cnt", "escs", "tmins", "belong", "durecec"}


def test_rows_are_reproducible_from_a_seed():
    import random
    first = RowGenerator("ALB", random.Random(5), 4, bad_share=0.2)
    second = RowGenerator("ALB", random.Random(5), 4, bad_share=0.2)
    assert [first.row(i) for i in range(50)] == [second.row(i) for i in range(50)]
    assert filler_column_names(3) == ["st001q01ta", "st001q02ta", "st001q03ta"]


def test_pause_holds_the_sources_still(env):
    import threading
    import time
    from pisa.sources.writer import Simulator
    simulator = Simulator(env.settings, rate=200, seed=1)
    simulator.pause()
    thread = threading.Thread(target=simulator.run, kwargs={"seconds": 1.0})
    thread.start()
    time.sleep(0.5)
    assert simulator.stats.total == 0
    simulator.resume()
    thread.join()
    assert simulator.stats.total > 20
