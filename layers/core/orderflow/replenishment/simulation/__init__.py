"""Policy simulations: replay demand history through the replenishment policy and measure the service
and the stock it buys, against a min/max rule and (R, Q)."""
