"""What the provider holds while it runs: settings, keys, the chain view, the model, the store, billing and
the settler.

`prepare()` runs before the HTTP server starts: it checks the configuration against the chain, trains the
model into its cache if it is missing, loads it, and registers (or updates) the service on chain — so the
daemon's /health answers 200 only once it can serve. `open()`/`close()` run in the app's lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from services.common.follower import DaemonFollower
from services.common.runtime import check_chain
from services.compute_provider.billing import Billing, Prices
from services.compute_provider.config import (
    ProviderSettings,
    db_path,
    finetune_db_path,
    load_provider,
    load_signer,
    model_path,
    provider_url,
)
from services.compute_provider.finetune.tasks import FOLLOWER_NAME, TaskRunner, TaskStore
from services.compute_provider.model.checkpoint import CheckpointError
from services.compute_provider.model.generate import TextGenerator
from services.compute_provider.model.train import ensure_model
from services.compute_provider.model_source import fetch_adapter, fetch_model, link_listing
from services.compute_provider.settlement import Settler
from services.compute_provider.store import ProviderStore
from zerog.compute.client import Compute, service_params
from zerog.compute.contracts import CONTRACTS as COMPUTE_CONTRACTS
from zerog.compute.contracts import LEDGER, SERVING
from zerog.compute.records import ServiceInfo, ServiceType, Verifiability
from zerog.errors import ConfigError
from zerog.finetune.client import FineTuning
from zerog.finetune.client import service_params as finetune_params
from zerog.market.records import Listing

log = logging.getLogger(__name__)

#: Inference runs on one CPU thread: requests are serialized on the model anyway, and the machine is shared.
INFERENCE_THREADS = 1


class ProviderRuntime:
    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.account = load_provider(settings)
        self.signer = load_signer(settings)
        self.compute = Compute(settings, self.account)
        self.prices = Prices(settings.compute_input_price_wei, settings.compute_output_price_wei)
        self.url = provider_url(settings)
        self.model_name = settings.compute_model_name
        self.generator: TextGenerator | None = None
        self.listing: Listing | None = None  # the marketplace listing of the model served, if any
        self.model_file: Path | None = None
        # Fine-tuning (ZG_COMPUTE_FINE_TUNING): the second service, its tasks' store and worker.
        self.fine_tuning = FineTuning(settings, self.account) if settings.compute_fine_tuning else None
        self.tasks: TaskStore | None = None
        self._task_follower: DaemonFollower | None = None
        self._task_runner: TaskRunner | None = None
        self.service: ServiceInfo | None = None
        self._store: ProviderStore | None = None
        self._billing: Billing | None = None
        self._settler: Settler | None = None

    # ------------------------------------------------------------ before serving

    def check_chain(self) -> None:
        """The chain holds the compute contracts the manifest names, and the settings fit them: the refund timelock
        must outlast our settle interval."""
        used = COMPUTE_CONTRACTS if self.fine_tuning is not None else (LEDGER, SERVING)
        check_chain(self.compute.w3, self.settings, self.compute.deployment, used)
        refund_lock = self.compute.refund_lock()
        if self.settings.compute_settle_interval >= refund_lock:
            raise ConfigError(
                f"compute_settle_interval ({self.settings.compute_settle_interval:g} s) must be shorter than the "
                f"contract's refund timelock ({refund_lock} s), or users could take back promised money"
            )
        min_stake = int(self.compute.serving.functions.minStake().call())
        if (
            self.settings.compute_stake_wei < min_stake
            and not self.compute.serving.functions.isRegistered(self.account.address).call()
        ):
            raise ConfigError(f"compute_stake_wei {self.settings.compute_stake_wei} is below the minimum {min_stake}")

    @property
    def from_storage(self) -> bool:
        return self.settings.compute_listing is not None or self.settings.compute_model_root is not None

    def load_model(self, progress: Callable[[int, int, float], None] | None = None) -> TextGenerator:
        path = model_path(self.settings)
        if self.from_storage:
            if self.settings.compute_model_path is not None:
                raise ConfigError("compute_model_path excludes compute_model_root / compute_listing: serve one model")
            stored = fetch_model(self.settings, self.account)
            path, self.model_name, self.listing = stored.path, stored.name, stored.listing
        elif self.settings.compute_model_path is None:
            try:
                path, trained = ensure_model(path, self.model_name, progress=progress)
            except ValueError as exc:  # no recipe for this name
                raise ConfigError(str(exc)) from exc
            if trained:
                log.info("trained model %s into %s", self.model_name, path)
        self.model_file = path
        try:
            if self.settings.compute_adapter_root is not None:
                self.generator = self._with_adapter(path, self.settings.compute_adapter_root)
            else:
                self.generator = TextGenerator.load(path, self.model_name)
        except CheckpointError as exc:
            source = " from Storage" if self.from_storage else ""
            raise ConfigError(f"the model{source} does not load, refusing to serve it: {exc.message}") from exc
        torch.set_num_threads(INFERENCE_THREADS)
        log.info(
            "serving %s from %s (%d parameters, block %d)",
            self.model_name,
            path,
            self.generator.model.num_parameters(),
            self.generator.block_size,
        )
        return self.generator

    def _with_adapter(self, base: Path, root: str) -> TextGenerator:
        # peft loads only when an adapter is served (as for fine-tuning): seconds saved at every other start.
        from services.compute_provider.finetune.lora import AdapterError, merged_checkpoint

        adapter = fetch_adapter(self.settings, self.account, root)
        try:
            merged = merged_checkpoint(base, adapter)
        except AdapterError as exc:
            raise ConfigError(
                f"the adapter {root} does not fit the model, refusing to serve it: {exc.message}"
            ) from exc
        log.info("merged the adapter %s into %s", root, base)
        return TextGenerator.from_checkpoint(merged, self.model_name)

    def register(self) -> ServiceInfo:
        """Registers the service, or updates it if what is on chain differs; idempotent."""
        params = service_params(
            self.url,
            self.model_name,
            self.prices.input,
            self.prices.output,
            self.signer.address,
            ServiceType.CHATBOT,
            Verifiability.SIGNED_RECEIPTS,
        )
        serving = self.compute.serving
        if not serving.functions.isRegistered(self.account.address).call():
            self.compute.register(params, self.settings.compute_stake_wei)
            log.info("registered service %s at %s", self.model_name, self.url)
        else:
            current = self.compute.service(self.account.address)
            wanted = (ServiceType.CHATBOT, Verifiability.SIGNED_RECEIPTS, self.url, self.model_name)
            have = (current.service_type, current.verifiability, current.url, current.model)
            if have != wanted or (current.input_price, current.output_price, current.signer) != params[4:]:
                self.compute.update(params)
                log.info("updated service %s at %s", self.model_name, self.url)
            else:
                log.info("service %s at %s is registered already", self.model_name, self.url)
        self.service = self.compute.service(self.account.address)
        return self.service

    def register_fine_tuning(self, fine_tuning: FineTuning) -> None:
        """Registers (or updates) the fine-tuning service of the served model; idempotent."""
        s = self.settings
        params = finetune_params(
            self.url, self.model_name, s.compute_finetune_price_wei, s.compute_finetune_max_dataset_bytes,
            s.compute_finetune_max_duration, self.signer.address,
        )  # fmt: skip
        if not fine_tuning.contract.functions.isRegistered(self.account.address).call():
            fine_tuning.register(params, s.compute_stake_wei)
            log.info("registered fine-tuning of %s", self.model_name)
            return
        current = fine_tuning.service(self.account.address)
        have = (current.url, current.model, current.price_per_token, current.max_dataset_size, current.max_duration)
        if (*have, current.signer) != params:
            fine_tuning.update(params)
            log.info("updated fine-tuning of %s", self.model_name)

    def prepare(self, progress: Callable[[int, int, float], None] | None = None) -> None:
        self.check_chain()
        self.load_model(progress)
        self.register()
        if self.listing is not None:
            link_listing(self.settings, self.account, self.listing)
        if self.fine_tuning is not None:
            self.register_fine_tuning(self.fine_tuning)

    # ------------------------------------------------------------ lifespan

    def open(self) -> None:
        path = db_path(self.settings, self.compute.domain.chain_id, self.compute.serving.address, self.account.address)
        self._store = ProviderStore.open(path, self.account.address)
        if cleared := self._store.clear_inflight():
            log.warning("%d requests were running when the provider stopped; they were not charged", cleared)
        self._billing = Billing(self.compute, self._store, self.signer, self.prices)
        self._settler = Settler(
            self.compute, self._store, self.settings.compute_settle_batch, self.settings.compute_settle_interval
        )
        self._settler.start()
        if self.fine_tuning is not None:
            self._open_fine_tuning(self.fine_tuning)
        log.info(
            "provider %s (signer %s), store %s, %d vouchers to settle",
            self.account.address,
            self.signer.address,
            path,
            self._store.unsettled_count(),
        )

    def _open_fine_tuning(self, fine_tuning: FineTuning) -> None:
        # peft (and transformers under it) load only on a provider that fine-tunes: seconds saved at every start.
        from services.compute_provider.finetune.engine import estimate_tokens, train_task

        s = self.settings
        path = finetune_db_path(s, fine_tuning.deployment.chain_id, fine_tuning.contract.address, self.account.address)
        self.tasks = store = TaskStore.open(path)

        def handle(conn: Any, event: Any) -> None:
            if event["args"]["provider"] == self.account.address:
                store.add(conn, event)

        self._task_follower = DaemonFollower(
            fine_tuning.w3, store, FOLLOWER_NAME, [fine_tuning.contract.events.TaskCreated], handle, store.rollback,
            start_block=fine_tuning.from_block, confirmations=s.confirmations, poll_interval=s.poll_interval,
            resync=s.resync,
        )  # fmt: skip
        assert self.model_file is not None
        self._task_runner = TaskRunner(
            store, fine_tuning, self.signer, self.model_file, path.parent, s.indexer_url,
            s.compute_finetune_max_dataset_bytes, s.poll_interval, train_task, estimate_tokens,
        )  # fmt: skip
        self._task_follower.start()
        self._task_runner.start()

    def close(self) -> None:
        if self._task_runner is not None:
            self._task_runner.stop()
            self._task_runner = None
        if self._task_follower is not None:
            self._task_follower.stop()
            self._task_follower = None
        if self.tasks is not None:
            self.tasks.close()
            self.tasks = None
        if self._settler is not None:
            result = self._settler.stop(final=True)
            if result is not None and result.vouchers:
                log.info("settled %d vouchers (%d wei) on shutdown", result.vouchers, result.paid)
            self._settler = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._billing = None

    @property
    def ready(self) -> bool:
        return self.generator is not None and self.service is not None and self._billing is not None

    @property
    def store(self) -> ProviderStore:
        if self._store is None:
            raise RuntimeError("the provider is not running (app lifespan not started)")
        return self._store

    @property
    def billing(self) -> Billing:
        if self._billing is None:
            raise RuntimeError("the provider is not running (app lifespan not started)")
        return self._billing

    @property
    def settler(self) -> Settler:
        if self._settler is None:
            raise RuntimeError("the provider is not running (app lifespan not started)")
        return self._settler

    def model(self) -> TextGenerator:
        if self.generator is None:
            raise RuntimeError("no model loaded")
        return self.generator

    def describe(self) -> dict[str, Any]:
        return {
            "provider": self.account.address,
            "signer": self.signer.address,
            "model": self.model_name,
            "url": self.url,
            "inputPrice": str(self.prices.input),
            "outputPrice": str(self.prices.output),
            "listing": self.listing.id if self.listing is not None else None,
        }
