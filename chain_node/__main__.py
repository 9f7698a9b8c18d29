"""`python -m chain_node [options]`: the bundled chain in the foreground (what `zg chain start` runs).

Options and ``ZG_*`` settings as `zg chain start`; SIGINT/SIGTERM stop it with its state written, exit code 0.
Exit code 1: it cannot start (anvil missing, port busy) or anvil died.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from chain_node.node import ChainNodeError, run_until_signal
from chain_node.settings import ChainNodeSettings
from zerog.config import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chain_node", description=__doc__.splitlines()[0])
    parser.add_argument("--host", dest="chain_host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", dest="chain_port", type=int, help="JSON-RPC port (default 8545)")
    parser.add_argument("--chain-id", dest="chain_id", type=int, help="chain id (default: the local dev chain id)")
    parser.add_argument("--block-time", dest="block_time", type=float, help="seconds between idle blocks (0: none)")
    parser.add_argument("--data-dir", dest="data_dir", type=Path, help="state directory (default ~/.zerog)")
    settings = load_settings(ChainNodeSettings, **vars(parser.parse_args(argv)))
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("chain_node")
    try:
        run_until_signal(settings, lambda node: log.info("chain %d listening on %s", settings.chain_id, node.rpc_url))
    except ChainNodeError as exc:
        log.error("cannot run: %s", exc.message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
