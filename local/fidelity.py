"""Gaps between moto and AWS that the offline stack closes, so tests see AWS's guarantees.

- Atomic requests. DynamoDB applies each write, and each transaction, atomically. moto's server
  handles requests in parallel threads without a lock, and its ``TransactWriteItems`` restores a
  deep copy of whole tables when a condition fails, which would undo other threads' writes made in
  between. Serialising DynamoDB requests restores AWS's atomicity; the races our code must win (two
  orders for the last unit, cancel against ship) still happen between requests, as on AWS.
- All-or-nothing transactions. moto applies a transaction's items one by one and rolls back when a
  later condition fails, so the stream (and the functions consuming it) sees writes of a cancelled
  transaction. Every condition is checked first here, and nothing is applied if one fails.
- Stream sequence numbers. moto numbers stream records by their position among the records not yet
  delivered, so after each delivery numbering starts again; here they increase for ever, as on AWS.
- Stream retries. moto drops a stream batch whatever the function answered; here a failed batch
  (an error, or ``batchItemFailures`` from ``ReportBatchItemFailures``) stays on the stream from its
  first failed record and is delivered again with the table's next change (on AWS: at once, and at
  most ``MaximumRetryAttempts`` times).
- Stream filters. moto invokes a stream's function with every record, whatever the mapping's
  ``FilterCriteria``; Lambda drops the records that match none of its patterns before batching and
  invokes nothing for them. Here too (:func:`matching`, for moto's inline delivery and the pollers).
- Comparisons of mismatched types. A condition or filter comparing values of different types (``n < :s``
  with a number stored and a string given) is false on AWS (DynamoDB Local, AWS's own emulator, answers
  ``ConditionalCheckFailedException``); moto's ``<``, ``<=``, ``>``, ``>=`` and ``BETWEEN`` compare the Python
  values and raise, so the request answered 500. Here they are false.
- Closed task tokens. moto accepts ``SendTaskSuccess``/``SendTaskFailure`` for a token whose task has
  had its answer already (the later one is silently dropped); AWS answers ``TaskTimedOut`` ("the task
  associated with the token has already been closed"). Code that counts the tasks it resumed (a receipt
  waking backorders) would count one twice and leave stock unallocated. Here the second answer fails.
- SQS event sources. moto runs an SQS-triggered function inside the ``SendMessage`` request, one
  message per invocation; it deletes every message the function returned for (ignoring
  ``batchItemFailures``: reported failures are lost) and, when one invocation raised, makes every
  received message visible again at once, successful ones included, to be retried only when the next
  message is sent. Here moto never delivers SQS mappings itself: :class:`SqsEventSources` polls each
  queue like Lambda's poller (batches up to ``BatchSize``, gathered for ``MaximumBatchingWindowInSeconds``,
  whole-batch retry on an error, partial retry with ``ReportBatchItemFailures``), so failed records come
  back after the visibility timeout
  and, after ``maxReceiveCount`` receives, moto's own redrive moves them to the dead-letter queue.

Two more keep moto's memory bounded in long runs (``make soak``), without changing what it answers:

- Untracked DynamoDB models. moto's ``BaseModel`` appends every instance it ever creates to its
  class's ``instances_tracked`` (for the server's dashboard, which nothing here reads), so no item,
  table, stream shard or stream record is ever freed: every item version, and every table copy below.
- Per-item transaction rollback. moto's ``TransactWriteItems`` deep-copies every table it touches,
  whole, before writing, so each transaction costs a copy of those tables, however few items it names.
  Here it keeps a copy of only the items the transaction names (and of the tables' undelivered stream
  records) and puts those back when the transaction fails half-way, which is what moto's whole-table
  restore amounts to when requests are serialised.

And seven only save time (``make bench``, section 6), again without changing an answer:

- Only the items asked for. moto answers a Query of a table by sorting every item of the table and keeping
  the partition's, a Query of an index by sorting every item and keeping the index key's, and each
  segment of a parallel Scan by sorting every item and skipping the other segments', so each cost grew
  with the table: the nightly run over N SKUs, a few Queries per SKU and a segment per 200 SKUs, took
  time in N² log N (1,000 SKUs: 497 s). Here a table's Query sees only the partition's items, found by
  its key as ``GetItem`` finds an item; an index's Query the items unsorted (moto sorts its matches by a
  total order ending with the table's key); a segment only its own items (moto's segment of each item).
- Queue counts when asked. moto computes every attribute of a queue, counting its messages three times
  over, whenever it needs one: for each message sent (to read ``ContentBasedDeduplication``) and, three
  times, for each message received (``MessageRetentionPeriod``). Messages nobody reads pile up (the
  purchase orders on a supplier's queue offline), so sending grew with the square of their number. Here
  those two leave the counts out; ``GetQueueAttributes`` counts as before.

- Parsed once. moto parses a state machine's ASL again (with ANTLR) for every execution, builds a
  new JSONPath parser (PLY, tables and all) for every path it evaluates (each EventBridge event
  delivered to a rule's target, each ``ResultPath`` and path of a workflow state), and tokenizes and
  parses a DynamoDB update expression twice per ``UpdateItem`` (once per item of a transaction).
  These parsers are pure functions of their text, and what they return is only read afterwards (the
  update expression's validators work on a deep copy), so each text is parsed once here and the
  result kept (up to a bounded number of texts).
- Items dumped as JSON. moto serializes every DynamoDB answer by walking botocore's output shape
  member by member, down every attribute of every item; for the item operations (GetItem, Query,
  TransactWriteItems, ...) its answer is already DynamoDB's JSON, so it is dumped as it is, as moto
  did before it had that serializer (``tests/local/test_local_transport.py`` reads every attribute
  type back through each of them).
- Handler methods listed once. For every request moto lists the methods of its handler class with
  ``inspect.getmembers``; the list is made once per class here (the classes do not change after
  :func:`install`).
- Lambda clients reused. moto's Step Functions builds a new boto3 client for every Lambda task it
  runs; here one per region and port is built and reused (botocore clients are thread-safe).
- Expression trees copied directly. moto validates every update expression on a ``deepcopy`` of its
  parsed tree (the validators rewrite it), and ``deepcopy`` of its plain node objects goes through
  ``__reduce_ex__`` and ``_reconstruct`` for every node (2.7 times as slow on an order's update).
  The nodes get a ``__deepcopy__`` that copies their attributes the same way (memo and all), without
  the pickle protocol. Each of the ten validators also asked, for every node, which node classes it
  processes, building a dict of its bound methods to answer; the classes are kept per validator class.

The stream's consumer runs inside the write that caused it, hence inside the lock: it must not
call DynamoDB. (With ``Faults(stream_poller=True)`` a poller delivers the stream after the write, outside
the lock: :mod:`~orderflow_local.streams`. The DynamoDB handlers are also wrapped by
:mod:`~orderflow_local.contention`, which does nothing unless :mod:`~orderflow_local.faults` switches on
transaction conflicts or throttling.)

The patches are checked against one moto version (:data:`MOTO_VERSION`); :func:`install` refuses any other.
"""

