import numpy as np
import pandas as pd
import pytest

from cell_dino.data.errors import ManifestError
from cell_dino.profile.heterogeneity import annotated_variable, group_spread, ranked_groups, top_k_curve
from tests.projects import SHARED_DATA


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


def test_hpa_genes_annotated_with_single_cell_variation_rank_the_genes() -> None:
    """HPA's subcellular-location table: 3,193 of 13,041 genes carry a single-cell variation
    (intensity or spatial; awk over the TSV's columns 11 and 12 counts the same); TSPAN6
    (ENSG00000000003: intensity, cytosol) is one, SCYL3 (ENSG00000000457) is not. The rank
    node reads it from profile.heterogeneity.annotation and draws the top-k curve against it."""
    columns = ["Single-cell variation intensity", "Single-cell variation spatial"]
    variable = annotated_variable(SHARED_DATA / "hpa" / "hpa_subcellular_location.tsv", "Gene", columns)
    assert len(variable) == 3193 and "ENSG00000000003" in variable and "ENSG00000000457" not in variable
    rng = np.random.default_rng(0)
    genes = {"ENSG00000000003": 3.0, "ENSG00000000457": 0.3, "ENSG00000001084": 2.0, "ENSG00000000460": 0.5}
    items = pd.concat(
        [pd.DataFrame(rng.normal(0, s, (40, 6)), columns=[f"f{i}" for i in range(6)]).assign(Metadata_Gene=g) for g, s in genes.items()]
    )
    ranking, curve = ranked_groups(items, ["Metadata_Gene"], 6, 5, variable)
    assert ranking["Metadata_Gene"].tolist()[:2] == ["ENSG00000000003", "ENSG00000001084"]  # the two variable genes first
    assert curve["precision"].tolist()[:2] == [1.0, 1.0] and curve["recall"].tolist()[1] == 1.0
    with pytest.raises(ManifestError, match=r"required column\(s\) absent: \['Single-cell variation'\]"):
        annotated_variable(SHARED_DATA / "hpa" / "hpa_subcellular_location.tsv", "Gene", ["Single-cell variation"])


def test_items_without_a_group_value_are_left_out_of_the_ranking() -> None:
    rng = np.random.default_rng(0)
    items = pd.DataFrame(rng.normal(size=(30, 4)), columns=list("abcd")).assign(Metadata_Antibody=["x"] * 10 + ["y"] * 10 + [None] * 10)
    assert sorted(group_spread(items, ["Metadata_Antibody"], 4, 5)["Metadata_Antibody"]) == ["x", "y"]
    with pytest.raises(ValueError, match=r"no item has a value in \['Metadata_Antibody'\]"):
        group_spread(items.assign(Metadata_Antibody=None), ["Metadata_Antibody"], 4, 5)
