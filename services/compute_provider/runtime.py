"""What the provider holds while it runs: settings, keys, the chain view, the model, the store, billing and
the settler.

`prepare()` runs before the HTTP server starts: it checks the configuration against the chain, trains the
model into its cache if it is missing, loads it, and registers (or updates) the service on chain — so the
daemon's /health answers 200 only once it can serve. `open()`/`close()` run in the app's lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from services.compute_provider.billing import Billing, Prices
from services.compute_provider.config import (
    ProviderSettings,
    db_path,
    load_provider,
    load_signer,
    model_path,
    provider_url,
)
from services.compute_provider.model.checkpoint import CheckpointError
from services.compute_provider.model.generate import TextGenerator
from services.compute_provider.model.train import ensure_model
from services.compute_provider.model_source import fetch_model, link_listing
from services.compute_provider.settlement import Settler
from services.compute_provider.store import ProviderStore
from zerog.compute.client import Compute, service_params
from zerog.compute.records import ServiceInfo, ServiceType, Verifiability
from zerog.errors import ConfigError
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
        self.service: ServiceInfo | None = None
        self._store: ProviderStore | None = None
        self._billing: Billing | None = None
        self._settler: Settler | None = None

    # ------------------------------------------------------------ before serving

    def check_chain(self) -> None:
        """Settings must fit the deployed contracts: the refund timelock must outlast our settle interval."""
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
        try:
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

    def prepare(self, progress: Callable[[int, int, float], None] | None = None) -> None:
        self.check_chain()
        self.load_model(progress)
        self.register()
        if self.listing is not None:
            link_listing(self.settings, self.account, self.listing)

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
        log.info(
            "provider %s (signer %s), store %s, %d vouchers to settle",
            self.account.address,
            self.signer.address,
            path,
            self._store.unsettled_count(),
        )

    def close(self) -> None:
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
