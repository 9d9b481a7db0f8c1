"""Profiling analyses of DINO4Cells: similarity structure, cross-modal agreement (Mantel, CCA),
pseudotime, heterogeneity, attention-channel overlap and discriminative patch tokens."""
