"""Upload and download throughput through our storage nodes on loopback, ours vs the official TS SDK.

    .venv/bin/python benches/storage_transfer.py [--mib 64] [--encrypt]

Starts `zg up` on free ports in a temp dir (two shards + indexer), then times, on the same file:
our upload (submit tx + segments + finality), our download (every proof verified), and the official
SDK's upload and download against the same network, and a 1 MiB range read from the middle of our file
(only its covering segments, proof-checked) against the full download. Also prints the gas of the Submit
transactions.
With --encrypt, also our v2 (ECIES) encrypted upload and decrypting download of a file of the same size, and
the file root of the plain and encrypted file (no network), each against its plain counterpart.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coincurve import PrivateKey  # noqa: E402

from chain_node.process import wait_until  # noqa: E402
from tests.conftest import REPO_ROOT, make_settings, tool_env  # noqa: E402
from tests.storage.sdk import official_sdk  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import Deployment, connect  # noqa: E402
from zerog.storage.client import download, head, nodes_from_indexer, read_range, upload  # noqa: E402
from zerog.storage.encryption import ECIES_HEADER_SIZE, Decryptor, Encryptor, Header  # noqa: E402
from zerog.storage.merkle import FileTree  # noqa: E402

MB = 1_000_000
MIB = 1024 * 1024
#: --encrypt: rounds of plain-then-encrypted transfers (the best of each counts).
ROUNDS = 3
RECIPIENT = 5


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--encrypt", action="store_true", help="also time encrypted upload and download")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = make_settings(tmp)
        cmd = [str(Path(sys.executable).parent / "zg"), "up", "--data-dir", str(settings.data_dir)]
        cmd += ["--port", str(settings.chain_port), "--faucet-port", str(settings.faucet_port)]
        cmd += ["--storage-ports", settings.storage_ports, "--indexer-port", str(settings.indexer_port)]
        up = subprocess.Popen(cmd, cwd=REPO_ROOT, env=tool_env(settings), stdout=subprocess.DEVNULL)
        try:
            assert wait_until(settings.network_file.exists, 180), "zg up did not start"
            w3 = connect(settings.rpc_url)
            deployment = Deployment.for_settings(settings, w3.eth.chain_id)
            nodes = nodes_from_indexer(settings.indexer_url)
            ours_file, theirs_file = tmp / "ours.bin", tmp / "theirs.bin"
            ours_file.write_bytes(os.urandom(size))
            theirs_file.write_bytes(os.urandom(size))

            result, up_s = timed(lambda: upload(ours_file, nodes, w3, dev_account(3), deployment))
            _, down_s = timed(lambda: download(result.root, tmp / "ours.out", nodes))
            assert (tmp / "ours.out").read_bytes() == ours_file.read_bytes()
            middle, range_s = timed(lambda: read_range(result.root, nodes, size // 2 + 12345, MIB))
            assert middle == ours_file.read_bytes()[size // 2 + 12345 :][:MIB]
            gas = w3.eth.get_transaction_receipt(result.tx_hash)["gasUsed"]

            key = dev_account(4).key.to_0x_hex()
            sdk_args = ["upload", str(theirs_file), settings.rpc_url, key, settings.indexer_url]
            sdk, sdk_up_s = timed(lambda: official_sdk(*sdk_args, timeout=1800))
            _, sdk_down_s = timed(
                lambda: official_sdk("download", sdk["root"], str(tmp / "t.out"), settings.indexer_url)
            )
            assert (tmp / "t.out").read_bytes() == theirs_file.read_bytes()
            if args.encrypt:
                crypto = encrypted_transfer(tmp, size, nodes, w3, deployment)
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(60)
    mb = size / MB
    print(f"file: {args.mib} MiB, 2 storage shards on loopback")
    print(f"ours     upload  : {mb / up_s:7.1f} MB/s ({up_s:.2f}s incl. submit tx and finality)")
    print(f"ours     download: {mb / down_s:7.1f} MB/s ({down_s:.2f}s, every segment proof verified)")
    print(f"TS SDK   upload  : {mb / sdk_up_s:7.1f} MB/s ({sdk_up_s:.2f}s, same nodes)")
    print(f"TS SDK   download: {mb / sdk_down_s:7.1f} MB/s ({sdk_down_s:.2f}s, no proof checks)")
    print(f"ratios ours/SDK  : upload {sdk_up_s / up_s:.1f}x, download {sdk_down_s / down_s:.1f}x")
    print(f"ours     1 MiB range read: {range_s * 1000:.0f} ms (full download {down_s * 1000:.0f} ms)")
    print(f"submit gas ({args.mib} MiB file): {gas}")
    if args.encrypt:
        (root_s, enc_root_s), plain_s, enc_s = crypto
        print(f"file root        : plain {mb / root_s:7.1f} MB/s, encrypted {mb / enc_root_s:7.1f} MB/s (no network)")
        print(f"paired, best of {ROUNDS}: plain upload {mb / plain_s[0]:.1f} MB/s, download {mb / plain_s[1]:.1f} MB/s")
        print(f"encrypted upload  : {mb / enc_s[0]:7.1f} MB/s (v2; {plain_s[0] / enc_s[0]:.0%} of plain)")
        print(f"decrypted download: {mb / enc_s[1]:7.1f} MB/s ({plain_s[1] / enc_s[1]:.0%} of plain)")


def encrypted_transfer(tmp: Path, size: int, nodes, w3, deployment):
    """(root plain s, root encrypted s), best (upload s, download s) plain and encrypted: rounds of a fresh
    plain file then a fresh v2-encrypted one (decrypted on the way down), so machine load hits both alike."""
    plain = tmp / "secret.bin"
    best = {False: [float("inf")] * 2, True: [float("inf")] * 2}
    for _ in range(ROUNDS):
        for encrypt in (False, True):
            plain.write_bytes(os.urandom(size))
            times = transfer(plain, tmp / "secret.out", nodes, w3, deployment, encrypt)
            best[encrypt] = [min(a, b) for a, b in zip(best[encrypt], times, strict=True)]
    encryptor = Encryptor.ecies(recipient_public_key())
    _, root_s = timed(lambda: FileTree.from_path(plain))
    data = memoryview(plain.read_bytes())
    _, enc_root_s = timed(lambda: FileTree.from_reader(encryptor.stream_size(size), encryptor.view(data).read))
    return (root_s, enc_root_s), best[False], best[True]


def recipient_public_key() -> bytes:
    return PrivateKey(bytes(dev_account(RECIPIENT).key)).public_key.format()


def transfer(plain: Path, out: Path, nodes, w3, deployment, encrypt: bool) -> tuple[float, float]:
    """(upload s, download s) of `plain`, v2-encrypted to RECIPIENT and decrypted on the way down if `encrypt`."""
    encryptor = Encryptor.ecies(recipient_public_key()) if encrypt else None
    result, up_s = timed(lambda: upload(plain, nodes, w3, dev_account(6), deployment, encryption=encryptor))

    def fetch() -> None:
        decryptor = None
        if encrypt:  # what `zg storage download --decrypt` does: the header from the first segment
            header = Header.parse(head(result.root, nodes, ECIES_HEADER_SIZE))
            decryptor = Decryptor.for_header(header, private_key=bytes(dev_account(RECIPIENT).key))
        download(result.root, out, nodes, overwrite=True, decryptor=decryptor)

    _, down_s = timed(fetch)
    assert out.read_bytes() == plain.read_bytes()
    return up_s, down_s


if __name__ == "__main__":
    main()
