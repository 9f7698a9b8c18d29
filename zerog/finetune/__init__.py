"""Fine-tuning: datasets on Storage, tasks on chain (FineTuningServing), results back encrypted to the user."""
