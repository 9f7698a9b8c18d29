"""Gas of DAEntrance.submitVerifiedCommitRoots with 4 and 32 signers, on fresh bundled chains deployed by
scripts/deploy.py (the signers are the deployment's genesis set: dev accounts 3.., keys derived as the signer
daemons derive them).

    .venv/bin/python benches/da_gas.py [--runs 5]

Per signer count: every signer signing, and the fewest that still hold two thirds of the stake (the most G1
keys to subtract from the epoch's aggregate). Medians over `--runs` attestations of distinct data roots (the
first one of a chain included; nothing in the call touches a cold slot the next ones would find warm). Also
submitOriginalData (one root); the registration of one more signer (proof of possession checked on chain),
with twice the genesis stake: into the 4-signer set, and into the full 32-signer set (evicting one); and one
attestation of the previous epoch in the next epoch's grace window, after the signers left out changed their
stake (the dearest read of the previous epoch's set).

For scale: EigenDA's certificate verification costs 0.6-3.5M gas; the target here is < 300k.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.da.bls import KeyPair, aggregate_g1, aggregate_g2  # noqa: E402
from zerog.da.contracts import DAContracts  # noqa: E402
from zerog.da.keys import SIGNER_DEV_ACCOUNT_OFFSET, signer_keys  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.errors import TransactionError  # noqa: E402

TARGET = 300_000
_roots = iter(range(1, 1 << 62))


def measure(signers: int, runs: int) -> dict[str, int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        # One quorum of all the signers: the dearest attestation (the quorum bench, da_quorums.py, splits them).
        settings = local_settings(
            Path(tmp), dev_accounts=SIGNER_DEV_ACCOUNT_OFFSET + signers + 1, da_signers=signers, da_max_quorums=1
        )
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            da = DAContracts(w3, deployment)
            payer = dev_account(0)
            keys = [signer_keys(dev_account(SIGNER_DEV_ACCOUNT_OFFSET + i)) for i in range(signers)]
            view = da.current_signers()
            assert len(view.signers) == signers
            quorum = -(-2 * signers // 3)  # fewest equal-stake signers holding >= 2/3
            out: dict[str, int | str] = {}
            for label, count in (("all sign", signers), (f"{quorum} of {signers} sign", quorum)):
                gas = []
                for _ in range(runs):
                    root = keccak(text=f"bench root {next(_roots)}")
                    upload = da.submit_original_data(payer, [root], [1000])
                    out.setdefault("submitOriginalData", upload["gasUsed"])
                    digest = da.attestation_digest(root, view.epoch, 0)
                    signature = aggregate_g1(k.sign(digest) for k in keys[:count])
                    apk2 = aggregate_g2(k.pk2 for k in keys[:count])
                    receipt = da.submit_verified(payer, root, view.epoch, (1 << count) - 1, apk2, signature)
                    gas.append(receipt["gasUsed"])
                # The first attestation credits every signer's fresh earnings slot; the median is the steady state.
                out[label] = int(statistics.median(gas))
            newcomer = dev_account(SIGNER_DEV_ACCOUNT_OFFSET + signers)
            stake = 2 * settings.da_signer_stake_wei
            try:
                out["register"] = da.register(newcomer, signer_keys(newcomer), "http://bench.test", stake)["gasUsed"]
            except TransactionError as exc:
                out["register"] = f"refused: {exc.reason}"
            out[f"{quorum} of {signers} sign, previous epoch"] = _previous_epoch(da, payer, keys, quorum)
            out["DASigners deploy (genesis set)"] = deployment.record("DASigners")["gasUsed"]
            return out


def _previous_epoch(da: DAContracts, payer: LocalAccount, keys: list[KeyPair], count: int) -> int:
    """Gas of an attestation by keys[:count] of the current epoch, landing early in the next one."""
    root = keccak(text=f"bench root {next(_roots)}")
    da.submit_original_data(payer, [root], [1000])
    epoch = da.epoch()
    digest = da.attestation_digest(root, epoch, 0)
    signature = aggregate_g1(k.sign(digest) for k in keys[:count])
    apk2 = aggregate_g2(k.pk2 for k in keys[:count])
    start = da.signers.functions.genesisBlock().call() + (epoch + 1) * da.signers.functions.epochBlocks().call()
    da.w3.provider.make_request(RPCEndpoint("anvil_mine"), [start - da.w3.eth.block_number])
    for index in range(count, len(keys)):
        account = dev_account(SIGNER_DEV_ACCOUNT_OFFSET + index)
        send_transaction(da.w3, account, da.signers.functions.addStake(), value=1, decoder=da.decoder)
    return da.submit_verified(payer, root, epoch, (1 << count) - 1, apk2, signature)["gasUsed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="attestations per median")
    args = parser.parse_args()
    print(f"{'case':<44}{'gas':>12}  target < {TARGET:,}")
    for signers in (4, 32):
        for label, gas in measure(signers, args.runs).items():
            if isinstance(gas, str):
                print(f"{signers:>2} signers: {label:<32}  {gas}")
                continue
            flag = ""
            if "sign" in label:
                flag = "ok" if gas < TARGET else "OVER"
            print(f"{signers:>2} signers: {label:<32}{gas:>12,}  {flag}")


if __name__ == "__main__":
    main()
