"""Fine-tuning the provider's base model for a user: a LoRA adapter (lora.py: peft wrapping, the adapter file,
merging for the TextGenerator) trained on a chat dataset the SDK validated (`zerog.compute.finetune_data`) by a
resumable, deterministic CPU trainer (trainer.py)."""
