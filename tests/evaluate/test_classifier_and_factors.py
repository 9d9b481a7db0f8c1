"""MLP classifier (grouped splits, macro-F1, confusion) and MI factor analysis on planted data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.core.undefined import Undefined
from cell_dino.evaluate.classifier import ClassifierConfig, Dropout, balanced_weights, cross_validate
from cell_dino.evaluate.factors import discretise, factor_shares, mutual_information

FAST = ClassifierConfig(hidden=(32, 16), epochs=30, n_splits=2, batch_size=32)


def _planted(rng: np.random.Generator, labels_per_compound: list[str], n: int = 40, scale: float = 4.0) -> pd.DataFrame:
    classes = sorted({c for label in labels_per_compound for c in label.split("|")})
    centres = {c: rng.normal(size=8) * scale for c in classes}
    rows = []
    for compound, label in enumerate(labels_per_compound):
        centre = sum(centres[c] for c in label.split("|"))
        for x in centre + rng.normal(size=(n, 8)):
            rows.append({"Metadata_Compound": f"c{compound}", "Metadata_MoA": label, **{f"f{j}": v for j, v in enumerate(x)}})
    return pd.DataFrame(rows)


def test_mlp_learns_planted_classes_with_compounds_never_split() -> None:
    profiles = _planted(np.random.default_rng(0), ["A", "A", "B", "B", "C", "C"])
    result = cross_validate(profiles, config=FAST)
    assert result.macro_f1 > 0.95
    assert result.predictions.groupby("Metadata_Compound")["fold"].nunique().max() == 1
    assert result.confusion.to_numpy().sum() == len(profiles) and list(result.confusion.index) == ["A", "B", "C"]
    assert np.trace(result.confusion.to_numpy()) == (result.predictions["label"] == result.predictions["prediction"]).sum()


def test_a_class_of_a_single_compound_is_left_out_not_scored_zero() -> None:
    """BBBC021's Eg5 inhibitors-like classes of one compound were always tested unseen: F1 0 pulled macro-F1 down."""
    profiles = _planted(np.random.default_rng(0), ["A", "A", "B", "B", "C", "C", "D"])
    result = cross_validate(profiles, config=FAST)
    assert result.left_out == ["D"] and result.classes == ["A", "B", "C"] and "D" not in set(result.predictions["label"])
    assert result.macro_f1 > 0.95


def test_mlp_on_labels_unrelated_to_the_features_is_near_chance() -> None:
    profiles = _planted(np.random.default_rng(1), ["A", "A", "B", "B", "C", "C"], scale=0.0)
    assert cross_validate(profiles, config=FAST).macro_f1 < 0.6


def test_multilabel_mlp_predicts_label_sets() -> None:
    profiles = _planted(np.random.default_rng(2), ["A", "A", "B", "B", "A|B", "A|B"])
    result = cross_validate(profiles, config=FAST)
    assert result.confusion is None and result.classes == ["A", "B"]
    assert result.macro_f1 > 0.9
    assert set(result.predictions["prediction"]) <= {"A", "B", "A|B", ""}


def test_dropout_zeroes_a_share_p_and_keeps_the_expectation_as_nn_dropout_does() -> None:
    x = torch.full((400, 500), 3.0)
    dropout = Dropout(0.3).train()
    y = dropout(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.3, abs=0.005)  # 200,000 draws: sd 0.001
    assert torch.unique(y).tolist() == [0.0, pytest.approx(3.0 / 0.7)]
    assert y.mean().item() == pytest.approx(3.0, abs=0.02)
    assert torch.equal(dropout.eval()(x), x)


def test_balanced_weights_give_each_class_the_same_mass() -> None:
    y = np.array([0, 0, 0, 1])
    weights = balanced_weights(y, multilabel=False)
    assert weights[y == 0].sum() == pytest.approx(weights[y == 1].sum())


def _mi_by_hand(a: np.ndarray, b: np.ndarray) -> float:
    joint = pd.crosstab(a, b).to_numpy() / len(a)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def test_mutual_information_matches_the_formula_and_assigns_planted_factors() -> None:
    rng = np.random.default_rng(3)
    n = 600
    moa, batch = rng.integers(0, 3, n), rng.integers(0, 2, n)
    profiles = pd.DataFrame(
        {
            "Metadata_MoA": moa.astype(str),
            "Metadata_Batch": batch.astype(str),
            "f_moa": moa * 2.0 + rng.normal(size=n) * 0.3,
            "f_moa2": -moa + rng.normal(size=n) * 0.3,
            "f_batch": batch * 3.0 + rng.normal(size=n) * 0.3,
            "f_noise": rng.normal(size=n),
        }
    )
    information = mutual_information(profiles, ["Metadata_MoA", "Metadata_Batch"], bins=5)
    assert information.loc["f_moa", "Metadata_MoA"] == pytest.approx(_mi_by_hand(moa, discretise(profiles["f_moa"].to_numpy(), 5)))
    assert information.loc["f_noise"].max() < 0.02
    shares = factor_shares(information.drop(index="f_noise")).set_index("factor")
    assert shares.loc["Metadata_MoA", "n_features"] == 2 and shares.loc["Metadata_Batch", "share"] == pytest.approx(1 / 3)
    assert np.bincount(discretise(np.arange(100.0), 4)).tolist() == [25, 25, 25, 25]


