"""``orderflow history import``: the CSV checks, and the command against a fake API (httpx.MockTransport)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest
from typer.testing import CliRunner

from orderflow_cli import main
from orderflow_cli.client import OrderflowClient
from orderflow_cli.history import HistoryFileError, read_history


def write(tmp_path, text: str, name: str = "history.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path) -> list[str]:
    """The problems of a file none of whose lines can be imported."""
    with pytest.raises(HistoryFileError) as caught:
        read_history(path)
    return [str(p) for p in caught.value.problems]


def test_rows_keep_their_file_line_and_columns_may_come_in_any_order(tmp_path):
    path = write(tmp_path, "date,SKU,quantity\n2024-01-01,A,3\n\n2024-01-01,B,0\n2024-01-02,A,5\n")
    found = read_history(path)
    rows = found.rows
    assert found.problems == [] and found.rows_left_out == 0
    assert [(r.line, r.sku, r.day, r.quantity) for r in rows] == [
        (2, "A", "2024-01-01", 3), (4, "B", "2024-01-01", 0), (5, "A", "2024-01-02", 5)]
    assert rows[0].body() == {"sku": "A", "day": "2024-01-01", "quantity": 3}


@pytest.mark.parametrize(("text", "expected"), [
    ("sku,day,qty\nA,2024-01-01,1\n",
     "line 1, header: expected the columns sku,date,quantity[,location_id], found sku,day,qty"),
    ("", "line 1, header: expected the columns sku,date,quantity[,location_id], found nothing"),
    ("sku,date,quantity\n", "line 2, row: the file has a header but no rows"),
    ("sku,date,quantity\nA,01/02/2024,1\n", "line 2, date: '01/02/2024' is not a date written YYYY-MM-DD"),
    ("sku,date,quantity\nA,2024-02-30,1\n", "line 2, date: '2024-02-30' is not a date written YYYY-MM-DD"),
    ("sku,date,quantity\nA,2024-01-01,-4\n", "line 2, quantity: -4 is negative"),
    ("sku,date,quantity\nA,2024-01-01,2.5\n", "line 2, quantity: '2.5' is not a whole number"),
    ("sku,date,quantity\nA,2024-01-01,\n", "line 2, quantity: '' is not a whole number"),
    ("sku,date,quantity\n,2024-01-01,1\n", "line 2, sku: is empty"),
    ("sku,date,quantity\nA,2024-01-01\n", "line 2, row: has 2 fields, expected 3"),
])
def test_a_bad_file_names_the_line_and_the_field(tmp_path, text, expected):
    assert problems_of(write(tmp_path, text)) == [expected]


def test_a_sku_with_dates_out_of_order_or_repeated_is_left_out_and_the_others_are_kept(tmp_path):
    path = write(tmp_path, "sku,date,quantity\nA,2024-01-02,1\nB,2024-01-01,1\nA,2024-01-01,1\nA,2024-01-02,2\n")
    found = read_history(path)
    assert [str(p) for p in found.problems] == [
        "line 4, date: 2024-01-01 comes before 2024-01-02 of line 2 for SKU A: each SKU's dates must go forward",
        "line 5, date: 2024-01-02 repeats 2024-01-02 of line 2 for SKU A: each SKU's dates must go forward"]
    assert [(r.sku, r.day) for r in found.rows] == [("B", "2024-01-01")]
    assert found.skus_left_out == ["A"] and found.rows_left_out == 3


def test_a_line_without_a_sku_is_left_out_alone(tmp_path):
    found = read_history(write(tmp_path, "sku,date,quantity\n,2024-01-01,1\nA,2024-01-01,2\nA,2024-01-02\n"))
    assert [str(p) for p in found.problems] == ["line 2, sku: is empty", "line 4, row: has 2 fields, expected 3"]
    assert [(r.sku, r.quantity) for r in found.rows] == [("A", 2)]
    assert found.skus_left_out == [] and found.rows_left_out == 2


def test_every_problem_of_the_file_is_reported_at_once(tmp_path):
    path = write(tmp_path, "sku,date,quantity\nA,2024-01-01,x\nA,2024-13-01,1\nB,2024-01-01,-1\n")
    assert [p.split(":")[0] for p in problems_of(path)] == ["line 2, quantity", "line 3, date", "line 4, quantity"]


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path):
    assert problems_of(tmp_path / "missing.csv")[0].startswith("line 0, file: cannot be read")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00sku")
    assert "cannot be read" in problems_of(binary)[0]


# ------------------------------------------------------------------ the command
@pytest.fixture
def fake_api(monkeypatch):
    """A fake ``POST /demand/history``: imports every row except SKUs named ``GHOST*``, like the server."""

    fake = SimpleNamespace(batches=[], imported={})

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/demand/history")
        rows = json.loads(request.content)["rows"]
        fake.batches.append(rows)
        skipped = [{"row": i, "sku": r["sku"], "problem": "unknown SKU"}
                   for i, r in enumerate(rows, start=1) if r["sku"].startswith("GHOST")]
        for r in rows:
            if not r["sku"].startswith("GHOST"):
                fake.imported[(r["sku"], r["day"])] = r["quantity"]
        return httpx.Response(200, json={"imported": len(rows) - len(skipped), "skipped": skipped})

    monkeypatch.setattr(main, "_client", lambda ctx: OrderflowClient("http://api.test",
                                                                     transport=httpx.MockTransport(handler)))
    return fake


def run(*args: str):
    return CliRunner().invoke(main.app, list(args), env={"COLUMNS": "160"})


def test_import_sends_batches_of_500_and_names_the_file_lines_the_server_skipped(tmp_path, fake_api):
    days = [f"2023-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]  # 336 days
    lines = [f"SKU-1,{day},{i % 7}" for i, day in enumerate(days)] + [f"GHOST,{days[0]},1"]
    lines += [f"SKU-2,{day},2" for day in days]
    path = write(tmp_path, "sku,date,quantity\n" + "\n".join(lines) + "\n")

    result = run("history", "import", str(path))

    assert result.exit_code == 0, result.output
    assert [len(b) for b in fake_api.batches] == [500, 173]
    assert len(fake_api.imported) == 672 and fake_api.imported[("SKU-1", "2023-01-03")] == 2
    assert "imported 672 rows, skipped 1" in result.stdout
    ghost_line = next(line for line in result.stdout.splitlines() if "GHOST" in line)
    assert ghost_line.replace("│", " ").split()[:2] == ["338", "GHOST"] and "unknown SKU" in ghost_line


def test_import_of_a_file_with_nothing_importable_sends_nothing_and_exits_1(tmp_path, fake_api):
    path = write(tmp_path, "sku,date,quantity\nA,2024-01-01,3\nA,2024-01-01,4\nB,2024-01-01,-2\n")
    result = run("history", "import", str(path))
    assert result.exit_code == 1
    assert fake_api.batches == []
    assert "line 3, date: 2024-01-01 repeats" in result.stderr and "line 4, quantity: -2 is negative" in result.stderr
    assert "2 problem(s)" in result.stderr and "nothing was imported" in result.stderr


def test_import_leaves_out_the_skus_with_bad_lines_imports_the_others_and_lists_why(tmp_path, fake_api):
    path = write(tmp_path, "sku,date,quantity\nA,2024-01-01,3\nB,2024-01-01,-2\nA,2024-01-02,4\n"
                           "B,2024-01-02,5\nC,2024-01-03,1\nC,2024-01-02,1\n")
    result = run("history", "import", str(path))
    assert result.exit_code == 0, result.output
    assert fake_api.imported == {("A", "2024-01-01"): 3, ("A", "2024-01-02"): 4}
    assert "imported 2 rows, skipped 4" in result.stdout
    assert "left out SKU(s) B, C" in result.stderr
    listed = {line.replace("│", " ").split()[0]: line for line in result.stdout.splitlines()
              if line.replace("│", " ").split()[:1] in (["3"], ["7"])}
    assert "quantity: -2 is negative" in listed["3"] and "2024-01-02 comes before 2024-01-03" in listed["7"]


def test_import_exits_1_when_the_server_imported_nothing(tmp_path, fake_api):
    path = write(tmp_path, "sku,date,quantity\nGHOST-1,2024-01-01,3\nGHOST-2,2024-01-01,4\n")
    result = run("history", "import", str(path))
    assert result.exit_code == 1
    assert "imported 0 rows, skipped 2" in result.stdout
    assert fake_api.imported == {}


def test_a_location_column_is_optional_and_dates_go_forward_per_sku_and_location(tmp_path):
    path = write(tmp_path, "location_id,sku,date,quantity\n,A,2024-01-01,1\nwh-2,A,2024-01-01,4\n"
                           "wh-2,A,2024-01-02,5\nwh-2,B,2024-01-02,1\nwh-2,B,2024-01-01,1\n")
    found = read_history(path)
    assert [row.body() for row in found.rows] == [
        {"sku": "A", "day": "2024-01-01", "quantity": 1},
        {"sku": "A", "day": "2024-01-01", "quantity": 4, "location_id": "wh-2"},
        {"sku": "A", "day": "2024-01-02", "quantity": 5, "location_id": "wh-2"}]
    assert [str(p) for p in found.problems] == [
        "line 6, date: 2024-01-01 comes before 2024-01-02 of line 5 for SKU B at wh-2: each SKU's dates must go "
        "forward"]
