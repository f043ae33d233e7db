"""The operations console in a real browser, one journey per role, against the offline stack. Each test
asserts what the user sees on the page (and, where it changed something, that the API agrees). The run
writes a screenshot of each page it visits (to build/console/; `make screenshots` to docs/console/)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from orderflow_cli.addresses import SAMPLE_ADDRESS
from orderflow_cli.client import OrderflowClient

pytestmark = pytest.mark.browser
ADDRESS = {"name": "DC", "line1": "1 Dock Road", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}
BUYING = {"unit_cost": 2.40, "ordering_cost": 25, "holding_cost_rate": 0.25, "lead_time_days": 4,
          "lead_time_sigma_days": 1, "service_level": 0.95, "moq": 10, "pack_size": 10, "review_period_days": 1}


def tag() -> str:
    return uuid.uuid4().hex[:6]


def place(admin: OrderflowClient, customer: str, lines: dict[str, int], wanted: str = "RESERVED") -> str:
    status, order = admin.submit_order(customer, [{"sku": s, "quantity": q} for s, q in lines.items()],
                                       shipping_address=SAMPLE_ADDRESS)
    assert status == 201, order
    admin.wait_for_status(order["order_id"], wanted)
    return order["order_id"]


def stocked(admin: OrderflowClient, product: str, units: int) -> tuple[str, str]:
    """A new product with ``units`` in stock at main, and a new customer to order it: (SKU, customer ID)."""
    t = tag()
    sku, customer = f"{product}-{t}", f"cust-{t}"
    admin.put_product(sku, product.title(), 20)
    admin.adjust_stock(sku, units, reason="receipt")
    admin.put_customer(customer, product.title(), 10_000)
    return sku, customer



def wait_for(check: Callable[[], bool], what: str) -> None:
    """Polls ``check()`` until it holds: what the stack does behind the API (a simulated supplier, a queue read
    in batches) lands within seconds; the bound only keeps a broken stack from hanging the run."""
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)

def test_customer_service_finds_an_order_and_cancels_one_line(console, admin):
    t = tag()
    kettle, mug = f"kettle-{t}", f"mug-{t}"
    for sku in (kettle, mug):
        admin.put_product(sku, sku.title(), 12.5)
        admin.adjust_stock(sku, 10, reason="receipt")
    customer = f"cust-{t}"
    admin.put_customer(customer, "Ada", 10_000)
    order_id = place(admin, customer, {kettle: 1, mug: 3})

    console.sign_in("admin")
    page = console.page
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.get_by_label("Customer ID").fill(customer)
    page.get_by_label("Status").select_option("RESERVED")
    page.get_by_role("button", name="Search").click()
    found = page.get_by_role("link", name=order_id)
    expect(found).to_be_visible()
    expect(page.get_by_role("table", name=re.compile(f"Orders of {customer}"))).to_contain_text("Reserved")
    console.screenshot("orders-search")

    found.click()
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    page.get_by_label(re.compile(f"^{mug} .*units, up to 3")).fill("3")
    page.get_by_label("Reason (optional)").fill("customer changed their mind")
    page.get_by_role("button", name="Cancel these units").click()
    expect(page.get_by_role("status").filter(has_text=f"Cancelled 3 × {mug}")).to_be_visible()
    mug_row = page.get_by_role("table", name="Lines").get_by_role("row").filter(has_text=mug)
    expect(mug_row.get_by_role("cell").nth(7)).to_have_text("3")  # the Cancelled column
    expect(page.get_by_role("list", name="Order timeline")).to_contain_text("customer changed their mind")
    console.screenshot("order")
    console.assert_fits_a_phone()  # the nine columns of Lines scroll in their own box
    cancelled = mug_row.get_by_role("cell").nth(7)
    expect(cancelled).not_to_be_in_viewport()  # off to the right, in the box...
    cancelled.scroll_into_view_if_needed()  # ...which scrolls sideways to it (the page does not)
    expect(cancelled).to_be_in_viewport()
    expect(page.locator("caption").filter(has_text="Lines")).to_be_in_viewport()  # the box's title stays in view
    expect(page.get_by_role("region", name="Lines")).to_have_attribute("tabindex", "0")  # a keyboard can scroll it
    console.assert_fits_a_phone()
    console.screenshot("order-phone")

    lines = {line["sku"]: line for line in admin.get_order(order_id)["lines"]}
    assert (lines[mug]["cancelled"], lines[kettle]["cancelled"]) == (3, 0)
    assert admin.get_order(order_id)["status"] not in ("CANCELLED",)


def test_warehouse_ships_a_split_orders_shipment_in_part(console, admin):
    t = tag()
    north, south = f"north-{t}", f"south-{t}"
    for priority, name in enumerate((north, south), start=1):
        admin.put_location(name, f"{name} warehouse", ADDRESS, priority=priority, kind="warehouse")
    sku = f"lamp-{t}"
    admin.put_product(sku, "Lamp", 30)
    admin.adjust_stock(sku, 2, reason="receipt", location_id=north)
    admin.adjust_stock(sku, 2, reason="receipt", location_id=south)
    customer = f"cust-{t}"
    admin.put_customer(customer, "Grace", 10_000)
    order_id = place(admin, customer, {sku: 4})
    shipments = {s["location_id"]: s["shipment_id"] for s in admin.get_order(order_id)["shipments"]}
    assert set(shipments) == {north, south}

    try:
        console.sign_in("warehouse")
        page = console.page
        expect(page.get_by_role("heading", name="Pick list")).to_be_visible()
        expect(page.get_by_label("Status").locator("option:checked")).to_have_text("Released")  # as its badges say
        page.get_by_label("Location").select_option(south)
        link = page.get_by_role("link", name=shipments[south])
        expect(link).to_be_visible()
        expect(page.get_by_role("link", name=shipments[north])).to_have_count(0)
        console.screenshot("pick-list")
        console.assert_fits_a_phone()  # a handheld at the shelf: the five columns scroll in their own box
        console.screenshot("pick-list-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        link.click()
        expect(page.get_by_role("heading", name=f"Shipment {shipments[south]}")).to_be_visible()
        page.get_by_role("button", name="Pick").click()
        expect(page.get_by_role("status").filter(has_text="Picked.")).to_be_visible()
        page.get_by_role("button", name="Pack").click()
        expect(page.get_by_role("status").filter(has_text="Packed.")).to_be_visible()
        page.get_by_label("Carrier").fill("UPS")
        page.get_by_label("Tracking number").fill(f"1Z{t}")
        page.get_by_label(re.compile(f"^{sku}: units in the parcel")).fill("1")
        page.get_by_role("button", name="Ship", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Shipped in part")).to_be_visible()
        facts = page.locator(".facts")
        expect(facts).to_contain_text("Shipped")
        expect(facts).to_contain_text(f"UPS 1Z{t}")
        expect(page.get_by_role("table", name="Items").get_by_role("row").filter(has_text=sku)).to_contain_text("1")
        console.screenshot("shipment")

        page.get_by_role("link", name="Stock").click()  # the warehouse has no runs to list: a hint, not an empty table
        expect(page.get_by_text("Look up a SKU to see its stock at each location.")).to_be_visible()
        page.get_by_label("Look up a SKU").fill(f"{sku}-typo")
        page.get_by_label("Look up a SKU").press("Enter")
        expect(page.get_by_role("row").filter(has_text=f"{sku}-typo")).to_contain_text("No product has this SKU.")
        page.get_by_label("Look up a SKU").fill(sku)
        page.get_by_label("Look up a SKU").press("Enter")  # the keyboard submits the form
        south_row = page.get_by_role("row").filter(has_text=sku).filter(has_text=south)
        expect(south_row.get_by_role("cell").nth(2)).to_have_text("1")  # on hand: 2 less the 1 shipped
        receive = page.get_by_role("group", name="Receive stock")  # the warehouse receives goods too
        receive.get_by_label("SKU").fill(sku)
        receive.get_by_label("Units").fill("4")
        receive.get_by_label("At").select_option(south)
        receive.get_by_role("button", name="Receive").click()
        expect(page.get_by_role("status").filter(has_text=f"Received 4 × {sku} at {south}")).to_be_visible()
        assert admin.get_stock(sku)["locations"] and next(
            lv for lv in admin.get_stock(sku)["locations"] if lv["location_id"] == south)["on_hand"] == 5
    finally:
        for name in (north, south):  # closed, so no later test sources from them
            admin.put_location(name, "closed", ADDRESS, active=False)

    shipped = admin.get_shipment(shipments[south])
    assert shipped["shipped"] == [{"sku": sku, "quantity": 1}] and shipped["carrier"] == "UPS"
    assert admin.get_order(order_id)["status"] == "PARTIALLY_SHIPPED"


def test_buyer_opens_a_run_reads_why_a_sku_was_ordered_and_finds_its_po(console, admin):
    t = tag()
    supplier = f"acme-{t}"
    admin.put_supplier(supplier, "Acme Industrial")
    sku = f"bolts-{t}"
    admin.put_product(sku, "Bolts", 3.90, supplier_id=supplier, replenishment=BUYING)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    admin.import_history([{"sku": sku, "day": (yesterday - timedelta(days=n)).isoformat(),
                           "quantity": round(12 * (1.3 if n % 7 < 5 else 0.3))} for n in range(90)])
    run = admin.wait_for_run(admin.start_replenishment_run(note=f"console {t}")["run_id"], timeout=180)
    assert run["status"] == "COMPLETED", run
    decision = next(d for d in run["decisions"] if d["sku"] == sku)
    assert decision["outcome"] == "ordered" and decision["po_id"]

    console.sign_in("admin")
    page = console.page
    console.go("runs")
    expect(page.get_by_role("heading", name="Replenishment runs")).to_be_visible()
    page.get_by_role("link", name=run["run_id"]).click()
    expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()
    page.get_by_label("Outcome on this page").select_option("ordered")  # the API pages decisions; it has no filter
    expect(page.get_by_role("table", name=re.compile(r"^Decisions, page 1: \d+ of its \d+ ordered$"))).to_be_visible()
    page.get_by_role("link", name=f"Why {sku} at main").click()
    detail = page.locator("section.decision")
    expect(detail.get_by_role("heading", name=f"{sku} at main")).to_be_visible()
    expect(detail.locator(".why")).to_contain_text(decision["reason"])
    expect(detail.get_by_role("img", name=re.compile(f"Daily demand of {sku}: 60 days of history"))).to_be_visible()
    expect(detail.locator("svg path.forecast")).to_have_count(1)
    console.screenshot("run")

    detail.get_by_role("link", name=f"Purchase order {decision['po_id']}").click()
    expect(page.get_by_role("heading", name=f"Purchase order {decision['po_id']}")).to_be_visible()
    line = page.get_by_role("table", name="Lines").get_by_role("row").filter(has_text=sku)
    expect(line.get_by_role("cell").nth(1)).to_have_text(f"{decision['quantity']:,}")
    expect(page.get_by_role("list", name="Purchase order timeline")).to_contain_text("Draft")
    expect(page.get_by_role("link", name=supplier)).to_be_visible()
    console.screenshot("purchase-order")

    console.go("purchase-orders")
    expect(page.get_by_role("heading", name="Purchase orders")).to_be_visible()
    admin_view = admin.get_purchase_order(decision["po_id"])
    page.get_by_label("Status").select_option(admin_view["status"])
    expect(page.get_by_role("link", name=decision["po_id"])).to_be_visible()
    console.screenshot("purchase-orders")
    wait_for(lambda: admin.get_purchase_order(decision["po_id"])["status"] == "RECEIVED",
             "the simulated supplier did not deliver")
    console.go("stock")
    expect(page.get_by_role("heading", name="Stock by location")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=sku).first).to_be_visible()
    receive = page.get_by_role("group", name="Receive stock")
    receive.get_by_label("SKU").fill(sku)
    receive.get_by_label("Units").fill("5")
    receive.get_by_role("button", name="Receive").click()
    expect(page.get_by_role("status").filter(has_text=f"Received 5 × {sku} at main.")).to_be_visible()
    main_row = page.get_by_role("row").filter(has_text=sku).filter(has_text="main")
    expect(main_row.get_by_role("cell").nth(2)).to_have_text(f"{decision['quantity'] + 5:,}")  # on hand: PO + 5
    assert admin.get_stock(sku)["on_hand"] == decision["quantity"] + 5
    console.screenshot("stock")
    console.go(f"suppliers/{supplier}")
    expect(page.get_by_role("heading", name=f"Acme Industrial ({supplier})")).to_be_visible()
    # no threshold of its own: PurchaseApprovalThreshold applies (docs/purchasing.md), not "never"
    approval = page.locator(".facts div").filter(has_text="Approval above").locator("dd")
    expect(approval).to_have_text("The stack's default")
    console.screenshot("suppliers")


def test_a_buyer_lowers_a_purchase_order_awaiting_approval_then_approves_it(console, admin):
    t = tag()
    supplier = f"manual-big-{t}"  # manual-*: the local stack's simulated suppliers leave it alone
    admin.put_supplier(supplier, "Big Supplies", approval_threshold=100)
    sku = f"drill-{t}"
    admin.put_product(sku, "Drill", 40, supplier_id=supplier, replenishment=BUYING)
    po = admin.create_purchase_order(supplier, [{"sku": sku, "quantity": 100}])
    assert po["status"] == "PENDING_APPROVAL", po  # 100 × 2.40 is above the supplier's 100

    console.sign_in("admin")
    page = console.page
    page.get_by_role("link", name="Alerts").click()  # offline, the console is where alerts show
    alert = page.get_by_role("link", name=f"Purchase order {po['po_id']} waits for approval")
    expect(alert).to_be_visible()
    console.screenshot("alerts")
    alert.click()  # the alert leads to the purchase order
    expect(page.get_by_role("heading", name=f"Purchase order {po['po_id']}")).to_be_visible()
    page.get_by_label(f"{sku}: units").fill("30")
    page.get_by_role("button", name="Save the quantities").click()
    expect(page.get_by_role("status").filter(has_text=f"Saved: 30 × {sku}")).to_be_visible()
    line = page.get_by_role("table", name="Lines").get_by_role("row").filter(has_text=sku)
    expect(line.get_by_role("cell").nth(1)).to_have_text("30")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("72.00")  # the total: 30 × 2.40
    expect(facts).to_contain_text("Pending approval")  # a change sends nothing by itself
    console.screenshot("purchase-order-changed")

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Approved.")).to_be_visible()
    expect(page.get_by_label(f"{sku}: units")).to_have_count(0)  # sent: no more changes
    after = admin.get_purchase_order(po["po_id"])
    assert after["lines"][0]["quantity"] == 30 and after["status"] == "SENT", after
    assert admin.get_stock(sku)["on_order"] == 30


def test_an_admin_reads_the_kpis_of_the_whole_shop_and_a_locations_stock_outs(console, admin):
    sku, customer = stocked(admin, "lamp", units=5)
    before = admin.kpis()["orders_shipped"]
    admin.ship(place(admin, customer, {sku: 1}))
    wait_for(lambda: admin.kpis()["orders_shipped"] != before,  # the KPI queue is read in batches
             "the shipped order never reached the KPIs")

    console.sign_in("admin")
    page = console.page
    page.get_by_role("link", name="KPIs").click()
    shipped = page.locator(".facts div").filter(has_text="Orders shipped").locator("dd")
    expect(shipped).not_to_have_text("0")
    whole_shop = int(shipped.inner_text().replace(",", ""))
    expect(page.locator(".facts div").filter(has_text="Fill rate: orders").locator("dd")).to_contain_text("%")
    page.get_by_label("Stock-outs at").select_option("main")
    expect(page.get_by_role("heading", name="Stock at main")).to_be_visible()
    # order events carry no location: the orders stay the whole shop's (docs/kpis.md), not 0
    assert whole_shop <= int(shipped.inner_text().replace(",", "")) <= admin.kpis()["orders_shipped"]
    console.screenshot("kpis")
    console.assert_fits_a_phone()


def test_a_customer_sees_only_their_orders_and_not_found_for_anothers(console, admin):
    t = tag()
    sku = f"cup-{t}"
    admin.put_product(sku, "Cup", 4)
    admin.adjust_stock(sku, 10, reason="receipt")
    mine, theirs = f"ada-{t}", f"bob-{t}"
    for customer in (mine, theirs):
        admin.put_customer(customer, customer, 1_000)
    my_order = place(admin, mine, {sku: 1})
    their_order = place(admin, theirs, {sku: 2})

    console.sign_in("customer", mine)
    page = console.page
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    expect(page.get_by_role("link", name=my_order)).to_be_visible()
    expect(page.get_by_role("link", name=their_order)).to_have_count(0)
    console.screenshot("my-orders")

    page.get_by_role("link", name=my_order).focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(page.get_by_role("heading", name=f"Order {my_order}")).to_be_visible()
    expect(page.get_by_role("button")).to_have_text(["Sign out"])  # read-only: no action buttons
    console.go(f"orders/{their_order}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("We could not find this order")).to_be_visible()
    assert their_order not in page.content().replace(page.url, "")
    console.screenshot("not-found")


def test_a_delivered_order_is_returned_by_customer_service_and_received_by_the_warehouse(console, admin):
    sku, customer = stocked(admin, "boots", units=3)
    order_id = place(admin, customer, {sku: 2})
    admin.ship(order_id)
    (shipment,) = admin.get_order(order_id)["shipments"]
    page = console.page

    console.sign_in("warehouse")
    console.go(f"shipments/{shipment['shipment_id']}")
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.get_by_role("status").filter(has_text="Delivered.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Delivered")
    assert admin.get_order(order_id)["status"] == "DELIVERED"

    page.get_by_role("button", name="Sign out").click()
    console.sign_in("admin")
    console.go(f"orders/{order_id}")
    returning = page.get_by_role("group", name="Start a return")
    returning.get_by_label(re.compile(f"^{sku} .*units, up to 2")).fill("1")
    returning.get_by_label("Reason").fill("too small")
    returning.get_by_role("button", name="Start the return").click()
    expect(page.get_by_role("status").filter(has_text="The return is approved")).to_be_visible()
    requested = page.get_by_role("list", name="Order timeline").get_by_role("listitem").last
    expect(requested).to_contain_text("Return requested")
    expect(requested).to_contain_text("by admin")  # customer service started it, not the customer
    (summary,) = admin.get_order(order_id)["returns"]
    expect(page.get_by_role("link", name=summary["return_id"])).to_be_visible()
    expect(page.get_by_text("Deadline to act on it")).to_have_count(0)  # delivered: nothing left to act on in time
    console.screenshot("order-returned")
    page.get_by_role("link", name=summary["return_id"]).click()
    expect(page.get_by_role("heading", name=f"Return {summary['return_id']}")).to_be_visible()
    page.get_by_role("link", name=order_id).click()  # and back to its order
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    console.sign_in("warehouse")
    page.get_by_role("link", name="Returns").click()
    page.get_by_label("Return ID (on the parcel's label)").fill(summary["return_id"])
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=f"Return {summary['return_id']}")).to_be_visible()
    on_hand = admin.get_stock(sku)["on_hand"]
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_role("status").filter(has_text="Received: resellable units are back in stock")).to_be_visible()
    row = page.get_by_role("table", name="Returned items").get_by_role("row").filter(has_text=sku)
    expect(row.get_by_role("cell").nth(3)).to_have_text("1")  # restocked
    console.screenshot("return")
    assert admin.get_stock(sku)["on_hand"] == on_hand + 1
    assert admin.get_return(summary["return_id"])["status"] != "APPROVED"
