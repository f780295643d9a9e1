"""schemathesis against the app's own OpenAPI document, in process (WSGI), with a bounded number of examples.

Every operation is fuzzed with schema-valid and schema-invalid requests on SQLite and PostgreSQL: no answer may be a
server error, and every answer must match the document (status, content type, headers, body schema). A stateful run
then follows the document's links (start a conversation, answer, rewind, read the result, share, delete).
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from assistant.store.db import upgrade

from .conftest import make_app

MAX_EXAMPLES = 30          # per operation and database: the whole file stays well under a minute on 2 cores
STATEFUL_EXAMPLES = 15
STATEFUL_STEPS = 15

_folder = Path(tempfile.mkdtemp(prefix="schemathesis-"))
atexit.register(shutil.rmtree, _folder, True)  # also when the tests of this module are deselected
_url = f"sqlite:///{_folder / 'schemathesis.sqlite3'}"
upgrade(_url)
DOCUMENT_APP = make_app(_url)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", DOCUMENT_APP)
schema.config.generation.update(max_examples=MAX_EXAMPLES)
# A schema-valid body may still name a question or value that does not exist (or send 5.0 for an integer, which
# JSON Schema counts as an integer while the API asks for a whole number): that is the documented 422, not a defect.
# 400, 413 and 415 for schema-valid data stay failures.
schema.config.checks.positive_data_acceptance.expected_statuses = ["2XX", "3XX", "404", "409", "422", "429"]
# In process (WSGI) schemathesis sends requests' default Accept-Encoding but reads the body undecoded; what is
# compressed, and how, is tested in tests/test_static_and_compression.py.
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module", autouse=True)
def _remove_document_database():
    yield
    DOCUMENT_APP.extensions["db_engine"].dispose()
    shutil.rmtree(_folder, ignore_errors=True)


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_conforms_and_never_fails(case, app):
    """`app` is the suite's app on SQLite and on PostgreSQL; every check of schemathesis runs on each answer."""
    case.call_and_validate(app=app, headers=PLAIN)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Random sequences of linked calls: a conversation is created, then answered, rewound, read, shared, deleted."""

    def get_call_kwargs(self, case):
        return {"headers": PLAIN}


TestWorkflow = Workflow.TestCase
TestWorkflow.settings = settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, deadline=None,
                                 database=None, suppress_health_check=list(HealthCheck))
