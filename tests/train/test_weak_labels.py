import numpy as np
import pandas as pd
import pytest

from cell_dino.train.weak_labels import WeakLabelIndex, check_label_leak

TABLE = pd.DataFrame(
    {
        "Metadata_Compound": ["a", "a", "a", "b", "c", "c"],
        "Metadata_MoA": ["x", "x", "x", "x", "y", "y"],
        "Metadata_MoACode": [1, 1, 1, 1, 2, 2],
    }
)


def test_partner_shares_the_label_and_differs_unless_alone() -> None:
    index = WeakLabelIndex(TABLE["Metadata_Compound"])
    rng = np.random.default_rng(0)
    partners = {i: {index.partner(i, rng) for _ in range(50)} for i in range(6)}
    assert partners[0] == {1, 2} and partners[4] == {5}
    assert partners[3] == {3}  # compound b has one image: its partner is itself
    assert index.singletons == 1


def test_balanced_weights_draw_every_label_equally() -> None:
    weights = WeakLabelIndex(TABLE["Metadata_Compound"]).balanced_weights()
    per_label = pd.Series(weights).groupby(TABLE["Metadata_Compound"]).sum()
    np.testing.assert_allclose(per_label.to_numpy(), [1.0, 1.0, 1.0])


def test_items_without_a_weak_label_are_their_own_partners_and_drawn_together_as_one_label() -> None:
    """HPA's Kaggle images have no antibody: each is its own partner, and balanced sampling draws
    them as often as one antibody (not each as often as a label)."""
    antibodies = pd.Series(["3064", "3064", None, "7", None, None], dtype="string")
    index = WeakLabelIndex(antibodies)
    rng = np.random.default_rng(0)
    assert [{index.partner(i, rng) for _ in range(30)} for i in range(6)] == [{1}, {0}, {2}, {3}, {4}, {5}]
    assert index.n_labels == 2 and index.singletons == 4  # antibody 7 alone, and the three unlabelled
    np.testing.assert_allclose(index.balanced_weights(), [0.5, 0.5, 1 / 3, 1.0, 1 / 3, 1 / 3])


def test_leak_guard() -> None:
    check_label_leak(TABLE, "Metadata_Compound", "Metadata_MoA", allow=False)  # many-to-one: WS-DINO's choice
    with pytest.raises(ValueError, match="determines the evaluation label"):
        check_label_leak(TABLE, "Metadata_MoA", "Metadata_MoA", allow=False)
    with pytest.raises(ValueError, match="one to one"):
        check_label_leak(TABLE, "Metadata_MoACode", "Metadata_MoA", allow=False)
    check_label_leak(TABLE, "Metadata_MoACode", "Metadata_MoA", allow=True)
    with pytest.raises(ValueError, match="'Metadata_Gene' absent"):
        check_label_leak(TABLE, "Metadata_Gene", "Metadata_MoA", allow=False)


def test_a_weak_label_no_item_has_is_named() -> None:
    """A Kaggle-only HPA set has no antibody: the leak check took the empty pairs as one to one."""
    table = pd.DataFrame({"Metadata_Antibody": [None, None], "Metadata_Location": ["a", "b"]})
    with pytest.raises(ValueError, match="weak label 'Metadata_Antibody' has no value on any item"):
        check_label_leak(table, "Metadata_Antibody", "Metadata_Location", allow=True)
