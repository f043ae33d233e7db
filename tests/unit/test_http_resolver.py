"""What the API functions' resolver reads as the OpenAPI document describes it, and the numbers DynamoDB cannot
hold: found by fuzzing the whole API's document (tests/reliability/test_fuzz.py, docs/api.md)."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field, ValidationError

from orderflow.platform.dynamo import to_item
from orderflow.platform.http_api import HttpApiResolver, install_error_handlers
from orderflow.replenishment.simulation.models import SimulationIn


class LineIn(BaseModel):
    quantity: Annotated[int, Field(gt=0, strict=True)]


app = HttpApiResolver(enable_validation=True)
install_error_handlers(app)


@app.post("/things/<thing_id>")
def post_thing(thing_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")], line: LineIn) -> dict:
    return {"thing_id": thing_id, "quantity": line.quantity}


@app.post("/broken")
def broken() -> dict:
    raise KeyError("secret-internal-detail")


def call(raw_path: str, body: str) -> tuple[int, dict]:
    event = {"version": "2.0", "routeKey": "POST /things/{thing_id}", "rawPath": raw_path, "rawQueryString": "",
             "headers": {"content-type": "application/json"}, "body": body, "isBase64Encoded": False,
             "requestContext": {"http": {"method": "POST", "path": raw_path}, "stage": "$default",
                                "requestId": "req-1"}}
    answer = app.resolve(event, None)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_percent_encoded_path_parameter_is_the_same_id():
    assert call("/things/A%3AB", '{"quantity": 2}') == (200, {"thing_id": "A:B", "quantity": 2})


def test_a_whole_number_written_with_a_fraction_is_an_integer_and_a_fraction_is_not():
    assert call("/things/A", '{"quantity": 1.0}') == (200, {"thing_id": "A", "quantity": 1})
    status, body = call("/things/A", '{"quantity": 1.5}')
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"


def test_an_unexpected_exception_is_a_500_with_the_error_body_and_no_internal_text():
    status, body = call("/broken", "{}")
    assert status == 500
    assert body == {"error": {"code": "INTERNAL_ERROR", "message": "an unexpected error occurred; quote the "
                              "correlation id", "details": {"correlation_id": "req-1"}}}
    assert "secret-internal-detail" not in json.dumps(body)


def test_a_number_too_small_for_dynamodb_is_stored_as_zero_not_refused():
    assert to_item({"rate": 5e-324, "lead": 2.5}) == {"rate": {"N": "0"}, "lead": {"N": "2.5"}}


@pytest.mark.parametrize("change", [{"seed": 10**40}, {"targets": [1e-200]}, {"targets": [0.95] * 21}])
def test_a_simulation_is_refused_what_it_could_not_store(change):
    with pytest.raises(ValidationError):
        SimulationIn.model_validate({"days": 56, **change})
