"""`zg demo` on a running `zg up`, as a user runs it (nothing configured but the data dir): every step of the
walk through the stack happens on chain, and each of its explorer links shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from chain_node.process import wait_until
from zerog.accounts import dev_account
from zerog.devnet.demo import PROVIDER_INDEX
from zerog.devnet.settings import NetworkSettings
from zerog.market.client import Market

ZG = str(Path(sys.executable).parent / "zg")
STEPS = 7


def test_demo__walks_the_stack_and_links_every_step(up_network: NetworkSettings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZG_")}
    env["ZG_DATA_DIR"] = str(up_network.data_dir)
    done = subprocess.run([ZG, "--json", "demo"], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = json.loads(done.stdout)
    assert len(steps) == STEPS, [s["step"] for s in steps]

    market = Market(up_network, dev_account(0))
    dataset, model = (market.listing(int(s["explorer"][0].rsplit("/", 1)[1])) for s in steps[:2])
    assert (dataset.kind.label, dataset.private, model.kind.label, model.private) == ("dataset", False, "model", True)
    provider = dev_account(PROVIDER_INDEX).address
    assert model.sales == 1 and market.purchase(model.id, provider).granted_block > 0
    assert [s.provider for s in market.services(model.id)] == [provider]  # it linked its service to the listing
    assert market.has_access(dataset.id)  # the user bought the dataset
    assert "identical: True" in " ".join(steps[4]["lines"])
    assert steps[5]["lines"][1].startswith("zg-bytelm-demo: ") and "signed receipt" in steps[5]["lines"][2]

    network = json.loads(up_network.network_file.read_text())
    links = [url for step in steps for url in step["explorer"]]
    assert all(url.startswith(network["explorer"]) for url in links)
    assert any("/da/" in url for url in steps[6]["explorer"])
    # The explorer follows the chain a moment behind: every page the demo printed is there once it caught up.
    assert wait_until(lambda: all(httpx.get(url, timeout=5).status_code == 200 for url in links), 30, 1), links
