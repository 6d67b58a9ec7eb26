"""keras.applications round trip: the inception group (see applications_helpers)."""

from __future__ import annotations

import pytest

from tests.runtime.applications_helpers import GROUPS, check_application


@pytest.mark.slow
@pytest.mark.parametrize("name", GROUPS["inception"])
def test_application_round_trips_through_exported_code(name):
    check_application(name)