from __future__ import annotations

import base64
import copy
import decimal
import functools
import itertools
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from orderflow_local import contention, express, identity
from orderflow_local import faults as faults_module

logger = logging.getLogger("orderflow_local.fidelity")

DYNAMODB_ACTIONS = (
    "get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_get_item",
    "batch_write_item", "transact_write_items", "transact_get_items",
)
_lock = threading.RLock()
_installed = False


def lock() -> threading.RLock:
    """The lock every DynamoDB request runs under (hold it to read moto's tables in-process)."""
    return _lock


MOTO_VERSION = "5.2.5"
"""The moto these patches were written against and checked on (pyproject.toml pins it too)."""


def check_moto_version() -> None:
    """Refuse to patch another moto: the private code patched here may have changed under it."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"the offline stack patches moto {MOTO_VERSION}'s private classes (local/fidelity.py, "
            f"local/express.py, local/contention.py) but moto {moto.__version__} is installed; check each "
            "patch against the new version, then change MOTO_VERSION and pyproject.toml's pin together")


def install() -> None:
    """Close every gap listed above (idempotent; moto's classes stay patched for the process)."""
    global _installed
    if _installed:
        return
    check_moto_version()
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamRecord, StreamShard
    from moto.dynamodb.responses import DynamoHandler
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager

    for action in DYNAMODB_ACTIONS:
        setattr(DynamoHandler, action, contention.wrap(action, _locked(getattr(DynamoHandler, action)), _lock))
    _untrack_models("moto.dynamodb.")
    DynamoDBBackend.transact_write_items = _conditions_first(_rollback_touched_items(
        DynamoDBBackend.transact_write_items))
    StreamRecord.__init__ = _increasing_sequence(StreamRecord.__init__)
    StreamShard.get = _records_from_sequence_number
    LambdaBackend.send_dynamodb_items = _keep_failed_records(_filtered(LambdaBackend.send_dynamodb_items))
    CallbackPoolManager.notify = _answered_once(CallbackPoolManager.notify)
    LambdaBackend.create_event_source_mapping = _polled_sqs_mappings(LambdaBackend.create_event_source_mapping)
    _typed_comparisons()
    _parse_once()
    _dump_items_as_json()
    _reuse_lambda_clients()
    _copy_expression_trees_directly()
    _read_only_what_is_asked()
    _queue_counts_when_asked()
    import moto.core.responses as responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    express.install()
    identity.install()
    _installed = True


def _typed_comparisons() -> None:
    """moto's ordering operators and ``BETWEEN``, false when their operands are of different types."""
    import operator

    from moto.dynamodb import comparisons

    def kind(value: Any) -> str:  # the operands are moto's cast values (Decimal, str, bytes, ...)
        if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
            return "N"
        return getattr(value, "type", None) or type(value).__name__

    def same_type(*values: Any) -> bool:
        return len({kind(v) for v in values}) == 1

    def ordering(compare: Callable[[Any, Any], bool]) -> Any:
        def expr(self: Any, item: Any) -> bool:
            lhs, rhs = self.lhs.expr(item), self.rhs.expr(item)
            return lhs is not None and rhs is not None and same_type(lhs, rhs) and compare(lhs, rhs)

        return expr

    for cls, compare in ((comparisons.OpLessThan, operator.lt), (comparisons.OpLessThanOrEqual, operator.le),
                         (comparisons.OpGreaterThan, operator.gt), (comparisons.OpGreaterThanOrEqual, operator.ge)):
        cls.expr = ordering(compare)

    def between(self: Any, item: Any) -> bool:
        start, attr, end = self.start.expr(item), self.attr.expr(item), self.end.expr(item)
        return attr is not None and same_type(start, attr, end) and start <= attr <= end

    comparisons.FuncBetween.expr = between


def _reuse_lambda_clients() -> None:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval
    from moto.settings import moto_server_port

    build = lambda_eval.boto_client_for
    built: dict[tuple[str, str, str], Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's builder ignores the state's credentials; each stack has a port of its own.
        key = (region, service, str(moto_server_port()))
        if key not in built:
            built[key] = build(region, service, state_credentials)
        return built[key]

    lambda_eval.boto_client_for = boto_client_for


def _copy_expression_trees_directly() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    atomic = (str, int, bool, type(None))
    deepcopy = copy.deepcopy

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        attributes = copied.__dict__
        for name, value in self.__dict__.items():
            if type(value) is list and id(value) not in memo:
                items: list[Any] = []
                memo[id(value)] = items
                items.extend(item if type(item) in atomic else deepcopy(item, memo) for item in value)
                value = items
            elif type(value) not in atomic:
                value = deepcopy(value, memo)
            attributes[name] = value
        return copied

    Node.__deepcopy__ = __deepcopy__  # type: ignore[attr-defined]

    processed: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        classes = processed.get(type(self))
        if classes is None:
            classes = processed[type(self)] = tuple(self._processing_map())
        return classes

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]


ITEM_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactGetItems", "TransactWriteItems",
})


