"""The replenishment report: bands, plots, the self-contained page, and ``orderflow report`` on a fake API."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date

import httpx
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from orderflow.forecasting import METHODS
from orderflow_cli import main
from orderflow_cli.client import OrderflowClient
from orderflow_cli.report import (
    METHOD_GLOSSARY,
    _cumulative_plot,
    cumulative_band,
    daily_band,
    forecast_intervals,
    plotted,
    render_html,
    sku_figure,
    write_report,
    zero_filled,
)

ORDERED = {"sku": "TEA", "supplier_id": "SUP-1", "outcome": "ordered", "reason": "position 3 ≤ reorder point 21.4",
           "demand_class": "smooth", "method": "ets", "history_days": 60, "horizon_days": 4,
           "forecast_daily": 4.0, "forecast": [4.0, 4.0, 4.0, 4.0], "sigma_daily": 1.5, "safety_stock": 5.4,
           "lead_time_days": 12.5, "lead_time_source": "blended", "lead_time_receipts": 3,
           "reorder_point": 21.4, "inventory_position": 3, "quantity": 40, "po_id": "po-2025-03-10-TEA"}
NOT_NEEDED = {"sku": "MUG", "outcome": "not_needed", "reason": "position 90 > reorder point 12",
              "demand_class": "intermittent", "method": "tsb", "forecast_daily": 0.5, "forecast": [0.5] * 4,
              "sigma_daily": 0.8, "safety_stock": 4.0, "reorder_point": 12.0, "inventory_position": 90, "quantity": 0}
SKIPPED = {"sku": "PEN", "outcome": "skipped", "reason": "no <supplier> & no parameters", "quantity": 0}
RUN = {"run_id": "run-20250310T020000Z-abc123", "cycle": "2025-03-10", "status": "COMPLETED", "trigger": "api",
       "started_at": "2025-03-10T02:00:00.000Z", "finished_at": "2025-03-10T02:00:03.000Z",
       "counts": {"skus": 3, "ordered": 1, "not_needed": 1, "skipped": 1, "sent": 1, "units_ordered": 40},
       "decisions": [ORDERED, NOT_NEEDED, SKIPPED]}
HISTORY = {"TEA": [{"day": "2025-03-01", "quantity": 5}, {"day": "2025-03-04", "quantity": 3},
                   {"day": "2025-03-09", "quantity": 6}],
           "MUG": [{"day": "2025-02-20", "quantity": 2}], "PEN": []}


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


def test_daily_band_is_one_days_95_percent_interval_never_below_zero():
    low, high = daily_band([4.0, 1.0], 1.5)
    assert high == pytest.approx([6.94, 3.94])
    assert low == pytest.approx([1.06, 0.0])


def test_cumulative_band_widens_with_the_square_root_of_the_days_ahead():
    mean, low, high = cumulative_band([2.0, 2.0, 2.0, 2.0], 1.0)
    assert mean == [2.0, 4.0, 6.0, 8.0]
    assert high == pytest.approx([3.96, 4 + 1.96 * 2 ** 0.5, 6 + 1.96 * 3 ** 0.5, 11.92])
    assert low == pytest.approx([0.04, 4 - 1.96 * 2 ** 0.5, 6 - 1.96 * 3 ** 0.5, 4.08])


def test_history_is_zero_filled_from_the_first_record_to_the_day_before_the_cycle():
    days, quantities = zero_filled(HISTORY["TEA"], date(2025, 3, 10))
    assert days[0] == date(2025, 3, 1) and days[-1] == date(2025, 3, 9) and len(days) == 9
    assert quantities == [5, 0, 0, 3, 0, 0, 0, 0, 6]
    assert zero_filled([], date(2025, 3, 10)) == ([], [])


def test_a_sku_with_a_forecast_gets_two_plots_and_one_without_gets_history_only():
    cycle = date(2025, 3, 10)
    with_forecast = png_size(sku_figure(ORDERED, HISTORY["TEA"], cycle))
    history_only = png_size(sku_figure({**SKIPPED}, HISTORY["TEA"], cycle))
    assert with_forecast == history_only == (1152, 345)  # 12 x 3.6 in at 96 dpi, side by side or alone
    assert sku_figure(SKIPPED, [], cycle) is None


def test_the_page_is_one_file_with_every_image_embedded(tmp_path):
    page = write_report(RUN, HISTORY, tmp_path / "out")
    assert page == tmp_path / "out" / "index.html"
    text = page.read_text()
    sources = re.findall(r'src="([^"]+)"', text)
    assert len(sources) == 2  # TEA and MUG have something to draw; PEN has nothing
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        png_size(base64.b64decode(source.removeprefix("data:image/png;base64,")))
    assert not re.search(r'(href|src)="(https?:|/|\.)', text)
    assert "No history and no forecast to plot." in text
    assert plotted(text) == {"TEA", "MUG"}


def test_the_page_says_how_the_interval_is_drawn_and_shows_the_decisions():
    text = render_html(RUN, HISTORY)
    assert "mean ± 1.96·σ" in text and "Σ mean ± 1.96·σ·√h" in text and "reorder point" in text
    table = text[text.index("<h2>Decisions</h2>"):text.index("<h2>Per SKU</h2>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows if "<td" in row]
    assert cells[0] == ["TEA", "main", "ordered", "smooth", "ets", "4.00", "1.50", "12.50", "blended", "5.40", "21.40",
                        "3", "40", "po-2025-03-10-TEA", "position 3 ≤ reorder point 21.4"]
    assert cells[2][:3] == ["PEN", "main", "skipped"]
    assert "no &lt;supplier&gt; &amp; no parameters" in text and "<supplier>" not in text
    assert "40 units on <span class=token>po-2025-03-10-TEA</span>" in text


def test_report_command_fetches_the_run_and_each_skus_history_before_the_cycle(tmp_path, monkeypatch):
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == f"/replenishment/runs/{RUN['run_id']}":
            return httpx.Response(200, json=RUN)
        sku = request.url.path.removeprefix("/demand/")
        return httpx.Response(200, json={"sku": sku, "history": HISTORY[sku]})

    monkeypatch.setattr(main, "_client", lambda ctx: OrderflowClient("http://api.test",
                                                                     transport=httpx.MockTransport(handler)))
    result = CliRunner().invoke(main.app, ["report", RUN["run_id"], "--out", str(tmp_path), "--days", "30"])

    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'index.html'} (3 SKUs)" in result.stdout.replace("\n", "")
    history_calls = [(r.url.path, dict(r.url.params)) for r in requests[1:]]
    # the 730 days the run's forecast read (its intervals are made again from them); 30 are plotted
    assert history_calls == [(f"/demand/{sku}", {"start": "2023-03-11", "end": "2025-03-09"})
                             for sku in ("TEA", "MUG", "PEN")]
    assert (tmp_path / "index.html").read_text().count("data:image/png;base64,") == 2


def test_report_of_an_unknown_run_exits_1_and_writes_nothing(tmp_path, monkeypatch):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no run nope", "details": {}}})

    monkeypatch.setattr(main, "_client", lambda ctx: OrderflowClient("http://api.test",
                                                                     transport=httpx.MockTransport(handler)))
    result = CliRunner().invoke(main.app, ["report", "nope", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "NOT_FOUND" in result.stderr
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ the run a report is made of: replenish --now --wait
@pytest.mark.parametrize(("final", "exit_code"), [("COMPLETED", 0), ("FAILED", 1)])
def test_replenish_wait_polls_until_the_run_ends_even_before_it_is_recorded(monkeypatch, final, exit_code):
    answers = [httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "not yet", "details": {}}}),
               httpx.Response(200, json={**RUN, "status": "RUNNING", "decisions": []}),
               httpx.Response(200, json={**RUN, "status": final, "error": "Boom: x" if final == "FAILED" else None})]
    posted: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posted.append(json.loads(request.content))
            return httpx.Response(202, json={**RUN, "status": "RUNNING", "decisions": None})
        assert request.url.path == f"/replenishment/runs/{RUN['run_id']}"
        return answers.pop(0)

    monkeypatch.setattr(main, "_client", lambda ctx: OrderflowClient("http://api.test",
                                                                     transport=httpx.MockTransport(handler)))
    monkeypatch.setattr("orderflow_cli.client.time.sleep", lambda seconds: None)
    result = CliRunner().invoke(main.app, ["replenish", "--now", "--wait", "--note", "why not"],
                                env={"COLUMNS": "250"})

    assert result.exit_code == exit_code, result.output
    assert posted == [{"note": "why not"}] and answers == []
    assert f"run_id: {RUN['run_id']}" in result.stdout and final in result.stdout
    if final == "COMPLETED":
        assert "po-2025-03-10-TEA" in result.stdout and "no <supplier> & no parameters" in result.stdout
    else:
        assert "error: Boom: x" in result.stdout


def cumulative_axes(**changes):
    from matplotlib.figure import Figure

    decision = {**ORDERED, **changes}
    axes = Figure().subplots()
    _cumulative_plot(axes, decision, [float(f) for f in decision["forecast"]], decision["sigma_daily"])
    axes.figure.canvas.draw()
    return axes


def test_a_negative_inventory_position_is_inside_the_plot_not_clipped_at_zero():
    axes = cumulative_axes(inventory_position=-8, quantity=40)
    bottom, top = axes.get_ylim()
    assert bottom < -8 and top > 21.4
    assert cumulative_axes(inventory_position=3).get_ylim()[0] == 0  # nothing below zero: the axis starts there


def test_the_cumulative_plot_ticks_whole_days():
    ticks = [t for t in cumulative_axes().get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_text_columns_and_their_headers_are_left_aligned_and_ids_do_not_wrap():
    text = render_html(RUN, HISTORY)
    headers = {label: css for css, label in re.findall(r'<th class="([^"]*)">([^<]*)</th>', text)}
    assert "text" in headers["SKU"] and "text" in headers["why"] and "text" in headers["method"]
    assert "text" not in headers["quantity"] and "text" not in headers["reorder point"]
    assert '<td class="text token">po-2025-03-10-TEA</td>' in text
    assert ".token, code { white-space: nowrap; }" in text


def test_the_glossary_explains_combinations_terms_and_each_method_the_run_used():
    run = {**RUN, "decisions": [{**ORDERED, "method": "hw+hw_damped+hw_mul"}, NOT_NEEDED, SKIPPED]}
    glossary = render_html(run, HISTORY).split("<h2>Glossary</h2>", 1)[1].split("<h2>Per SKU</h2>", 1)[0]
    assert "a combination: the equal-weight mean of the three methods" in glossary
    for term in ("demand class", "safety stock", "reorder point", "inventory position", "σ / day"):
        assert f"<dt>{term}</dt>" in glossary
    used = re.findall(r"<dt><code>([^<]+)</code></dt>", glossary)
    assert used == ["hw", "hw_damped", "hw_mul", "tsb"]


def test_every_forecasting_method_has_a_glossary_entry():
    assert set(METHOD_GLOSSARY) == set(METHODS)


def test_a_report_directory_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/replenishment/runs/"):
            return httpx.Response(200, json=RUN)
        return httpx.Response(200, json={"sku": "x", "history": []})

    monkeypatch.setattr(main, "_client", lambda ctx: OrderflowClient("http://api.test",
                                                                     transport=httpx.MockTransport(handler)))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(main.app, ["report", RUN["run_id"], "--out", str(blocker / "report")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"error: {blocker / 'report'}: ") and result.stderr.count("\n") == 1


def test_the_intervals_are_those_of_the_runs_forecast_made_again_from_the_same_history():
    from datetime import timedelta

    from orderflow.forecasting import forecast

    cycle = date(2025, 3, 10)
    week = [8, 10, 10, 11, 12, 14, 5]
    history = [{"day": (cycle - timedelta(days=n)).isoformat(), "quantity": week[n % 7] + n % 3} for n in range(1, 91)]
    series = [float(h["quantity"]) for h in reversed(history)]
    run_forecast = forecast(series, 12, 7, intervals=False)  # what the run stored
    decision = {"method": run_forecast.method, "horizon_days": 12, "history_days": 90,
                "forecast": [round(float(v), 4) for v in run_forecast.mean]}
    intervals = forecast_intervals(decision, history, cycle.isoformat())
    assert intervals is not None and set(intervals) == {80, 95}
    for low, high in intervals.values():
        assert all(lo <= f <= hi for lo, f, hi in zip(low, decision["forecast"], high, strict=True))
    assert all(l95 <= l80 and h80 <= h95 for l80, h80, l95, h95 in zip(*intervals[80], *intervals[95], strict=True))
    # history re-imported since the run: its forecast cannot be made again, no intervals are claimed
    changed = [{**h, "quantity": h["quantity"] * 3} for h in history]
    assert forecast_intervals(decision, changed, cycle.isoformat()) is None
    assert forecast_intervals({**decision, "method": "backorders only"}, history, cycle.isoformat()) is None
    png = sku_figure({**ORDERED, **decision, "intervals": intervals}, history, cycle)
    assert png_size(png) == (1152, 345)
