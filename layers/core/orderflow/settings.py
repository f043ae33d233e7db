"""Configuration read once from the environment (the template sets it per function)."""

from functools import lru_cache

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    orders_table: str = "orders"
    stock_table: str = "stock"
    customers_table: str = "customers"
    products_table: str = "products"
    demand_table: str = "demand"
    returns_table: str = "returns"
    return_window_days: int = 30
    event_bus_name: str = "default"
    order_state_machine_arn: str | None = None
    idempotency_table: str | None = None
    idempotency_expiry_seconds: int = 86400
    max_body_bytes: int = 64 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
