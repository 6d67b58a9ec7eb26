"""keras.applications round trip: the efficientnet v2 group (see applications_helpers)."""

from __future__ import annotations

import pytest

from tests.runtime.applications_helpers import GROUPS, check_application


@pytest.mark.slow
@pytest.mark.parametrize("name", GROUPS["efficientnet_v2"])
def test_application_round_trips_through_exported_code(name):
    check_application(name)
