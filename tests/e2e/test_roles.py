"""ROLES.md is the truth about privileges: check every row against a real deployment."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT
from zerog.chain import connect
from zerog.market.contracts import MARKETPLACE

ROW = re.compile(r"^\| (\w+) \| (\w+) \| ([^|]+) \|", re.MULTILINE)
#: A row of a bindings table: the contract, then its getters and the contracts they return ("`flow()` = Flow, ...").
BINDING_ROW = re.compile(r"^\| (\w+) \| ([^|]*`\w+\(\)` = [^|]*) \|", re.MULTILINE)
BINDING = re.compile(r"`(\w+)\(\)` = (\w+)")
#: Holder prefix -> constructor argument holding that address; None: no one holds the role after deploy.
HOLDER_ARG: dict[str, str | None] = {
    "deployer": "admin",
    "faucet service key": "dripper",
    "nobody": None,
    "PoraMine contract": "contract:PoraMine",
}
#: A HOLDER_ARG value naming a contract of the manifest instead of a constructor argument.
CONTRACT_HOLDER = "contract:"


def test_roles__table_matches_deployment(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    rows = [m for m in ROW.finditer((REPO_ROOT / "ROLES.md").read_text()) if m.group(1) != "contract"]
    assert rows, "ROLES.md lists no roles"
    for contract_name, role, holder in (m.groups() for m in rows):
        contract = deployment.contract(w3, contract_name)
        role_id = getattr(contract.functions, role)().call()
        args = deployment.record(contract_name)["constructorArgs"]
        arg = next(arg for prefix, arg in HOLDER_ARG.items() if holder.startswith(prefix))
        if arg is None:
            assert not contract.functions.hasRole(role_id, args["admin"]).call(), f"{contract_name}.{role} is held"
            continue
        holder_address = (
            deployment.address(arg.removeprefix(CONTRACT_HOLDER)) if arg.startswith(CONTRACT_HOLDER) else args[arg]
        )
        assert contract.functions.hasRole(role_id, holder_address).call(), (
            f"{contract_name}.{role} not held by {holder}"
        )
    declared = {(m.group(1), m.group(2)) for m in rows}
    for name, record in deployment.data["contracts"].items():
        for item in record["abi"]:
            if item.get("type") == "function" and item["name"].endswith("_ROLE"):
                assert (name, item["name"]) in declared, f"{name}.{item['name']} is missing from ROLES.md"


def test_roles__bindings_match_deployment(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    rows = BINDING_ROW.findall((REPO_ROOT / "ROLES.md").read_text())
    assert {name for name, _ in rows} >= {"Flow", "Ledger", "FineTuningServing", "DAEntrance", "Marketplace"}
    for contract_name, bindings in rows:
        contract = deployment.contract(w3, contract_name)
        for getter, target in BINDING.findall(bindings):
            bound = getattr(contract.functions, getter)().call()
            assert bound == deployment.address(target), f"{contract_name}.{getter}() is not {target}"


def test_roles__marketplace_fee_goes_to_the_deployer(deployed_devnet, deployment) -> None:
    """ROLES.md: the Marketplace's admin is the deployer, also its fee recipient, with the configured fee."""
    market = deployment.contract(connect(deployed_devnet.rpc_url), MARKETPLACE)
    args = deployment.record(MARKETPLACE)["constructorArgs"]
    assert args["feeRecipient"] == args["admin"] == deployment.data["deployer"]
    assert market.functions.fee().call() == [deployed_devnet.market_fee_bps, deployment.data["deployer"]]
    assert market.functions.grantTimeout().call() == deployed_devnet.market_grant_timeout
