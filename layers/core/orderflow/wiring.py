"""The composition root: builds each area's service from its adapters and the function's settings.

Handlers (``functions/``) call these once per cold start; nothing inside an area builds an adapter.
Each builder imports what it wires when it is called, so a function loads only the adapters it uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orderflow.shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from orderflow.alerts import AlertService
    from orderflow.catalogue import CatalogueService
    from orderflow.fulfilment import FulfilmentService
    from orderflow.inventory import InventoryService
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.kpis import KpiService
    from orderflow.orders import OrderService
    from orderflow.purchasing.service import PurchasingService
    from orderflow.replenishment.service import ReplenishmentService
    from orderflow.replenishment.simulation.service import SimulationsService
    from orderflow.returns.service import ReturnService


class _OnFirstUse:
    """An adapter built, and its module imported, when its service first uses it: the order service holds eleven,
    and taking or reading an order uses four, so a cold start does not load the others (docs/decisions.md, "Cold
    start"). Stands in for the adapter wherever the service reads its attributes."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build, self._lock, self._adapter = build, threading.Lock(), None

    def __getattr__(self, name: str) -> Any:
        if self._adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._build()
        return getattr(self._adapter, name)


def _stock(s: Settings) -> Any:
    from orderflow.inventory.adapters.stock import StockRepository

    return StockRepository(s.stock_table)


def _demand(s: Settings) -> Any:
    from orderflow.inventory.adapters.demand import DemandRepository

    return DemandRepository(s.demand_table)


def _arrivals(s: Settings) -> Any:
    from orderflow.inventory.adapters.arrivals import StockArrivals

    return StockArrivals(s.stock_arrivals_queue_url)


def _locations(s: Settings) -> Any:
    from orderflow.fulfilment.adapters.locations import LocationsRepository

    return LocationsRepository(s.locations_table)


def _shipments(s: Settings) -> Any:
    from orderflow.fulfilment.adapters.shipments import ShipmentsRepository

    return ShipmentsRepository(s.shipments_table)


def catalogue_service(settings: Settings | None = None) -> CatalogueService:
    from orderflow.catalogue import CatalogueService
    from orderflow.catalogue.adapters.customers import CustomersRepository
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.platform.dynamo import DynamoStore

    s = settings or get_settings()
    return CatalogueService(DynamoStore(), ProductsRepository(s.products_table), CustomersRepository(s.customers_table),
                            StockRepository(s.stock_table))


def inventory_service(settings: Settings | None = None) -> InventoryService:
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.fulfilment.adapters.locations import LocationsRepository
    from orderflow.inventory import InventoryService
    from orderflow.inventory.adapters.arrivals import StockArrivals
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.orders.adapters.workflow import OrderWorkflow

    s = settings or get_settings()
    return InventoryService(StockRepository(s.stock_table), ProductsRepository(s.products_table),
                            StockArrivals(s.stock_arrivals_queue_url), OrderWorkflow(s.order_state_machine_arn),
                            LocationsRepository(s.locations_table))


def demand_history(settings: Settings | None = None) -> DemandRepository:
    """The demand history (the stream's demand counter adds shipped units to it)."""
    from orderflow.inventory.adapters.demand import DemandRepository

    return DemandRepository((settings or get_settings()).demand_table)


def order_service(settings: Settings | None = None) -> OrderService:
    """Its orders, workflow, customers and products adapters now (every submit and read uses them); the stock,
    demand, arrivals, locations and shipments adapters on first use."""
    from orderflow.catalogue.adapters.customers import CustomersRepository
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.catalogue.adapters.recent import RecentProducts
    from orderflow.orders import OrderService
    from orderflow.orders.adapters.table import OrdersRepository
    from orderflow.orders.adapters.workflow import OrderWorkflow
    from orderflow.platform.dynamo import DynamoStore

    s = settings or get_settings()
    return OrderService(s, DynamoStore(), OrdersRepository(s.orders_table), OrderWorkflow(s.order_state_machine_arn),
                        _OnFirstUse(lambda: _stock(s)), CustomersRepository(s.customers_table),
                        RecentProducts(ProductsRepository(s.products_table)), _OnFirstUse(lambda: _demand(s)),
                        _OnFirstUse(lambda: _arrivals(s)), _OnFirstUse(lambda: _locations(s)),
                        _OnFirstUse(lambda: _shipments(s)))


def return_service(settings: Settings | None = None, orders: OrderService | None = None,
                   inventory: InventoryService | None = None) -> ReturnService:
    from orderflow.catalogue.adapters.customers import CustomersRepository
    from orderflow.fulfilment.adapters.locations import LocationsRepository
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.orders.adapters.table import OrdersRepository
    from orderflow.platform.dynamo import DynamoStore
    from orderflow.returns.adapters.table import ReturnsRepository
    from orderflow.returns.service import ReturnService

    s = settings or get_settings()
    return ReturnService(s, DynamoStore(), ReturnsRepository(s.returns_table, s.orders_table),
                         OrdersRepository(s.orders_table), StockRepository(s.stock_table),
                         CustomersRepository(s.customers_table), DemandRepository(s.demand_table),
                         orders or order_service(s), inventory or inventory_service(s),
                         LocationsRepository(s.locations_table))


def purchasing_service(settings: Settings | None = None) -> PurchasingService:
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.platform.dynamo import DynamoStore
    from orderflow.purchasing.adapters.purchase_orders import PurchaseOrdersRepository
    from orderflow.purchasing.adapters.supplier_queues import SupplierQueues
    from orderflow.purchasing.adapters.suppliers import SuppliersRepository
    from orderflow.purchasing.service import PurchasingService

    s = settings or get_settings()
    return PurchasingService(s, DynamoStore(), SuppliersRepository(s.suppliers_table),
                             PurchaseOrdersRepository(s.purchase_orders_table), StockRepository(s.stock_table),
                             SupplierQueues(s.supplier_queue_prefix), inventory_service(s),
                             ProductsRepository(s.products_table), fulfilment_service(s))


def replenishment_service(settings: Settings | None = None) -> ReplenishmentService:
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.platform.stepfunctions import StepFunctionsStarter
    from orderflow.replenishment.adapters.runs import ReplenishmentRunsRepository
    from orderflow.replenishment.service import ReplenishmentService

    s = settings or get_settings()
    return ReplenishmentService(s, ReplenishmentRunsRepository(s.replenishment_table),
                                ProductsRepository(s.products_table), StockRepository(s.stock_table),
                                DemandRepository(s.demand_table),
                                StepFunctionsStarter(s.replenishment_state_machine_arn), purchasing_service(s),
                                fulfilment_service(s))


def simulations_service(settings: Settings | None = None) -> SimulationsService:
    from orderflow.catalogue.adapters.products import ProductsRepository
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.platform.stepfunctions import StepFunctionsStarter
    from orderflow.replenishment.adapters.simulations import SimulationsRepository
    from orderflow.replenishment.simulation.service import SimulationsService

    s = settings or get_settings()
    return SimulationsService(SimulationsRepository(s.simulations_table), ProductsRepository(s.products_table),
                              DemandRepository(s.demand_table), StepFunctionsStarter(s.simulation_state_machine_arn))


def fulfilment_service(settings: Settings | None = None) -> FulfilmentService:
    from orderflow.fulfilment import FulfilmentService
    from orderflow.fulfilment.adapters.locations import LocationsRepository
    from orderflow.fulfilment.adapters.shipments import ShipmentsRepository
    from orderflow.platform.dynamo import DynamoStore

    s = settings or get_settings()
    return FulfilmentService(LocationsRepository(s.locations_table), ShipmentsRepository(s.shipments_table),
                             DynamoStore())


def alert_service(settings: Settings | None = None) -> AlertService:
    from orderflow.alerts.adapters.log import AlertsTable
    from orderflow.alerts.adapters.notify import TopicNotifier
    from orderflow.alerts.adapters.queues import DeadLetterQueueDepths
    from orderflow.alerts.service import AlertService
    from orderflow.purchasing.adapters.purchase_orders import PurchaseOrdersRepository
    from orderflow.replenishment.adapters.runs import ReplenishmentRunsRepository

    s = settings or get_settings()
    return AlertService(s, AlertsTable(s.alerts_table), TopicNotifier(s.alerts_topic_arn or ""),
                        PurchaseOrdersRepository(s.purchase_orders_table),
                        ReplenishmentRunsRepository(s.replenishment_table),
                        DeadLetterQueueDepths([u for u in s.dead_letter_queue_urls.split(",") if u]))


def kpi_service(settings: Settings | None = None) -> KpiService:
    from orderflow.inventory.adapters.demand import DemandRepository
    from orderflow.inventory.adapters.stock import StockRepository
    from orderflow.kpis.adapters.table import KpisTable
    from orderflow.kpis.service import KpiService
    from orderflow.replenishment.adapters.runs import ReplenishmentRunsRepository

    s = settings or get_settings()
    return KpiService(s, KpisTable(s.kpis_table), StockRepository(s.stock_table),
                      ReplenishmentRunsRepository(s.replenishment_table), DemandRepository(s.demand_table))
