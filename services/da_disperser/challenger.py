"""Random sampling challenges (the local network's watchdog): every ZG_DA_CHALLENGE_INTERVAL seconds, challenge a
random signer of a random root attested in the last epoch's worth of blocks, with the challenger's own key
(ZG_DA_CHALLENGER_PRIVATE_KEY; a dev account of its own locally), and claim the challenges left unanswered past
their deadline. Off with an interval of 0, and on a chain whose DAChallenges is disabled (no EIP-2537 precompiles).

It lives in the disperser because that daemon already runs beside the signers with the DA contracts at hand; it
shares nothing with the dispersal pipeline. Open challenges are kept in memory: after a restart the unclaimed ones
stay claimable by hand (`zg da challenge --claim ID`)."""

from __future__ import annotations

import logging
import random
import threading

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from zerog.da.challenges import ChallengeContract, ChallengeStatus
from zerog.da.contracts import DAContracts
from zerog.errors import ZeroGError

log = logging.getLogger(__name__)


class RandomChallenger:
    def __init__(
        self, contracts: DAContracts, challenges: ChallengeContract, account: LocalAccount, interval: float
    ) -> None:
        self.contracts = contracts
        self.challenges = challenges
        self.account = account
        self.interval = interval
        self.open: dict[int, int] = {}  # challenge id -> deadline block
        self._rng = random.SystemRandom()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="da-random-challenger", daemon=True)
        self._thread.start()
        log.info("random sampling challenges every %.0f s from %s", self.interval, self.account.address)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the chain away, a refused challenge: next round
                log.warning("random challenge round failed", exc_info=True)

    def run_once(self) -> int | None:
        """Claim what went unanswered, then challenge one random (root, signer); returns the new challenge's id."""
        self._claim_missed()
        picked = self._pick()
        if picked is None:
            return None
        root, signer = picked
        try:
            c = self.challenges.challenge(self.account, root, signer)
        except ZeroGError as exc:  # expired meanwhile, a challenge in flight: the next round picks again
            log.info("no challenge of %s on 0x%s: %s", signer, root.hex(), exc)
            return None
        self.open[c.id] = c.deadline
        log.info("challenged %s: cell %d of blob %d of 0x%s (deadline block %d)", signer, c.column, c.blob_index,
                 root.hex(), c.deadline)  # fmt: skip
        return c.id

    def _claim_missed(self) -> None:
        head = self.challenges.w3.eth.block_number
        for challenge_id, deadline in list(self.open.items()):
            if head <= deadline:
                continue
            if self.challenges.get(challenge_id).status == ChallengeStatus.OPEN:
                self.challenges.claim(self.account, challenge_id)
                log.warning("challenge %d went unanswered: claimed (signer slashed)", challenge_id)
            del self.open[challenge_id]

    def _pick(self) -> tuple[bytes, str] | None:
        """A random root attested within the last epoch of blocks, and a random signer of it still registered."""
        w3 = self.challenges.w3
        head = w3.eth.block_number
        event = self.contracts.entrance.events.ErasureCommitmentVerified
        logs = event.get_logs(from_block=max(head - self.contracts.epoch_blocks, 0), to_block=head)
        if not logs:
            return None
        args = self._rng.choice(logs)["args"]
        bitmap = int(args["signerBitmap"])
        slots = [s for s in range(bitmap.bit_length()) if bitmap >> s & 1]
        members = self.contracts.current_signers()
        candidates = [m.account for m in members.signers if m.slot in slots]
        if not candidates:
            return None
        return bytes(args["dataRoot"]), to_checksum_address(self._rng.choice(candidates))
