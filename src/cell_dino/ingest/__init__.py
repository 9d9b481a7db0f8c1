"""Preprocessing fields for the FOV store: CellProfiler's illumination functions, intensity
statistics, and the preprocessing job that writes the store."""
