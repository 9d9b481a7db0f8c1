import numpy as np
import pandas as pd
import pytest

from cell_dino.profile.profile_similarity import cosine_similarity, group_profiles, keep_top_share, ordered


def profiles() -> pd.DataFrame:
    rows = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 0.1], "d": [0.1, 1.0]}
    return pd.DataFrame(
        [
            {"Metadata_Treatment": t, "Metadata_MoA": "x" if t in "ac" else "y", "f0": v[0], "f1": v[1]}
            for t, v in rows.items()
            for _ in range(2)
        ]
    )


def test_cosine_similarity_by_hand_and_cluster_order_puts_similar_groups_together() -> None:
    similarity = cosine_similarity(group_profiles(profiles(), ["Metadata_Treatment"]), ["Metadata_Treatment"])
    assert similarity.loc["a", "b"] == pytest.approx(0.0)
    assert similarity.loc["a", "c"] == pytest.approx(1 / np.sqrt(1.01))
    order = ordered(similarity, "cluster").index.tolist()
    assert abs(order.index("a") - order.index("c")) == 1 and abs(order.index("b") - order.index("d")) == 1


def test_annotation_order_and_top_share() -> None:
    similarity = cosine_similarity(group_profiles(profiles(), ["Metadata_Treatment"]), ["Metadata_Treatment"])
    annotation = pd.Series({"a": "x", "b": "y", "c": "x", "d": "y"})
    assert ordered(similarity, "annotation", annotation).index.tolist() == ["a", "c", "b", "d"]
    kept = keep_top_share(similarity.iloc[:3, :3], 2 / 3)  # a, b, c: a and c are the most similar to the rest
    assert kept.index.tolist() == ["a", "c"]
    with pytest.raises(ValueError, match="top share"):
        keep_top_share(similarity, 0.0)


def test_fewer_than_two_groups_are_undefined() -> None:
    from cell_dino.core.undefined import Undefined
    from cell_dino.profile.profile_similarity import similarity_table

    profiles = pd.DataFrame({"Metadata_Antibody": [None, None, "a"], "f0": [1.0, 2.0, 3.0]})
    with pytest.raises(Undefined, match=r"1 group\(s\) with a value; 2 are needed"):
        similarity_table(profiles, ["Metadata_Antibody"], "none")
    with pytest.raises(Undefined, match=r"needs the column\(s\) \['Metadata_CellLine'\]"):
        similarity_table(profiles, ["Metadata_CellLine"], "none")
