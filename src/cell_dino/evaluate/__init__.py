"""Evaluation protocols: segmentation accuracy, MoA matching, retrieval, classifiers."""
