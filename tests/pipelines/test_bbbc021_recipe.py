"""Every value of WS-DINO's published recipe (Cross-Zamirski et al. 2022, section 3.4) on the
resolved ``bbbc021`` parameters: what ``kedro run -e bbbc021 --params root=...`` gives the nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.pipelines.ingest.params import IngestParams
from cell_dino.pipelines.integrate.params import IntegrateParams
from cell_dino.pipelines.params import load_parameters
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.train.schedules import Schedules
from tests.projects import REPO

RUNTIME = {"root": "/data/BBBC021"}


def resolved(name: str, model: type, **runtime: str):
    return load_parameters(name, model, REPO, "bbbc021", runtime_params=RUNTIME | runtime)


def test_preprocessing_is_the_papers() -> None:
    p = resolved("ingest", IngestParams)
    assert str(p.source.root) == "/data/BBBC021" and p.source.adapter == "bbbc021"
    pre = p.preprocess
    assert pre.illumination and pre.smoothing == "gaussian"
    assert pre.smoothing_sigma * 2.35 == pytest.approx(320, abs=0.01)  # CellProfiler's filter size 320 px
    assert pre.resize_to == (512, 640) and pre.downscale == 1  # bicubic to 640 x 512
    assert pre.clip_max == 10000 and pre.per_image_zscore


def test_models_crops_and_flips_are_the_papers() -> None:
    p = resolved("train_wsdino", TrainingParams)
    assert p.unit == "fov" and p.mode == "per_channel"
    assert p.weak_labels.label == "Metadata_Compound" and p.weak_labels.balanced
    t = p.train
    assert (t.backbone.arch, t.backbone.patch_size, t.backbone.depth) == ("vit_small", 8, None)
    assert t.init is None  # documented fallback without the weights file
    assert (
        resolved("train_wsdino", TrainingParams, dino_weights="/w/dino_deitsmall8_pretrain.pth").train.init
        == "/w/dino_deitsmall8_pretrain.pth"
    )
    a = t.augment
    assert (a.global_crops.number, a.global_crops.size, a.global_crops.scale) == (2, 224, (0.1, 0.2))
    assert (a.local_crops.number, a.local_crops.size, a.local_crops.scale) == (8, 96, (0.04, 0.08))
    assert (a.flip_p, a.vflip_p, a.rotate90) == (0.5, 0.5, False)
    assert (a.brightness_p, a.contrast_p, a.channel_drop_p, a.rescale_p, a.warp) == (0.0, 0.0, 0.0, 0.0, "none")
    assert a.normalise == "none"  # fields z-scored at ingest


def test_optimisation_and_schedules_are_the_papers() -> None:
    t = resolved("train_wsdino", TrainingParams).train
    o = t.optim
    assert (o.batch_size, o.momentum_teacher, o.weight_decay, o.weight_decay_end, o.clip_grad) == (16, 0.99, 0.0, 0.0, None)
    assert (t.loss.teacher_temp, t.loss.warmup_teacher_temp) == (0.04, 0.04)
    assert (o.epochs, o.warmup_epochs) == (200, 10)
    s = Schedules.of(o, t.loss, iterations_per_epoch=10, total_batch=16)
    assert s.lr.max() == pytest.approx(4e-6)  # 10 warm-up epochs to 4e-6 at batch 16
    assert s.lr[100] == pytest.approx(4e-6) and s.lr[99] < 4e-6
    assert s.lr[-1] == pytest.approx(3e-6, rel=1e-3)  # cosine to 3e-6 over the run
    assert s.weight_decay.max() == 0.0 and set(s.teacher_temp) == {0.04}


def test_features_profiles_and_epoch_selection_are_the_papers() -> None:
    e = resolved("embed", EmbedParams)
    assert e.test_time_crops_for_fields and e.features.test_time_crop_side == "native" and e.features.pooling == "cls"
    i = resolved("integrate", IntegrateParams)
    assert (i.normalise_level, i.normalise.tvn_components) == ("fov", "full")
    assert (i.well_statistic, i.treatment_statistic) == ("mean", "median")
    v = resolved("evaluate", EvaluateParams)
    assert (v.headline_normalisation, v.epoch_normalisation) == ("tvn", "tvn")
    assert (v.scoring.label, v.scoring.group, v.scoring.treatment, v.scoring.knn_k) == (
        "Metadata_MoA",
        "Metadata_Compound",
        "Metadata_Treatment",
        1,
    )


def test_missing_weights_file_is_an_error_naming_the_parameter(tmp_path: Path) -> None:
    from cell_dino.data.channels import ChannelSpec

    t = resolved("train_wsdino", TrainingParams, dino_weights=str(tmp_path / "absent.pth")).train
    with pytest.raises(FileNotFoundError, match=r"train.init: pretrained weights file .*absent.pth not found.*init: null"):
        t.check(ChannelSpec(("DNA",)))
