"""mergeContacts: golden bodies (no identity prefix), previousId required and a string."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import merge_contacts

ACTION = merge_contacts.ACTION


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("merge_contacts", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestFields:
    def test_no_user_identities_even_with_an_email(self, translator, body_for) -> None:
        """The merge body never carries userIdentities."""
        body = body_for(
            translator.translate({"type": "alias", "userId": "a@b.co", "previousId": "x"}), ACTION
        )
        assert list(body) == ["segmentIdKey", "segmentId", "previousId"]

    def test_previous_id_missing(self, translator, error_for) -> None:
        """previousId is required."""
        assert error_for(translator.translate({"type": "alias", "userId": "u"}), ACTION) == (
            "missing required field 'previousId'"
        )

    def test_numeric_ids_become_strings(self, translator, body_for) -> None:
        """userId and previousId numbers are sent as strings."""
        body = body_for(translator.translate({"type": "alias", "userId": 5, "previousId": 7}), ACTION)
        assert body == {"segmentIdKey": "segment_id", "segmentId": "5", "previousId": "7"}
