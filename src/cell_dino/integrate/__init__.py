"""Profiles: aggregation across levels, normalisation and batch correction, PCA and UMAP."""
