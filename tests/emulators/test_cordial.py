"""The Cordial emulator's ingest routes: auth, validation and the account state each action leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from processor.emulators.cordial import ACTIONS, create_app

KEY = "test-cordial-key"
EMAIL = {"channels.email.address": "ann@example.com"}


@pytest.fixture
def app():
    return create_app(api_key=KEY)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://cordial", headers={"x-api-key": KEY}
    ) as c:
        yield c


async def post(client: httpx.AsyncClient, action: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/segment/{action}", json=body)


async def state(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/_emulator/state")
    assert r.status_code == 200
    return r.json()


def ident(**extra: Any) -> dict[str, Any]:
    return {"segmentIdKey": "segment_id", "segmentId": "u1", "userIdentities": dict(EMAIL), **extra}


class TestAuth:
    @pytest.mark.parametrize(
        "headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}], ids=["missing", "wrong", "empty"]
    )
    async def test_check_auth_and_actions_refuse_a_bad_key(self, client, headers):
        """A missing or wrong x-api-key is a 401 JSON error on checkAuth and on every action."""
        client.headers.pop("x-api-key")
        r = await client.get("/api/checkAuth", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"] is True
        for action in ACTIONS:
            r = await client.post(f"/api/segment/{action}", json=ident(), headers=headers)
            assert r.status_code == 401, action
        assert (await state(client))["contacts"] == []

    async def test_check_auth_passes_with_the_key(self, client):
        r = await client.get("/api/checkAuth")
        assert r.status_code == 200
        assert r.json()["success"] is True

    async def test_unknown_action_is_404_json(self, client):
        r = await post(client, "deleteEverything", ident())
        assert r.status_code == 404
        assert "deleteEverything" in r.json()["message"]


class TestContacts:
    async def test_upsert_creates_then_finds_by_any_identifier(self, client):
        """Contacts are created on first sight and found again by e-mail, segment id or anonymousId."""
        r1 = await post(client, "upsertContact", ident(anonymousId="a1", attributes={"fname": "Ann"}))
        assert r1.status_code == 200
        cid = r1.json()["cID"]
        r2 = await post(client, "upsertContact", {"userIdentities": EMAIL, "attributes": {"lname": "Lee"}})
        r3 = await post(client, "upsertContact", {"segmentId": "u1", "attributes": {"fname": "Anna"}})
        r4 = await post(client, "upsertContact", {"anonymousId": "a1", "attributes": {"age": 30}})
        assert {r2.json()["cID"], r3.json()["cID"], r4.json()["cID"]} == {cid}
        contacts = (await state(client))["contacts"]
        assert len(contacts) == 1
        assert contacts[0]["attributes"] == {"segment_id": "u1", "fname": "Anna", "lname": "Lee", "age": 30}
        assert contacts[0]["identities"]["channels.email.address"] == "ann@example.com"
        assert contacts[0]["anonymousIds"] == ["a1"]

    async def test_distinct_identifiers_make_distinct_contacts(self, client):
        await post(client, "upsertContact", {"userIdentities": {"channels.email.address": "a@x.com"}})
        await post(client, "upsertContact", {"userIdentities": {"channels.email.address": "b@x.com"}})
        assert len((await state(client))["contacts"]) == 2

    async def test_unknown_attributes_are_ignored_when_known_set_given(self):
        """With a configured set of known attributes, others are dropped and named in the answer."""
        app = create_app(api_key=KEY, known_attributes={"fname"})
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            r = await post(client, "upsertContact", ident(attributes={"fname": "A", "shoe": 42}))
            assert r.status_code == 200
            assert r.json()["ignoredAttributes"] == ["shoe"]
            attributes = (await state(client))["contacts"][0]["attributes"]
            assert attributes["fname"] == "A"
            assert "shoe" not in attributes

    async def test_strict_account_refuses_unknown_attributes_until_integration_ignores_them(self):
        """contactsErrorHandling: ignoreMissingAttributes on the live integration turns a 400 into a drop."""
        app = create_app(api_key=KEY, known_attributes={"fname"}, reject_unknown_attributes=True)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            body = ident(attributes={"fname": "A", "shoe": 42})
            r = await post(client, "upsertContact", body)
            assert r.status_code == 400
            assert r.json()["errors"] == ["attributes.shoe: unknown attribute"]
            assert (await state(client))["contacts"] == []
            config = {"name": "segment", "enabled": True, "contactsErrorHandling": "ignoreMissingAttributes"}
            created = await client.post("/api/integrations/segment", json=config, auth=(KEY, ""))
            assert created.status_code == 201
            r = await post(client, "upsertContact", body)
            assert r.status_code == 200
            assert r.json()["ignoredAttributes"] == ["shoe"]

    @pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.com", "@x.com"])
    async def test_invalid_email_identity_is_400(self, client, email):
        r = await post(client, "upsertContact", {"userIdentities": {"channels.email.address": email}})
        assert r.status_code == 400
        assert r.json()["errors"] == ["userIdentities.channels.email.address: must be a valid e-mail address"]

    async def test_nulls_inside_attributes_are_stored_untouched(self, client):
        await post(client, "upsertContact", ident(attributes={"nick": None, "note": ""}))
        attributes = (await state(client))["contacts"][0]["attributes"]
        assert attributes["nick"] is None
        assert attributes["note"] == ""


class TestActivities:
    async def test_activity_is_stored_and_counted_and_echoed(self):
        echoed: list[dict[str, Any]] = []
        app = create_app(api_key=KEY, on_activity=echoed.append)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            body = ident(action="Viewed", time="2024-01-01T00:00:00Z", properties={"a": 1}, context={})
            r = await post(client, "createContactactivity", body)
            assert r.status_code == 200
            s = await state(client)
            assert s["contacts"][0]["activities"] == 1
            assert s["activities"][0]["action"] == "Viewed"
            assert s["activities"][0]["properties"] == {"a": 1}
            assert echoed == [body]
            bad = await post(client, "createContactactivity", ident())
            assert bad.status_code == 400
            assert len(echoed) == 1

    async def test_a_failing_echo_hook_does_not_fail_the_request(self):
        def boom(_: dict[str, Any]) -> None:
            raise RuntimeError("echo down")

        app = create_app(api_key=KEY, on_activity=boom)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            r = await post(client, "createContactactivity", ident(action="A"))
            assert r.status_code == 200


class TestLists:
    async def test_list_created_on_first_use_with_default_name(self, client):
        r = await post(client, "addContactToList", ident(groupId="g42"))
        assert r.status_code == 200
        lists = (await state(client))["lists"]
        assert lists == [{"groupId": "g42", "name": "segment_g42", "members": [r.json()["cID"]]}]

    async def test_list_name_from_listName_and_numeric_group_id(self, client):
        await post(client, "addContactToList", ident(groupId=7, listName="VIPs"))
        lists = (await state(client))["lists"]
        assert lists[0]["groupId"] == "7"
        assert lists[0]["name"] == "VIPs"

    async def test_add_is_idempotent_and_remove_takes_the_member_out(self, client):
        await post(client, "addContactToList", ident(groupId="g"))
        await post(client, "addContactToList", ident(groupId="g"))
        s = await state(client)
        assert len(s["lists"][0]["members"]) == 1
        assert s["contacts"][0]["lists"] == ["g"]
        r = await post(client, "removeContactFromList", {"segmentId": "u1", "groupId": "g"})
        assert r.json()["removed"] is True
        s = await state(client)
        assert s["lists"][0]["members"] == []
        assert s["contacts"][0]["lists"] == []

    async def test_remove_from_unknown_list_or_contact_is_harmless(self, client):
        r = await post(client, "removeContactFromList", {"segmentId": "nobody", "groupId": "g"})
        assert r.status_code == 200
        assert r.json()["removed"] is False
        s = await state(client)
        assert s["contacts"] == []
        assert s["lists"] == []

    @pytest.mark.parametrize("action", ["addContactToList", "removeContactFromList"])
    async def test_group_id_required(self, client, action):
        r = await post(client, action, ident())
        assert r.status_code == 400
        assert any("groupId" in e for e in r.json()["errors"])


PRODUCT = {
    "productID": "p1",
    "sku": "SKU1",
    "qty": 2,
    "category": "shoes",
    "name": "Runner",
    "itemPrice": 9.5,
}


class TestCart:
    async def test_add_accumulates_and_remove_decrements_then_deletes(self, client):
        await post(client, "addProductToCart", ident(**PRODUCT))
        r = await post(client, "addProductToCart", ident(**{**PRODUCT, "qty": 3}))
        assert r.json()["qty"] == 5
        cid = r.json()["cID"]
        item = (await state(client))["carts"][cid][0]
        assert item["qty"] == 5
        assert item["sku"] == "SKU1"
        assert item["itemPrice"] == 9.5
        r = await post(client, "removeProductFromCart", ident(productID="p1", qty=4))
        assert r.json()["qty"] == 1
        r = await post(client, "removeProductFromCart", ident(productID="p1", qty=4))
        assert r.json()["qty"] == 0
        assert (await state(client))["carts"][cid] == []

    @pytest.mark.parametrize("missing", ["productID", "sku", "qty", "category", "name"])
    async def test_add_requires_every_required_field(self, client, missing):
        body = ident(**{k: v for k, v in PRODUCT.items() if k != missing})
        r = await post(client, "addProductToCart", body)
        assert r.status_code == 400
        assert any(missing in e for e in r.json()["errors"])

    @pytest.mark.parametrize("qty", [2.5, "ten", 0, -1, True, [2]])
    async def test_qty_must_be_a_positive_integer(self, client, qty):
        r = await post(client, "removeProductFromCart", ident(productID="p1", qty=qty))
        assert r.status_code == 400
        assert any("qty" in e for e in r.json()["errors"])


ORDER = {
    "orderID": "o1",
    "purchaseDate": "2024-05-01T10:00:00Z",
    "status": "Order Completed",
    "totalAmount": 20,
    "properties": {"currency": "USD"},
    "items": [{"productID": "p1", "sku": "S", "name": "N", "qty": 1, "itemPrice": 20}],
    "discountApplication": None,
}


class TestOrders:
    async def test_orders_are_upserted_by_order_id(self, client):
        r = await post(client, "upsertOrder", ident(**ORDER))
        assert r.json()["created"] is True
        r = await post(client, "upsertOrder", ident(**{**ORDER, "status": "Order Refunded"}))
        assert r.json()["created"] is False
        orders = (await state(client))["orders"]
        assert len(orders) == 1
        assert orders[0]["status"] == "Order Refunded"
        assert orders[0]["updates"] == 1
        assert orders[0]["items"] == ORDER["items"]
        assert "userIdentities" not in orders[0]

    async def test_item_problems_are_listed_together(self, client):
        items = [{"productID": "p1", "name": "N"}, {"sku": "S", "name": "N", "qty": "x"}, 5]
        r = await post(client, "upsertOrder", ident(orderID="o2", items=items))
        assert r.status_code == 400
        errors = r.json()["errors"]
        assert "items[0].sku: is required" in errors
        assert "items[1].productID: is required" in errors
        assert "items[1].qty: must be a number" in errors
        assert "items[2]: must be an object" in errors
        assert (await state(client))["orders"] == []

    async def test_order_id_required(self, client):
        r = await post(client, "upsertOrder", ident(items=[]))
        assert r.status_code == 400


class TestMerges:
    async def test_anonymous_contact_gains_the_user_id(self, client):
        """alias with an unknown segmentId relabels the anonymous contact (no new contact)."""
        r = await post(client, "upsertContact", {"anonymousId": "anon-1", "attributes": {"a": 1}})
        cid = r.json()["cID"]
        r = await post(
            client,
            "mergeContacts",
            {
                "segmentIdKey": "segment_id",
                "anonymousId": "anon-1",
                "segmentId": "u9",
                "previousId": "anon-1",
            },
        )
        assert r.status_code == 200
        assert r.json() == {"success": True, "cID": cid, "result": "relabelled"}
        s = await state(client)
        assert len(s["contacts"]) == 1
        assert s["contacts"][0]["attributes"]["segment_id"] == "u9"
        assert s["merges"][0]["previousId"] == "anon-1"

    async def test_two_contacts_are_merged_into_the_user(self, client):
        """previousId's contact is folded into segmentId's: attributes, lists, cart, orders move."""
        anon = (
            await post(client, "upsertContact", {"anonymousId": "an", "attributes": {"x": 1, "fname": "Old"}})
        ).json()["cID"]
        await post(client, "addContactToList", {"anonymousId": "an", "groupId": "g"})
        await post(client, "addProductToCart", {"anonymousId": "an", **PRODUCT})
        await post(client, "upsertOrder", {"anonymousId": "an", **ORDER})
        user = (await post(client, "upsertContact", ident(attributes={"fname": "New"}))).json()["cID"]
        await post(client, "addProductToCart", ident(**{**PRODUCT, "qty": 1}))
        r = await post(
            client, "mergeContacts", {"segmentIdKey": "segment_id", "segmentId": "u1", "previousId": "an"}
        )
        assert r.json()["result"] == "merged"
        assert r.json()["cID"] == user
        s = await state(client)
        assert [c["cID"] for c in s["contacts"]] == [user]
        merged = s["contacts"][0]
        assert merged["attributes"]["fname"] == "New"
        assert merged["attributes"]["x"] == 1
        assert merged["anonymousIds"] == ["an"]
        assert merged["lists"] == ["g"]
        assert s["lists"][0]["members"] == [user]
        assert s["carts"][user][0]["qty"] == 3
        assert s["orders"][0]["cID"] == user
        assert s["merges"][0]["from"] == anon
        # the old anonymous id now finds the merged contact
        r = await post(client, "upsertContact", {"anonymousId": "an"})
        assert r.json()["cID"] == user

    async def test_merge_of_unknowns_creates_one_contact_reachable_by_both(self, client):
        r = await post(client, "mergeContacts", {"segmentId": "u5", "previousId": "old"})
        assert r.json()["result"] == "created"
        cid = r.json()["cID"]
        assert (await post(client, "upsertContact", {"anonymousId": "old"})).json()["cID"] == cid
        assert (await post(client, "upsertContact", {"segmentId": "u5"})).json()["cID"] == cid

    async def test_merge_needs_previous_id_and_a_target(self, client):
        r = await post(client, "mergeContacts", {"segmentId": "u1"})
        assert r.status_code == 400
        r = await post(client, "mergeContacts", {"previousId": "p"})
        assert r.status_code == 400


class TestBadRequests:
    @pytest.mark.parametrize("action", ACTIONS)
    @pytest.mark.parametrize(
        "content",
        [b"", b"{", b"not json", b"[]", b"42", b'"s"', b"null", b"\xff\xfe"],
        ids=["empty", "truncated", "text", "array", "number", "string", "null", "binary"],
    )
    async def test_malformed_bodies_are_400_json(self, client, action, content):
        r = await client.post(f"/api/segment/{action}", content=content)
        assert r.status_code == 400
        assert r.json()["error"] is True

    @pytest.mark.parametrize("action", [a for a in ACTIONS if a != "mergeContacts"])
    async def test_no_identifier_is_400(self, client, action):
        r = await post(client, action, {"userIdentities": {}, "segmentId": None})
        assert r.status_code == 400
        assert any("identifier" in e for e in r.json()["errors"])

    async def test_wrongly_typed_identity_fields(self, client):
        r = await post(
            client, "upsertContact", {"userIdentities": ["a"], "segmentId": {"x": 1}, "segmentIdKey": 3}
        )
        errors = r.json()["errors"]
        assert r.status_code == 400
        assert {e.split(":")[0] for e in errors} == {"userIdentities", "segmentId", "segmentIdKey"}

    async def test_unknown_route_and_method_are_json(self, client):
        r = await client.get("/api/nothing")
        assert r.status_code == 404
        assert r.json()["error"] is True
        r = await client.get("/api/segment/upsertContact")
        assert r.status_code == 405
        assert r.json()["error"] is True
