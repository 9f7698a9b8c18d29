"""The marketplace: models and datasets stored on 0G Storage, listed and licensed on chain (`zg market`)."""
