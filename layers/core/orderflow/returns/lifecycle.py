"""The return (RMA) lifecycle as data. The warehouse's receipt moves a return through several statuses
in one write (RECEIVED → RESTOCKED or SCRAPPED → REFUNDED): each step of it must be allowed here.

``ReturnsRepository`` makes every status write conditional on the statuses this table allows before the
first status the write passes through.
"""

from orderflow.returns.domain import ReturnStatus as R
from orderflow.shared.lifecycle import Lifecycle

TRANSITIONS: dict[R, frozenset[R]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.RESTOCKED, R.SCRAPPED}),
    R.RESTOCKED: frozenset({R.REFUNDED}),
    R.SCRAPPED: frozenset({R.REFUNDED}),
    R.REFUNDED: frozenset(),
    R.REJECTED: frozenset(),
}
RETURN_LIFECYCLE = Lifecycle("return", TRANSITIONS)
