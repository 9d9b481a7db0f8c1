from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.hpa import CHANNELS, read_hpa
from cell_dino.data.errors import ManifestError
from cell_dino.data.readers import read_fov

IDS = ["00070df0-bbc3-11e8-b2bc-ac1f6b6435d0", "000a6c98-bb9b-11e8-b2b9-ac1f6b6435d0"]


def make_hpa(root: Path, targets: list[str]) -> Path:
    (root / "train").mkdir(parents=True)
    (root / "train.csv").write_text("Id,Target\n" + "".join(f"{i},{t}\n" for i, t in zip(IDS, targets)))
    for k, image_id in enumerate(IDS):
        for c, colour in enumerate(("red", "green", "blue", "yellow")):
            pixels = np.full((16, 16), 10 * k + c, np.uint8)
            pixels[8:, 8:] += 100  # not blank
            Image.fromarray(pixels).save(root / "train" / f"{image_id}_{colour}.png")
    return root


def test_hpa_manifest_is_multi_label_and_reads_four_channels(tmp_path: Path) -> None:
    manifest = read_hpa(make_hpa(tmp_path, ["16 0", "7"]))
    assert mf.channels_of(manifest) == CHANNELS
    assert manifest["Metadata_Labels"].tolist() == ["Cytokinetic bridge|Nucleoplasm", "Golgi apparatus"]
    assert manifest["Metadata_Target"].tolist() == ["16 0", "7"]
    fov = read_fov(mf.image_paths(manifest.iloc[1], CHANNELS))
    assert fov.shape == (4, 16, 16)
    assert fov[:, 0, 0].tolist() == [10, 11, 12, 13]  # red, green, blue, yellow in spec order


def test_hpa_invalid_label_names_the_row(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"row 1: invalid Target label '28'"):
        read_hpa(make_hpa(tmp_path, ["0", "28"]))
