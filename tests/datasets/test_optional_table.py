from pathlib import Path

import pandas as pd

from cell_dino.datasets.optional_table import OptionalTableDataset


def test_an_absent_table_loads_empty_and_a_present_one_loads(tmp_path: Path) -> None:
    dataset = OptionalTableDataset(filepath=str(tmp_path / "modality.parquet"))
    assert dataset.load().empty
    pd.DataFrame({"plate": ["p1"], "x": [1.5]}).to_parquet(tmp_path / "modality.parquet")
    assert dataset.load()["x"].tolist() == [1.5]
