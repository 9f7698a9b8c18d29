"""The sources bundle the deploy writes beside the manifest: its published sources and settings recompile (solcjs)
to the code on chain, it answers Etherscan's getsourcecode, and a no-op redeploy restores a missing one."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from eth_utils import keccak

from tests.conftest import REPO_ROOT
from zerog.chain import connect, sources_path
from zerog.devnet.deploy import run_deploy

#: Imports OpenZeppelin (through the remapping) and holds an immutable, so both are exercised.
CONTRACT = "Ledger"
COMPILE_TIMEOUT_SECONDS = 120
GETSOURCECODE_FIELDS = {
    "SourceCode", "ABI", "ContractName", "CompilerVersion", "OptimizationUsed", "Runs", "ConstructorArguments",
    "EVMVersion", "Library", "LicenseType", "Proxy", "Implementation", "SwarmSource",
}  # fmt: skip


def _compile_runtime(std_input: dict[str, Any], source_path: str, name: str) -> tuple[bytes, list[tuple[int, int]]]:
    """`name`'s runtime code compiled from the published input by the project's solcjs (only its code generated),
    and the (start, length) of its immutables, which the constructor fills in on chain."""
    selection = {source_path: {name: ["evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]}}
    request = {**std_input, "settings": {**std_input["settings"], "outputSelection": selection}}
    result = subprocess.run(
        ["node", str(REPO_ROOT / "tools" / "solc-shim.js"), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_SECONDS,
        check=True,
    )
    output = json.loads(result.stdout)
    assert not [e for e in output.get("errors", []) if e["severity"] == "error"], output["errors"]
    deployed = output["contracts"][source_path][name]["evm"]["deployedBytecode"]
    immutables = [(r["start"], r["length"]) for refs in deployed["immutableReferences"].values() for r in refs]
    return bytes.fromhex(deployed["object"]), immutables


def test_sources__published_input_recompiles_to_the_code_on_chain(deployed_devnet, deployment) -> None:
    bundle = deployment.sources()
    assert bundle is not None
    contract = bundle.contract(CONTRACT)
    compiled, immutables = _compile_runtime(bundle.standard_input, contract["sourcePath"], CONTRACT)

    on_chain = bytearray(connect(deployed_devnet.rpc_url).eth.get_code(deployment.address(CONTRACT)))
    assert immutables
    for start, length in immutables:
        on_chain[start : start + length] = bytes(length)
    # Whole code, CBOR metadata tail included: the same sources, paths and settings give the same metadata hash.
    assert bytes(on_chain) == compiled


def test_sources__getsourcecode_result_and_runtime_hashes(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    bundle = deployment.sources()
    assert bundle is not None and bundle.data["chainId"] == deployment.chain_id
    # The deploy found every contract rebuilt by the published input (the build is a clean full compile).
    assert bundle.data["unverified"] == []
    for name in deployment.data["contracts"]:
        assert bundle.verified(name)
        code = w3.eth.get_code(deployment.address(name))
        assert bundle.contract(name)["runtimeCodeHash"] == "0x" + keccak(code).hex()

    result = deployment.etherscan_source(deployment.name_at(deployment.address(CONTRACT).lower()))
    assert set(result) == GETSOURCECODE_FIELDS and all(isinstance(v, str) for v in result.values())
    assert result["SourceCode"].startswith("{{") and json.loads(result["SourceCode"][1:-1]) == bundle.standard_input
    sources = bundle.standard_input["sources"]
    assert "contracts/.cache/openzeppelin/5.4.0/utils/ReentrancyGuard.sol" in sources
    assert bundle.standard_input["settings"]["remappings"] == [
        "@openzeppelin/contracts=contracts/.cache/openzeppelin/5.4.0"
    ]
    assert json.loads(result["ABI"]) == deployment.record(CONTRACT)["abi"]
    assert result["ContractName"] == CONTRACT and result["CompilerVersion"].startswith("v0.8.28+commit.")
    assert (result["OptimizationUsed"], result["Runs"], result["EVMVersion"]) == ("1", "200", "cancun")
    assert (result["LicenseType"], result["Proxy"], result["Library"]) == ("MIT", "0", "")
    # Ledger's constructor takes two addresses: the serving contract's and the fine-tuning contract's.
    bound = (deployment.address(name) for name in ("InferenceServing", "FineTuningServing"))
    assert result["ConstructorArguments"] == "".join("00" * 12 + address[2:].lower() for address in bound)


def test_sources__a_no_op_redeploy_writes_a_missing_bundle(deployed_devnet, deployment) -> None:
    path = sources_path(deployment.path)
    before = path.read_text()
    path.unlink()
    assert deployment.sources() is None

    result = run_deploy(deployed_devnet)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to do" in result.stdout
    assert path.read_text() == before
