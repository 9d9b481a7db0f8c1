"""The cell-dino result explorer: reads a run's outputs through the Kedro catalog (no torch)."""
