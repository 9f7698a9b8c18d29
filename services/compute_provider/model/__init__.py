"""The provider's own model: a byte-level transformer (network.py), trained on a corpus the project makes
itself (corpus.py, train.py), saved as a torch checkpoint (checkpoint.py), and sampled (generate.py)."""