def test_mutual_information_of_every_feature_equals_sklearns_per_feature_score() -> None:
    """The vectorised estimate against sklearn's mutual_info_score, feature by feature (ties, a
    constant feature, a factor with an absent row and unequal bins included)."""
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(8)
    n, factor = 97, rng.choice(["a", "b", "c", "d"], 97).astype(object)
    factor[5] = None
    values = np.column_stack([rng.normal(size=n), rng.integers(0, 3, n), np.ones(n), np.repeat(np.arange(2.0), [90, 7])])
    profiles = pd.DataFrame(values, columns=["f_0", "f_1", "f_2", "f_3"]).assign(Metadata_MoA=factor)
    information = mutual_information(profiles, ["Metadata_MoA"], bins=7)["Metadata_MoA"]
    rows = pd.notna(factor)
    codes = pd.factorize(factor[rows])[0]
    expected = [mutual_info_score(codes, discretise(values[rows, j], 7)) for j in range(4)]
    np.testing.assert_allclose(information.to_numpy(), expected, rtol=1e-12, atol=1e-15)
    assert information["f_2"] == 0.0 and information["f_0"] > 0


def test_constant_features_are_informative_about_no_factor() -> None:
    """argmax over an all-zero row picked the first factor: constant features counted as MoA."""
    profiles = pd.DataFrame(
        {"Metadata_MoA": list("aabb") * 5, "Metadata_Batch": list("abab") * 5, "f_const": 1.0, "f_moa": [0, 0, 1, 1] * 5}
    )
    shares = factor_shares(mutual_information(profiles, ["Metadata_MoA", "Metadata_Batch"], bins=2)).set_index("factor")
    assert shares["n_features"].to_dict() == {"Metadata_MoA": 1, "Metadata_Batch": 0, "none": 1}


@pytest.mark.parametrize(
    ("compounds", "labels", "message"),
    [
        (["c0"] * 4, list("ABAB"), "at least 2 classes of Metadata_MoA with items of 2 Metadata_Compound values"),  # both classes left out
        (["c0"] * 4, ["A|B", "A", "A|B", "B"], "2 distinct Metadata_Compound"),  # multi-label: nothing left out, nothing to split
        (["c0", "c1"] * 2, ["A"] * 4, "2 classes"),
    ],
)
def test_a_split_the_design_cannot_support_is_undefined(compounds: list[str], labels: list[str], message: str) -> None:
    profiles = pd.DataFrame({"Metadata_Compound": compounds, "Metadata_MoA": labels, "f0": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(Undefined, match=message):
        cross_validate(profiles, config=FAST)


def test_items_without_a_group_keep_their_field_together_so_nothing_leaks_across_folds() -> None:
    """HPA's Kaggle images have no antibody. Each cell was its own group: the cells of one image
    fell in both folds, and labels drawn at random per image scored macro-F1 1.0 (the image, not the
    label, was learned). Grouped by field they are near chance."""
    rng = np.random.default_rng(0)
    rows = []
    for image in range(24):
        centre, label = rng.normal(size=8) * 4, "ABC"[rng.integers(3)]
        rows += [
            {
                "Metadata_FOV": f"img{image}",
                "Metadata_Antibody": None,
                "Metadata_Location": label,
                **dict(zip([f"f{j}" for j in range(8)], x)),
            }
            for x in centre + rng.normal(size=(10, 8))
        ]
    result = cross_validate(pd.DataFrame(rows), "Metadata_Location", "Metadata_Antibody", FAST)
    assert result.predictions.groupby(result.predictions["Metadata_Antibody"])["fold"].nunique().max() == 1
    assert result.predictions["Metadata_Antibody"].nunique() == 24 and result.macro_f1 < 0.6


def test_a_factor_without_two_values_is_undefined() -> None:
    items = pd.DataFrame({"f0": [0.0, 1.0, 2.0, 3.0], "Metadata_Plate": [None] * 4, "Metadata_MoA": list("abab")})
    with pytest.raises(Undefined, match="factor Metadata_Plate has 0 value"):
        mutual_information(items, ["Metadata_MoA", "Metadata_Plate"])
