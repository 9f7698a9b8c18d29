"""0G DA client's gRPC disperser API (`disperser.Disperser`): disperser.proto and the stubs generated from it
(`python tools/disperser_stubs.py`; do not edit them)."""
