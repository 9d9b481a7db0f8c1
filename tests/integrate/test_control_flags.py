"""``Metadata_Control`` as real tables write it: booleans, 0/1, or text from a CSV or a LIMS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.errors import DataError
from cell_dino.integrate.table import control_flags, controls


@pytest.mark.parametrize(
    "values",
    [
        [True, False, None, True],
        [1, 0, np.nan, 1.0],
        ["True", "False", None, "TRUE"],
        ["yes", "no", "", " Y "],
        ["1", "0", pd.NA, "t"],
        pd.array([True, False, None, True], dtype="boolean"),  # a parquet's nullable booleans
        pd.array([True, False, None, True], dtype="bool[pyarrow]"),
        pd.Categorical([True, False, None, True]),
        pd.array([1, 0, None, 1], dtype="Int64"),
        [1.0, 0.0, None, True],  # an object column: a boolean plate concatenated with a float one
        ["1.0", "0.0", "nan", "Yes"],  # numbers and a missing value written out as text
    ],
)
def test_control_flags_mean_what_they_say(values: list) -> None:
    flags = control_flags(pd.Series(values, name="Metadata_Control"))
    assert flags.tolist() == [True, False, False, True]  # "False" is not a control, missing is not either


def test_a_flag_that_is_neither_names_the_column_row_and_value() -> None:
    with pytest.raises(DataError, match=r"Metadata_Control: row 2 is 'DMSO', not a control flag"):
        control_flags(pd.Series(["yes", "no", "DMSO"], name="Metadata_Control"))
    with pytest.raises(DataError, match="row 1 is 2"):
        control_flags(pd.Series([0, 2], name="Metadata_Control"))
    with pytest.raises(DataError, match="row 0 is 0.5"):
        control_flags(pd.Series([0.5, 1.0], name="Metadata_Control"))


def test_a_table_without_the_column_has_no_controls() -> None:
    assert controls(pd.DataFrame({"Metadata_Well": ["A01", "A02"]})).tolist() == [False, False]
