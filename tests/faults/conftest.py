"""One fault network for every module of this folder that asks for it (`fault_net`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.network import FaultNetwork, start_fault_network


@pytest.fixture(scope="session")
def fault_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultNetwork]:
    network = start_fault_network(tmp_path_factory.mktemp("faults"))
    yield network
    network.stop()
