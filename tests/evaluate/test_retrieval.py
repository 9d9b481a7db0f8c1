"""mAP against hand-computed average precisions and copairs' own, ties scored by their expectation,
undefined designs; no cache in the home folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.core.undefined import Undefined
from cell_dino.evaluate.retrieval import phenotypic_activity, phenotypic_consistency

UNIT = {"q": (1.0, 0.0), "p": (0.6, 0.8), "n1": (0.9, 0.4359), "n2": (0.0, 1.0), "n3": (-1.0, 0.0)}


@pytest.fixture(autouse=True)
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return home


def _frame(names: list[str], **meta: list) -> pd.DataFrame:
    x = np.array([UNIT[n] for n in names])
    return pd.DataFrame({**meta, "f0": x[:, 0], "f1": x[:, 1]})


def test_phenotypic_activity_by_hand(empty_home: Path) -> None:
    profiles = _frame(
        ["q", "p", "n1", "n2", "n3"],
        Metadata_Treatment=["t", "t", "DMSO", "DMSO", "DMSO"],
        Metadata_Control=[False, False, True, True, True],
    )
    result = phenotypic_activity(profiles, null_size=2000, seed=0)
    # q ranks: n1 (0.90), p (0.60), ... -> AP 1/2; p ranks: n1 (0.889), n2 (0.80), q (0.60) -> AP 1/3
    assert result["Metadata_Treatment"].tolist() == ["t"]
    assert result["mean_average_precision"].iloc[0] == pytest.approx(5 / 12)
    assert 0 < result["p_value"].iloc[0] <= 1
    assert not any(empty_home.rglob("*")), "copairs wrote under the home folder"


def test_phenotypic_consistency_by_hand() -> None:
    profiles = _frame(["q", "p", "n1", "n2"], Metadata_Compound=list("abcd"), Metadata_MoA=["X", "X", "Y", "Y"])
    result = phenotypic_consistency(profiles, null_size=2000, seed=0).set_index("Metadata_MoA")
    # X: a -> c, b, d (AP 1/2); b -> c, d, a (AP 1/3). Y: c -> a, b, d (AP 1/3); d -> b, c (AP 1/2)
    assert result["mean_average_precision"].to_dict() == pytest.approx({"X": 5 / 12, "Y": 5 / 12})


def test_strong_replicates_are_active_and_noise_is_not() -> None:
    rng = np.random.default_rng(0)
    controls = rng.normal(size=(30, 16))
    strong = rng.normal(size=16) * 3 + rng.normal(size=(4, 16)) * 0.3
    noise = rng.normal(size=(4, 16))
    x = np.vstack([controls, strong, noise])
    meta = {"Metadata_Treatment": ["DMSO"] * 30 + ["strong"] * 4 + ["noise"] * 4, "Metadata_Control": [True] * 30 + [False] * 8}
    profiles = pd.concat([pd.DataFrame(meta), pd.DataFrame(x, columns=[f"f{j}" for j in range(16)])], axis=1)
    result = phenotypic_activity(profiles, null_size=5000, seed=0).set_index("Metadata_Treatment")
    assert result.loc["strong", "mean_average_precision"] == 1.0 and result.loc["strong", "below_corrected_p"]
    assert result.loc["noise", "mean_average_precision"] < 0.5 and not result.loc["noise", "below_corrected_p"]


def _random_profiles(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treatment = np.where(np.arange(n) % 10 == 0, "DMSO", (np.arange(n) // 4).astype(str))
    x = rng.normal(size=(n, 12)) + (np.arange(n) // 4 % 7)[:, None] * 0.3
    meta = pd.DataFrame(
        {
            "Metadata_Treatment": treatment,
            "Metadata_Control": treatment == "DMSO",
            "Metadata_Compound": treatment,
            "Metadata_MoA": [f"m{int(t) % 5}" if t != "DMSO" else None for t in treatment],
        }
    )
    return pd.concat([meta, pd.DataFrame(x).add_prefix("f")], axis=1)


def test_average_precisions_equal_copairs_where_no_similarities_tie() -> None:
    """copairs' own AP (it enumerates pairs) and ours (tie-aware, blocked) agree on continuous data
    (to 1e-4: similarities within 1e-6 of each other tie here)."""
    from copairs.map import average_precision

    profiles = _random_profiles(300, 4)
    x = profiles.filter(regex="^f").to_numpy()
    meta = profiles[["Metadata_Treatment", "Metadata_Control"]].assign(ref=np.where(profiles["Metadata_Control"], np.arange(300), -1))
    theirs = average_precision(
        meta,
        x,
        pos_sameby=["Metadata_Treatment", "ref"],
        pos_diffby=[],
        neg_sameby=[],
        neg_diffby=["Metadata_Treatment", "ref"],
        progress_bar=False,
    )
    theirs = theirs.loc[~theirs["Metadata_Control"]].groupby("Metadata_Treatment")["average_precision"].mean()
    ours = phenotypic_activity(profiles, null_size=200, seed=0).set_index("Metadata_Treatment")["mean_average_precision"]
    np.testing.assert_allclose(ours.sort_index().to_numpy(), theirs.sort_index().to_numpy(), rtol=1e-4)

    labelled = profiles[~profiles["Metadata_Control"]].reset_index(drop=True)
    theirs = (
        average_precision(
            labelled[["Metadata_MoA", "Metadata_Compound"]],
            labelled.filter(regex="^f").to_numpy(),
            pos_sameby=["Metadata_MoA"],
            pos_diffby=["Metadata_Compound"],
            neg_sameby=[],
            neg_diffby=["Metadata_MoA"],
            progress_bar=False,
        )
        .groupby("Metadata_MoA")["average_precision"]
        .mean()
    )
    ours = phenotypic_consistency(profiles, null_size=200, seed=0).set_index("Metadata_MoA")["mean_average_precision"]
    np.testing.assert_allclose(ours.sort_index().to_numpy(), theirs.sort_index().to_numpy(), rtol=1e-4)


def test_multilabel_consistency_equals_copairs_multilabel() -> None:
    from copairs.map import multilabel

    profiles = _random_profiles(120, 5)
    profiles = profiles[~profiles["Metadata_Control"]].reset_index(drop=True)
    profiles.loc[::3, "Metadata_MoA"] = profiles.loc[::3, "Metadata_MoA"] + "|m9"
    meta = profiles[["Metadata_MoA", "Metadata_Compound"]].assign(Metadata_MoA=profiles["Metadata_MoA"].str.split("|"))
    theirs = multilabel.average_precision(
        meta,
        profiles.filter(regex="^f").to_numpy(),
        pos_sameby=["Metadata_MoA"],
        pos_diffby=["Metadata_Compound"],
        neg_sameby=[],
        neg_diffby=["Metadata_MoA"],
        multilabel_col="Metadata_MoA",
        progress_bar=False,
    )
    theirs = theirs.groupby("Metadata_MoA")["average_precision"].mean()
    ours = phenotypic_consistency(profiles, null_size=200, seed=0).set_index("Metadata_MoA")["mean_average_precision"]
    np.testing.assert_allclose(ours.sort_index().to_numpy(), theirs.sort_index().to_numpy(), rtol=1e-4)


def _angles(degrees: list[float], **meta: list) -> pd.DataFrame:
    radians = np.deg2rad(degrees)
    return pd.DataFrame({**meta, "f0": np.cos(radians), "f1": np.sin(radians)})


def test_a_tie_between_a_positive_and_a_negative_scores_the_mean_of_both_orders() -> None:
    """q's replicate p2 and control n1 are equally similar to it: AP (1 + 5/6) / 2, not 1."""
    profiles = _angles(
        [0, 10, 60, 60, 170], Metadata_Treatment=["t", "t", "t", "DMSO", "DMSO"], Metadata_Control=[False, False, False, True, True]
    )
    from cell_dino.evaluate.average_precision import blocked_average_precision

    x = profiles[["f0", "f1"]].to_numpy()
    controls = profiles["Metadata_Control"].to_numpy()
    treated = np.array([0])

    def candidates(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.arange(5), np.array([[False, True, True, False, False]]), controls[None, :]

    ap = blocked_average_precision(x, candidates, treated)["average_precision"].iloc[0]
    # q ranks p1 (10 deg), then p2 and n1 tie (60 deg), then n2: orders give AP 1 and (1 + 2/3) / 2
    assert ap == pytest.approx((1 + 5 / 6) / 2)


def test_constant_features_score_at_chance_not_one() -> None:
    """Three replicates and two controls, every profile identical: each query ranks 2 positives
    among 4 tied candidates, whose expected AP over all orders is 49/72 (enumerated by hand)."""
    profiles = _frame(
        ["q", "q", "q", "q", "q"], Metadata_Treatment=["t", "t", "t", "DMSO", "DMSO"], Metadata_Control=[False, False, False, True, True]
    )
    result = phenotypic_activity(profiles, null_size=2000, seed=0)
    assert result["mean_average_precision"].iloc[0] == pytest.approx(49 / 72)
    assert result["p_value"].iloc[0] > 0.2 and not result["below_corrected_p"].iloc[0]


def test_zero_norm_profiles_take_no_part_and_none_left_is_undefined() -> None:
    profiles = _frame(["q", "p", "n1", "n2"], Metadata_Treatment=["t", "t", "DMSO", "DMSO"], Metadata_Control=[False, False, True, True])
    profiles[["f0", "f1"]] = 0.0
    with pytest.raises(Undefined, match="control"):
        phenotypic_activity(profiles, null_size=100)


@pytest.mark.parametrize(
    ("treatments", "moas", "compounds", "function", "message"),
    [
        (["a", "b", "DMSO", "DMSO"], ["X", "Y", None, None], ["a", "b", "DMSO", "DMSO"], "activity", "two replicates"),
        (["a", "a", "b", "b"], ["X", "X", "X", "X"], ["a", "a", "b", "b"], "consistency", "another MoA"),
        (["a", "a", "b", "b"], ["X", "X", "Y", "Y"], ["a", "a", "b", "b"], "consistency", "two compounds"),
    ],
)
def test_metrics_the_design_cannot_support_are_undefined(treatments, moas, compounds, function, message) -> None:
    """One well per treatment (no replicates), a single MoA, one compound per MoA."""
    profiles = _frame(
        ["q", "p", "n1", "n2"],
        Metadata_Treatment=treatments,
        Metadata_MoA=moas,
        Metadata_Compound=compounds,
        Metadata_Control=[t == "DMSO" for t in treatments],
    )
    compute = phenotypic_activity if function == "activity" else phenotypic_consistency
    with pytest.raises(Undefined, match=message):
        compute(profiles, null_size=100)
