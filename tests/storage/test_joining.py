"""Storage nodes joining the indexer (`indexer_announce`), several hosts on one machine: the indexer on 127.0.0.2
without static nodes, nodes on 127.0.0.3. A node started with ZG_STORAGE_INDEXER_URL joins and is listed, forged,
stale, replayed and unreachable announcements are refused, joined nodes survive an indexer restart, and a node
that stops answering drops out and is then forgotten. Real daemons on a real chain; the tests run in order."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chain_node.process import free_port
from services.storage_miner.joining import NODE_DEV_INDEX
from tests.storage.node_fixtures import Chain, Daemon, start_node, wait_for
from zerog.accounts import dev_account
from zerog.devnet.settings import NetworkSettings
from zerog.storage.announce import Announcement
from zerog.storage.rpc import IndexerClient, RpcError

INDEXER_HOST = "127.0.0.2"
NODE_HOST = "127.0.0.3"
GRACE_SECONDS = 2
#: A node that announces nothing itself: the tests announce it with its key.
BYSTANDER = dev_account(12)
ATTACKER = dev_account(13)


@pytest.fixture(scope="module")
def net(deployed_devnet: NetworkSettings) -> Chain:
    return Chain.of(deployed_devnet)


@pytest.fixture(scope="module")
def indexer(deployed_devnet: NetworkSettings) -> Iterator[Daemon]:
    port = free_port(INDEXER_HOST)
    env = {
        "ZG_INDEXER_HOST": INDEXER_HOST,
        "ZG_INDEXER_PORT": str(port),
        "ZG_INDEXER_NODES": "",
        "ZG_INDEXER_NAME": "join-indexer",
        "ZG_INDEXER_JOIN_HOSTS": NODE_HOST,
        "ZG_INDEXER_JOIN_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    daemon = Daemon("services.storage_miner.indexer", deployed_devnet, "join-indexer", port, env, INDEXER_HOST)
    yield daemon.start()
    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()


@pytest.fixture(scope="module")
def joiner(deployed_devnet: NetworkSettings, indexer: Daemon) -> Iterator[Daemon]:
    """A node that joins by itself (dev account 10), announcing every second."""
    node = start_node(
        deployed_devnet,
        "join-node",
        host=NODE_HOST,
        ZG_STORAGE_PORT=str(free_port(NODE_HOST)),
        ZG_STORAGE_INDEXER_URL=indexer.url,
        ZG_STORAGE_ANNOUNCE_INTERVAL="1",
    )
    yield node
    node.stop()


@pytest.fixture(scope="module")
def bystander(deployed_devnet: NetworkSettings) -> Iterator[Daemon]:
    """A node with an account that joins no indexer by itself, shard 0 of 1."""
    node = start_node(
        deployed_devnet,
        "join-bystander",
        host=NODE_HOST,
        ZG_STORAGE_PORT=str(free_port(NODE_HOST)),
        ZG_STORAGE_NODE_PRIVATE_KEY=BYSTANDER.key.to_0x_hex(),
    )
    yield node
    node.stop()


def listed(indexer: Daemon) -> dict[str, dict[str, Any]]:
    listing = indexer.call("indexer_getShardedNodes")
    assert listing["discovered"] == []
    return {node["url"]: node for node in listing["trusted"]}


def announce(indexer: Daemon, announcement: Announcement) -> str:
    """The indexer's refusal of `announcement` (sent by the SDK's client)."""
    with pytest.raises(RpcError) as refusal:
        accept(indexer, announcement)
    return refusal.value.message


def accept(indexer: Daemon, announcement: Announcement) -> None:
    client = IndexerClient(indexer.url)
    try:
        client.announce(announcement)
    finally:
        client.close()


def signed(net: Chain, url: str, account: Any = BYSTANDER, shard: tuple[int, int] = (0, 1), **kw: Any) -> Announcement:
    chain_id, flow = net.deployment.chain_id, net.deployment.address("Flow")
    return Announcement.sign(account, url, shard[0], shard[1], chain_id, flow, **kw)


def test_join__a_node_started_with_the_indexer_url_is_listed(indexer: Daemon, joiner: Daemon) -> None:
    node = wait_for(lambda: listed(indexer).get(joiner.url), timeout=10, what="the node to join")

    assert node["config"] == {"shardId": 0, "numShard": 1}
    assert joiner.call("zgs_getStatus")["nodeAccount"] == dev_account(NODE_DEV_INDEX).address
    assert "joined indexer" in joiner.log()
    assert indexer.call("indexer_getNodeLocations").keys() == {NODE_HOST}


def test_announce__someone_elses_node_is_refused(indexer: Daemon, bystander: Daemon, net: Chain) -> None:
    # Signed by the attacker's key, for the bystander's URL: the node does not report that account.
    forged = announce(indexer, signed(net, bystander.url, ATTACKER))
    # The bystander's account claimed, the attacker's signature.
    honest = signed(net, bystander.url)
    mismatched = announce(indexer, Announcement(**{**vars(honest), "signature": signed(net, "x", ATTACKER).signature}))

    assert f"reports account {BYSTANDER.address!r}, not the signer {ATTACKER.address}" in forged
    # Signed by the node's account, but for another chain or another Flow: not for this indexer.
    chain_id, flow = net.deployment.chain_id, net.deployment.address("Flow")
    for other in ((chain_id + 1, flow), (chain_id, "0x" + "11" * 20)):
        wrong_network = announce(indexer, Announcement.sign(BYSTANDER, bystander.url, 0, 1, *other))
        assert f"not for chain {chain_id} and Flow {flow}" in wrong_network

    assert f"not by the announced account {BYSTANDER.address}" in mismatched
    assert bystander.url not in listed(indexer)


def test_announce__bad_urls_and_shard_configs_are_refused(indexer: Daemon, bystander: Daemon, net: Chain) -> None:
    dead = f"http://{NODE_HOST}:{free_port(NODE_HOST)}"
    refusals = {
        dead: "does not answer as a storage node",
        f"ftp://{NODE_HOST}:21": "only http and https",
        "http://127.0.0.9:5678": "host 127.0.0.9 is not one this indexer lets join",
        "http://169.254.169.254/latest": "link-local",
    }
    for url, reason in refusals.items():
        assert reason in announce(indexer, signed(net, url)), url
    assert "stores shard {'shardId': 0, 'numShard': 1}, not the announced" in announce(
        indexer, signed(net, bystander.url, shard=(1, 2))
    )
    assert "power of two" in announce(indexer, signed(net, bystander.url, shard=(0, 3)))
    malformed = indexer.rpc("indexer_announce", {"url": bystander.url}).error

    assert malformed["code"] == -32602 and "shardConfig" in malformed["message"]
    assert not listed(indexer).keys() & {*refusals, bystander.url}


def test_announce__stale_and_replayed_announcements_are_refused(indexer: Daemon, bystander: Daemon, net: Chain) -> None:
    stale = announce(indexer, signed(net, bystander.url, timestamp=int(time.time()) - 3600))
    assert "s in the past" in stale and bystander.url not in listed(indexer)

    fresh = signed(net, bystander.url)
    accept(indexer, fresh)
    assert listed(indexer)[bystander.url]["config"] == {"shardId": 0, "numShard": 1}

    assert "was accepted already" in announce(indexer, fresh)


def test_restart__joined_nodes_are_kept(indexer: Daemon, bystander: Daemon, joiner: Daemon) -> None:
    assert indexer.stop(signal.SIGTERM) == 0
    indexer.start()

    # The bystander announces nothing by itself: it is listed from the indexer's store.
    assert {bystander.url, joiner.url} <= listed(indexer).keys()


def test_leave__a_node_that_stops_answering_drops_out_then_is_forgotten(
    indexer: Daemon, bystander: Daemon, joiner: Daemon
) -> None:
    joiner.kill()

    wait_for(lambda: joiner.url not in listed(indexer), timeout=10, what="the killed node to drop out")
    assert bystander.url in listed(indexer)
    wait_for(
        lambda: all(n["url"] != joiner.url for n in indexer.health()["nodes"]),
        timeout=GRACE_SECONDS + 10,
        what="the killed node to be forgotten",
    )
    assert "forgotten" in indexer.log()
