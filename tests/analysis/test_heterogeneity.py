import numpy as np
import pandas as pd
import pytest

from cell_dino.analysis.heterogeneity import group_spread, top_k_curve


def test_groups_are_ranked_by_their_planted_spread() -> None:
    rng = np.random.default_rng(0)
    spreads = {"g0": 0.2, "g1": 1.0, "g2": 3.0, "g3": 0.5}
    frames = [
        pd.DataFrame(rng.normal(0, s, (100, 8)), columns=[f"f{i}" for i in range(8)]).assign(Metadata_Well=g) for g, s in spreads.items()
    ]
    table = pd.concat(frames + [pd.DataFrame(np.zeros((2, 8)), columns=[f"f{i}" for i in range(8)]).assign(Metadata_Well="tiny")])
    ranking = group_spread(table, ["Metadata_Well"], n_components=8, min_items=5)
    assert ranking["Metadata_Well"].tolist() == ["g2", "g1", "g3", "g0"]  # "tiny" (2 cells) left out
    assert ranking["rank"].tolist() == [1, 2, 3, 4]


def test_top_k_curve_by_hand() -> None:
    ranking = pd.DataFrame({"gene": ["a", "b", "c", "d"]})
    curve = top_k_curve(ranking, ["gene"], {"a", "c"})
    assert curve["precision"].tolist() == pytest.approx([1, 1 / 2, 2 / 3, 2 / 4])
    assert curve["recall"].tolist() == pytest.approx([1 / 2, 1 / 2, 1, 1])
    with pytest.raises(ValueError, match="none of the annotated"):
        top_k_curve(ranking, ["gene"], {"z"})
