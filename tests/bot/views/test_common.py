"""Ids read back from buttons and forms' metadata: anything but plain digits is refused."""

from __future__ import annotations

import pytest

from bot.views.common import esc, parse_id
from bot.views.reports import form_room_id


@pytest.mark.parametrize("value", ["²", "١٢", "12a", "", " 12", "-1", "1" * 19, None, 12])
def test_an_id_that_is_not_plain_ascii_digits_is_tampered_with(value: object) -> None:
    assert parse_id(value) is None


def test_a_forged_report_form_metadata_reads_as_no_room() -> None:
    assert form_room_id({"private_metadata": "²"}) is None
    assert form_room_id({"private_metadata": "12:40,²"}) == 12
    assert parse_id("40") == 40


def test_an_erased_persons_token_in_a_text_reads_someone_erased() -> None:
    assert esc("Ask erased-0123456789abcdef about buses") == "Ask someone (erased) about buses"
    assert esc("erased-notatoken stays") == "erased-notatoken stays"
