"""Every data-set environment states the full training recipe it claims, resolved as ``kedro run -e
<env>`` gives it to the nodes: none trains the demo's CPU toy (ViT-Ti of depth 4, 256 outputs, 32 px
crops) through ``conf/base``. The claimed recipes are written out here, from the papers and
../shared/data/dino4cells_recipes.md, and compared value by value."""

from __future__ import annotations

import pytest

from cell_dino.pipelines.params import load_parameters
from cell_dino.pipelines.train_dino.params import TrainingParams
from tests.projects import REPO

# (arch, patch, epochs, batch, lr, warm-up epochs, teacher momentum, teacher temperature, global crops, local crops, normalise)
DINO4CELLS_CELL_PAINTING = ("vit_small", 16, 100, 600, 5e-4, 10, 0.996, 0.04, (2, 128, (0.4, 1.0)), (8, 64, (0.05, 0.4)), "self")
DINO4CELLS_HPA = ("vit_tiny", 16, 10, 24, 5e-4, 10, 0.996, 0.04, (2, 224, (0.4, 1.0)), (8, 96, (0.05, 0.4)), "self")
MAIN_DINO = ("vit_small", 16, 100, 64, 5e-4, 10, 0.996, 0.04, (2, 224, (0.4, 1.0)), (8, 96, (0.05, 0.4)), "self")
WSDINO = ("vit_small", 8, 200, 16, 6.4e-5, 10, 0.99, 0.04, (2, 224, (0.1, 0.2)), (8, 96, (0.04, 0.08)), "none")
WSDINO_SELF = WSDINO[:-1] + ("self",)
RECIPES = {
    ("bbbc021", "train_dino"): DINO4CELLS_CELL_PAINTING,
    ("bbbc021", "train_wsdino"): WSDINO,
    ("hpa", "train_dino"): DINO4CELLS_HPA,
    ("hpa", "train_wsdino"): WSDINO_SELF,
    ("lincs", "train_dino"): DINO4CELLS_CELL_PAINTING,
    ("lincs", "train_wsdino"): WSDINO_SELF,
    ("wtc11", "train_dino"): MAIN_DINO,
    ("wtc11", "train_wsdino"): WSDINO_SELF,
}


@pytest.mark.parametrize(("env", "block"), sorted(RECIPES))
def test_each_environment_trains_the_recipe_it_claims(env: str, block: str) -> None:
    t = load_parameters(block, TrainingParams, REPO, env, runtime_params={"root": "/data"}).train
    o, a = t.optim, t.augment
    resolved = (
        t.backbone.arch,
        t.backbone.patch_size,
        o.epochs,
        o.batch_size,
        o.lr,
        o.warmup_epochs,
        o.momentum_teacher,
        t.loss.teacher_temp,
        (a.global_crops.number, a.global_crops.size, a.global_crops.scale),
        (a.local_crops.number, a.local_crops.size, a.local_crops.scale),
        a.normalise,
    )
    assert resolved == RECIPES[env, block]
    # DINO's head, the architecture's own depth, no temperature warm-up from the demo's 0.01
    assert (t.backbone.depth, t.head.out_dim, t.head.hidden_dim, t.head.bottleneck_dim) == (None, 65536, 2048, 256)
    assert t.loss.warmup_teacher_temp == 0.04 and t.backbone.img_size == a.global_crops.size
