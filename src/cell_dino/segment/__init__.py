"""Segmentation (Cellpose, or masks provided with the data), single-cell crops and the
segmentation job that writes the crop store."""
