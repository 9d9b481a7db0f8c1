"""Custom Kedro datasets: zarr image stores and checkpoints."""