class _Items:
    """A table as one request sees it: ``all_items`` answers the items the request can return, in the
    order moto's own ``all_items`` would (by hash key, then range key) when that order matters."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table, self._items = table, items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return self._items


def _every_item(table: Any) -> list[Any]:
    """The table's items in no particular order (moto's ``all_items`` without its sort)."""
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def _in_key_order(items: list[Any]) -> list[Any]:
    """``items`` sorted as moto's ``Table.all_items`` sorts the whole table."""
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _partition(table: Any, hash_key: Any) -> list[Any]:
    found = table.items.get(hash_key)
    if found is None:
        return []
    return sorted(found.values(), key=lambda item: item.range_key) if table.range_key_attr else [found]


def _read_only_what_is_asked() -> None:
    """moto's ``Table.query`` and ``Table.scan``, given only the items the request can return.

    - A Query of the table: its partition, found by key (moto keeps the items whose hash key is the
      Query's, in the same order).
    - A Query of an index: every item, unsorted. moto keeps those with the index's key and sorts them by
      the index's keys and then the table's: the table's key is unique, so that order is total and the
      order the items came in changes nothing.
    - A parallel Scan's segment: the segment's items (moto's own ``is_within_segment``), in moto's order;
      moto skips every other item, and neither counts nor pages over them.
    """
    from moto.dynamodb.models.table import Table

    query_any, scan_any = Table.query, Table.scan

    @functools.wraps(query_any)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            return query_any(_Items(self, _every_item(self)), hash_key, *args, **kwargs)
        if hash_key is None:
            return query_any(self, hash_key, *args, **kwargs)
        return query_any(_Items(self, _partition(self, hash_key)), hash_key, *args, **kwargs)

    @functools.wraps(scan_any)
    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        segments = args[7] if len(args) > 7 else kwargs.get("segments", (None, None))
        if index_name or segments == (None, None):
            return scan_any(self, *args, **kwargs)
        mine = _in_key_order([item for item in _every_item(self) if item.is_within_segment(segments)])
        return scan_any(_Items(self, mine), *args, **kwargs)

    Table.query, Table.scan = query, scan


