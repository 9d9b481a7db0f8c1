import optuna
import pandas as pd
import pytest

from cell_dino.sweep.space import Dimension, apply, check_space, overrides, suggest
from cell_dino.sweep.split import validation_split
from cell_dino.train.train_config import TrainConfig


def test_dotted_paths_set_fields_and_tuple_elements() -> None:
    config = apply(TrainConfig(), {"augment.brightness_p": 0.1, "augment.local_crops.scale.1": 0.33, "augment.local_crops.number": 3})
    assert config.augment.brightness_p == 0.1 and config.augment.local_crops.number == 3
    assert config.augment.local_crops.scale == (TrainConfig().augment.local_crops.scale[0], 0.33)
    assert TrainConfig().augment.brightness_p != 0.1  # the original is untouched


def test_overrides_give_whole_tuples_for_a_parameter_file() -> None:
    out = overrides(TrainConfig(), {"augment.global_crops.scale.0": 0.5, "augment.warp": "elastic"})
    assert out == {"augment": {"global_crops": {"scale": [0.5, TrainConfig().augment.global_crops.scale[1]]}, "warp": "elastic"}}


def test_unknown_paths_and_bad_dimensions_fail_before_any_trial() -> None:
    with pytest.raises(ValueError, match="no field 'brightnes'"):
        check_space(TrainConfig(), {"augment.brightnes": Dimension(low=0, high=1)})
    with pytest.raises(ValueError, match="not an index"):
        check_space(TrainConfig(), {"augment.local_crops.scale.2": Dimension(low=0, high=1)})
    with pytest.raises(ValueError, match="low <= high"):
        Dimension(low=1, high=0)


def test_suggestions_stay_in_their_ranges() -> None:
    space = {
        "a": Dimension(low=0.2, high=0.4),
        "n": Dimension(type="int", low=2, high=4),
        "w": Dimension(type="categorical", choices=["none", "elastic"]),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        values = suggest(study.ask(), space)
        assert 0.2 <= values["a"] <= 0.4 and values["n"] in (2, 3, 4) and values["w"] in ("none", "elastic")


def test_validation_split_holds_out_whole_labels_and_never_the_controls() -> None:
    table = pd.DataFrame(
        {
            "Metadata_MoA": ["A", "A", "B", "B", "C", "C", "D", "DMSO"],
            "Metadata_Compound": ["a1", "a2", "b1", "b2", "c1", "c2", "d1", "DMSO"],
        }
    )
    split = validation_split(table, "Metadata_MoA", "Metadata_Compound", 0.5, ["DMSO"], seed=0)
    assert len(split.validation_labels) == 2 and set(split.validation_labels) <= {"A", "B", "C"}  # D has one compound
    assert set(split.validation_labels) | set(split.test_labels) == {"A", "B", "C", "D"}
    assert not set(split.validation_groups) & set(split.test_groups) and "DMSO" not in split.validation_groups + split.test_groups
    rows = split.validation_rows(table)
    assert set(table["Metadata_MoA"].iloc[rows]) == set(split.validation_labels)
    with pytest.raises(ValueError, match="two Metadata_MoA values"):
        validation_split(table.iloc[[0, 1, 6, 7]], "Metadata_MoA", "Metadata_Compound", 0.5, ["DMSO"], seed=0)
