"""One model per channel (WS-DINO): each trains on its own channel; features concatenate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from cell_dino.embed.model import ConcatenatedExtractors, FeatureConfig, run_extractor
from cell_dino.train.training_job import CheckpointSeries, TrainingJob
from tests.train.tiny_training import CONFIG, DATA


def test_per_channel_run_trains_one_model_per_channel_and_embeds_their_concatenation(tmp_path: Path) -> None:
    config = dataclasses.replace(CONFIG, optim=dataclasses.replace(CONFIG.optim, epochs=1))
    TrainingJob(DATA, config, "per_channel").run(tmp_path)
    series = CheckpointSeries(tmp_path)
    assert series.per_channel and [c.directory.name for c in series.channels] == ["channel-Actin", "channel-DNA", "channel-Tubulin"]
    states = series.states(-1)
    assert [s["meta"]["channels"] for s in states] == [["Actin"], ["DNA"], ["Tubulin"]]
    assert all(s["meta"]["source_channels"] == ["DNA", "Tubulin", "Actin"] for s in states)
    assert all(s["student"]["backbone.patch_embed.proj.weight"].shape[1] == 1 for s in states)
    assert not torch.equal(states[0]["teacher"]["backbone.cls_token"], states[1]["teacher"]["backbone.cls_token"])

    extractor = run_extractor(states, FeatureConfig())
    assert isinstance(extractor, ConcatenatedExtractors)
    assert [e.channels for e in extractor.extractors] == [[2], [0], [1]]  # Actin, DNA, Tubulin in the data's order
    images = torch.from_numpy(np.asarray(DATA.images[:4], dtype=np.float32))
    features = extractor(images)
    assert features.shape == (4, 3 * 192)
    torch.testing.assert_close(features.norm(dim=1), torch.ones(4))
    actin_only = extractor.extractors[0](images)
    torch.testing.assert_close(
        features[:, :192], actin_only / torch.cat([e(images) for e in extractor.extractors], 1).norm(dim=1, keepdim=True)
    )
    changed = images.clone()
    changed[:, 1] += torch.randn_like(changed[:, 1])  # Tubulin only moves the Tubulin model's block
    after = torch.cat([e(changed) for e in extractor.extractors], 1)
    before = torch.cat([e(images) for e in extractor.extractors], 1)
    torch.testing.assert_close(after[:, : 2 * 192], before[:, : 2 * 192])
    assert not torch.allclose(after[:, 2 * 192 :], before[:, 2 * 192 :])