_reading_one_attribute = threading.local()


class _QueueAttributeNames:
    """``Queue.BASE_ATTRIBUTES``, the names ``Queue.attributes`` computes: in this thread, while a
    ``SendMessage`` or ``ReceiveMessage`` runs, without the three message counts."""

    COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
              "ApproximateNumberOfMessagesNotVisible")

    def __init__(self, names: list[str]) -> None:
        self.every, self.uncounted = names, [name for name in names if name not in self.COUNTS]

    def __get__(self, queue: Any, owner: type) -> list[str]:
        return self.uncounted if getattr(_reading_one_attribute, "depth", 0) else self.every


def _queue_counts_when_asked() -> None:
    """moto's ``Queue.attributes`` without its three message counts (each a pass over every message of the
    queue) inside ``SendMessage`` and ``ReceiveMessage``, which read only ``ContentBasedDeduplication``
    and, once per message received, ``MessageRetentionPeriod`` from them."""
    from moto.sqs.models import Queue, SQSBackend

    def without_counts(action: Any) -> Any:
        @functools.wraps(action)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            _reading_one_attribute.depth = getattr(_reading_one_attribute, "depth", 0) + 1
            try:
                return action(self, *args, **kwargs)
            finally:
                _reading_one_attribute.depth -= 1

        return call

    Queue.BASE_ATTRIBUTES = _QueueAttributeNames(Queue.BASE_ATTRIBUTES)  # type: ignore[assignment]
    SQSBackend.send_message = without_counts(SQSBackend.send_message)
    SQSBackend.receive_message = without_counts(SQSBackend.receive_message)


