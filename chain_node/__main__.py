"""`python -m chain_node [options]` is `zg chain start [options]`."""

import sys

from zerog.cli import cli

if __name__ == "__main__":
    cli(["chain", "start", *sys.argv[1:]], prog_name="python -m chain_node")
