"""Self-supervised learning: DINO loss, schedules, EMA teacher, augmentations, samplers, trainer."""