def _dump_items_as_json() -> None:
    """``DynamoResult.execute_result`` that answers the item operations with ``json.dumps``."""
    from moto.dynamodb.models.utilities import dynamo_json_dump
    from moto.dynamodb.responses import DynamoResult

    serialized = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_OPERATIONS:
            return serialized(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, dynamo_json_dump(self.result)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


WINDOW_POLL_SECONDS = 0.25  # while gathering a batch for its window, how often a poller asks again
PARSED_TEXTS = 512  # per parser: state machine definitions, JSONPath expressions


def _parse_once() -> None:
    """Memoise moto's ASL parser, the JSONPath parsers its Step Functions and EventBridge call, and its
    DynamoDB update-expression parser."""
    import jsonpath_ng
    import jsonpath_ng.ext
    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
    import moto.stepfunctions.parser.asl.utils.json_path as json_path
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    update = functools.lru_cache(maxsize=PARSED_TEXTS)(UpdateExpressionParser.make)
    UpdateExpressionParser.make = staticmethod(update)  # type: ignore[method-assign]
    asl = functools.lru_cache(maxsize=PARSED_TEXTS)(AmazonStateLanguageParser.parse)
    AmazonStateLanguageParser.parse = staticmethod(asl)  # type: ignore[method-assign]
    extended = functools.lru_cache(maxsize=PARSED_TEXTS)(jsonpath_ng.ext.parse)
    plain = functools.lru_cache(maxsize=PARSED_TEXTS)(jsonpath_ng.parse)
    jsonpath_ng.ext.parse = json_path.parse = extended  # moto.events imports it from jsonpath_ng.ext per call
    jsonpath_ng.parse = result_path.parse = plain


def _locked(original: Any) -> Any:
    @functools.wraps(original)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    return locked


def _conditions_first(original: Any) -> Any:
    """``transact_write_items`` that cancels before writing anything when a condition fails,
    with the per-item reasons moto's own code gives."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        reasons: list[tuple[Any, Any, Any]] = []
        targets: set[str] = set()
        for item in transact_items:
            ((_, op),) = item.items()
            table = self.get_table(op["TableName"])  # moto's ResourceNotFoundException for an unknown table
            key = op.get("Key") or _item_key(table, op["Item"])
            targets.add(json.dumps([op["TableName"], key], sort_keys=True))
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is None or get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                reasons.append((None, None, None))
                continue
            old = (current.to_json()["Attributes"]
                   if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
            reasons.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
        if len(targets) == len(transact_items) and any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        return original(self, transact_items)

    return transact_write_items


def _item_key(table: Any, item: dict[str, Any]) -> dict[str, Any]:
    """The key attributes of a ``Put``'s item; AWS's ValidationException when one is missing."""
    from moto.dynamodb.exceptions import MockValidationException

    key = {}
    for attribute in (table.hash_key_attr, table.range_key_attr):
        if attribute is None:
            continue
        if attribute not in item:
            raise MockValidationException(
                f"One or more parameter values were invalid: Missing the key {attribute} in the item")
        key[attribute] = item[attribute]
    return key


def _untrack_models(module_prefix: str) -> None:
    """moto's ``BaseModel.__new__`` without the ``instances_tracked`` list for the models of the modules
    under ``module_prefix`` (moto's reset empties those lists but tracking would start again)."""
    from moto.core.common_models import BaseModel

    tracked = BaseModel.__new__

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith(module_prefix):
            return object.__new__(cls)
        return tracked(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign]


_rolling_back = threading.local()


class _TablesNotCopied:
    """The ``copy`` module as ``moto.dynamodb.models`` sees it: while :func:`_rollback_touched_items` holds
    a transaction's own backup (in this thread), ``deepcopy(table)`` is the table itself, so moto's
    whole-table backup and its restore cost nothing."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def deepcopy(self, x: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(x, Table) and getattr(_rolling_back, "active", False):
            return x
        return self._module.deepcopy(x, memo)


def _rollback_touched_items(original: Any) -> Any:
    """``transact_write_items`` that backs up the items it names, not their whole tables."""

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not isinstance(models.copy, _TablesNotCopied):
        models.copy = _TablesNotCopied(copy)  # type: ignore[attr-defined]

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup: dict[tuple[int, Any, Any], tuple[Any, Any, Any, Any]] = {}
        shards: dict[int, tuple[Any, list[Any]]] = {}
        for item in transact_items:
            ((_, op),) = item.items()
            table = self.get_table(op["TableName"])
            key = op.get("Key") or _item_key(table, op["Item"])
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            before = copy.deepcopy(table.get_item(hash_key, range_key))
            backup.setdefault((id(table), hash_key, range_key), (table, hash_key, range_key, before))
            if table.stream_shard is not None:
                shards.setdefault(id(table), (table.stream_shard, list(table.stream_shard.items)))
        _rolling_back.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, before in backup.values():
                bucket = table.items[hash_key] if range_key is not None else table.items
                slot = range_key if range_key is not None else hash_key
                if before is None:
                    bucket.pop(slot, None)
                else:
                    bucket[slot] = before
            for shard, records in shards.values():
                shard.items = records
            raise
        finally:
            _rolling_back.active = False

    return transact_write_items


_sequence = itertools.count(1100000000017454423009)


def _increasing_sequence(original: Any) -> Any:
    @functools.wraps(original)
    def init(self: Any, table: Any, stream_type: str, event_name: str, old: Any, new: Any, seq: int) -> None:
        original(self, table, stream_type, event_name, old, new, next(_sequence))

    return init


def _records_from_sequence_number(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """GetRecords from ``start`` by sequence number: moto counts positions from the shard's first number,
    which neither the increasing numbers above nor a shard the pollers trimmed keep."""
    with _lock:
        found = [r for r in self.items if int(r.record["dynamodb"]["SequenceNumber"]) >= int(start)]
        return [r.to_json() for r in found[:quantity]]


def matching(records: list[dict[str, Any]], criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The records that match one of a mapping's ``FilterCriteria`` patterns (EventBridge's pattern syntax,
    matched against the whole record), or all of them when it has none."""
    from moto.events.models import EventPattern

    patterns = [EventPattern.load(f["Pattern"]) for f in (criteria or {}).get("Filters") or []]
    return [r for r in records if any(p.matches_event(r) for p in patterns)] if patterns else records


def _filtered(original: Any) -> Any:
    """``send_dynamodb_items`` that passes on only the records the mapping's ``FilterCriteria`` match, and
    invokes nothing (answering an empty success, so moto drops them) when none does."""

    @functools.wraps(original)
    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
        criteria = next((m.filter_criteria for m in self._event_source_mappings.values()
                         if m.function_arn == function_arn and m.event_source_arn == source), None)
        if not criteria:
            return original(self, function_arn, items, source)
        wanted = [item for item in items if matching([json.loads(json.dumps(item.to_json(), default=str))],
                                                     criteria)]
        return original(self, function_arn, wanted, source) if wanted else b"{}"

    return send_dynamodb_items


def _keep_failed_records(original: Any) -> Any:
    """``send_dynamodb_items`` whose falsy answer makes moto keep the shard's undelivered records."""

    @functools.wraps(original)
    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
        result = original(self, function_arn, items, source)
        try:
            answer = json.loads(result)
        except (TypeError, ValueError):
            return result
        if not isinstance(answer, dict):
            return result
        if "errorType" in answer:
            return b""
        failed = [int(f["itemIdentifier"]) for f in answer.get("batchItemFailures") or []]
        if not failed:
            return result
        first = min(failed)
        del items[: next((i for i, r in enumerate(items) if int(r.record["dynamodb"]["SequenceNumber"]) >= first), 0)]
        return b""

    return send_dynamodb_items


def _answered_once(original: Any) -> Any:
    """``CallbackPoolManager.notify`` that answers ``TaskTimedOut`` for a token already answered, as AWS
    does for a closed task (raised here: moto's own translation of its callback errors answers 500)."""
    from moto.stepfunctions.parser.api import TaskTimedOut

    answering = threading.Lock()

    @functools.wraps(original)
    def notify(self: Any, callback_id: str, outcome: Any) -> bool:
        with answering:
            endpoint = self._pool.get(callback_id)
            if endpoint is not None and endpoint.get_outcome() is not None:
                raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'", "TaskTimedOut")
            return original(self, callback_id, outcome)

    return notify


def _polled_sqs_mappings(original: Any) -> Any:
    """``create_event_source_mapping`` that keeps an SQS mapping (listed, updated, deleted through the
    API as usual) but unhooks it from the queue, so moto never runs it inside ``SendMessage``."""
    from moto.sqs.models import sqs_backends

    @functools.wraps(original)
    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        mapping = original(self, spec)
        if mapping.event_source_arn.split(":")[2] == "sqs":
            for queue in sqs_backends[self.account_id][self.region_name].queues.values():
                if queue.lambda_event_source_mappings.get(mapping.function_arn) is mapping:
                    del queue.lambda_event_source_mappings[mapping.function_arn]
        return mapping

    return create_event_source_mapping


Invoke = Callable[[str, Any], Any]
"""``invoke(function_arn, event) -> response``; raises when the function fails."""


class SqsEventSources:
    """Lambda's SQS pollers: one thread per SQS event-source mapping that exists when :meth:`start` runs.

    Each thread long-polls its queue and invokes the function with up to ``BatchSize`` records (AWS's
    record shape). A batch that raises is left alone, so every record comes back after the visibility
    timeout; with ``ReportBatchItemFailures`` the records named in ``batchItemFailures`` stay and the
    rest are deleted (an identifier not in the batch fails the whole batch, as on AWS); otherwise the
    batch is deleted. The mapping's ``State`` and ``BatchSize`` are read before each poll, so
    ``UpdateEventSourceMapping`` (e.g. ``Enabled=False``) applies at once.

    ``visibility_timeout`` (seconds) overrides the queue's for the pollers' receives: a failed record
    comes back that much later (the local stack keeps it short; ``None`` keeps the queue's).

    With :mod:`~orderflow_local.faults`' ``sqs_duplicates``, each record the function handled is, at that
    rate, left undeleted, so it is delivered again after the visibility timeout: AWS's at-least-once
    delivery, where a copy of the message on a server that missed the delete comes back.
    """

    def __init__(
        self,
        client: Callable[[str], BaseClient],
        invoke: Invoke,
        visibility_timeout: int | None = None,
        wait_seconds: int = 1,
    ) -> None:
        self._lambda = client("lambda")
        self._sqs = client("sqs")
        self._invoke = invoke
        self._visibility_timeout = visibility_timeout
        self._wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        mappings = self._lambda.list_event_source_mappings()["EventSourceMappings"]
        for mapping in mappings:
            if mapping["EventSourceArn"].split(":")[2] != "sqs":
                continue
            queue_url = self._sqs.get_queue_url(QueueName=mapping["EventSourceArn"].rsplit(":", 1)[1])["QueueUrl"]
            thread = threading.Thread(
                target=self._poll,
                args=(mapping["UUID"], queue_url),
                name=f"orderflow-sqs-{mapping['FunctionArn'].rsplit(':', 1)[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling; a batch being delivered is finished first."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _poll(self, mapping_uuid: str, queue_url: str) -> None:
        while not self._stop.is_set():
            try:
                mapping = self._lambda.get_event_source_mapping(UUID=mapping_uuid)
                if mapping["State"] != "Enabled":
                    self._stop.wait(self._wait_seconds)
                    continue
                messages = self.receive(queue_url, int(mapping["BatchSize"]),
                                        float(mapping.get("MaximumBatchingWindowInSeconds") or 0))
                if messages:
                    self.deliver(mapping, queue_url, messages)
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("SQS event source %s failed; polling again", mapping_uuid)
                self._stop.wait(self._wait_seconds)

    def receive(self, queue_url: str, batch_size: int, window: float = 0.0) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages: a long poll for the first, then what is there at once; with a batching
        ``window`` (``MaximumBatchingWindowInSeconds``), what arrives until that long after the first, unless
        the batch fills first. The messages stay invisible while gathered: the window adds to the timeout."""
        batch: dict[str, dict[str, Any]] = {}
        wait = self._wait_seconds
        options = {"VisibilityTimeout": self._visibility_timeout + math.ceil(window)} \
            if self._visibility_timeout is not None else {}
        first: float | None = None
        while len(batch) < batch_size and not self._stop.is_set():
            received = self._sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, batch_size - len(batch)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                **options,
            ).get("Messages", [])
            new = {m["MessageId"]: m for m in received if m["MessageId"] not in batch}
            wait = 0
            if new:
                batch.update(new)
                first = first if first is not None else time.monotonic()
                continue
            left = window - (time.monotonic() - first) if first is not None else 0.0
            if left <= 0:  # nothing more (or, with a zero visibility timeout, the same ones again)
                break
            self._stop.wait(min(WINDOW_POLL_SECONDS, left))
        return list(batch.values())

    def deliver(self, mapping: dict[str, Any], queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Invoke the mapping's function with ``messages`` and delete the records it handled."""
        event = {"Records": [sqs_record(m, mapping["EventSourceArn"]) for m in messages]}
        try:
            response = self._invoke(mapping["FunctionArn"], event)
        except Exception as exc:
            logger.info("%s failed on %d SQS record(s); they come back after the visibility timeout: %s",
                        mapping["FunctionArn"], len(messages), exc)
            return
        failed = _failed_ids(response, {m["MessageId"] for m in messages}) if (
            "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])) else set()
        settings, dice = faults_module.current()
        done = [m for m in messages if m["MessageId"] not in failed
                and not dice.roll(settings.sqs_duplicates, "sqs_duplicates")]
        for chunk in (done[i : i + 10] for i in range(0, len(done), 10)):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)]
            self._sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)


def _failed_ids(response: Any, batch: set[str]) -> set[str]:
    """The message ids a ``ReportBatchItemFailures`` response names; all of them when it is malformed."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    ids = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    return ids if ids <= batch else batch


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """The Lambda event record of a message received with all system and message attributes."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes") or {},
        "messageAttributes": {k: _attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        record["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        record["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return record
