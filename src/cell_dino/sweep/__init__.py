"""Optuna sweeps of the DINO augmentations: search space, validation split, objective, study."""
