"""The compute provider daemon: an OpenAI-compatible API serving a torch model on CPU, paid by vouchers."""
