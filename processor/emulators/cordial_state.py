"""The Cordial emulator's account: contacts, lists, carts, orders, merges, activities.

Bodies reaching these methods have passed `cordial_checks`. Contacts are found by any of
their identifiers (a `userIdentities` path/value, the Segment id stored under `segmentIdKey`,
or an anonymousId) and created when none matches. All mutation happens between awaits on one
event loop, so no locking is needed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from processor.emulators.cordial_checks import Body

DEFAULT_SEGMENT_ID_KEY = "segment_id"
MAX_ACTIVITIES = 10_000

Contact = dict[str, Any]


def _s(value: object) -> str:
    return value if isinstance(value, str) else str(value)


class UnknownAttributes(ValueError):
    """An upsert names attributes the account does not have, and the account does not ignore them."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.problems = [f"attributes.{name}: unknown attribute" for name in names]


class CordialState:
    """In-memory account state.

    `known_attributes=None` accepts every attribute. With a set, other attributes are ignored
    (and named in the answer); with `reject_unknown_attributes` they fail the upsert with a 400
    instead, unless the live segment integration says `contactsErrorHandling:
    ignoreMissingAttributes`, which is what that setting is for.
    """

    def __init__(
        self, known_attributes: Iterable[str] | None = None, *, reject_unknown_attributes: bool = False
    ) -> None:
        self.known_attributes = frozenset(known_attributes) if known_attributes is not None else None
        self.reject_unknown_attributes = reject_unknown_attributes
        self.reset()

    def reset(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self._by_identity: dict[tuple[str, str], str] = {}
        self._by_anonymous: dict[str, str] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.merges: list[dict[str, Any]] = []
        self.activities: deque[dict[str, Any]] = deque(maxlen=MAX_ACTIVITIES)
        self.integrations: dict[str, dict[str, Any]] = {}
        self._next_id = 0

    # -- contacts -------------------------------------------------------------------------

    def _segment_key(self, body: Body) -> str:
        key = body.get("segmentIdKey")
        return key if isinstance(key, str) and key else DEFAULT_SEGMENT_ID_KEY

    def _lookups(self, body: Body) -> list[tuple[str, str] | str]:
        """Identity index keys for a body, most specific first; a str is an anonymousId."""
        keys: list[tuple[str, str] | str] = []
        identities = body.get("userIdentities")
        if isinstance(identities, dict):
            keys.extend((path, _s(v)) for path, v in identities.items() if v is not None and v != "")
        if body.get("segmentId") not in (None, ""):
            keys.append((self._segment_key(body), _s(body["segmentId"])))
        if body.get("anonymousId") not in (None, ""):
            keys.append(_s(body["anonymousId"]))
        return keys

    def _find_key(self, key: tuple[str, str] | str) -> str | None:
        if isinstance(key, str):
            return self._by_anonymous.get(key)
        return self._by_identity.get(key)

    def find(self, body: Body) -> Contact | None:
        for key in self._lookups(body):
            cid = self._find_key(key)
            if cid is not None:
                return self.contacts[cid]
        return None

    def find_or_create(self, body: Body) -> Contact:
        """The contact the body identifies, created if new; identifiers it lacks are added."""
        contact = self.find(body)
        if contact is None:
            self._next_id += 1
            cid = f"c{self._next_id:06d}"
            contact = {
                "cID": cid,
                "identities": {},
                "anonymousIds": [],
                "attributes": {},
                "lists": [],
                "activities": 0,
            }
            self.contacts[cid] = contact
        for key in self._lookups(body):
            self._attach(contact, key)
        return contact

    def _attach(self, contact: Contact, key: tuple[str, str] | str) -> None:
        cid = contact["cID"]
        if isinstance(key, str):
            if self._by_anonymous.setdefault(key, cid) == cid and key not in contact["anonymousIds"]:
                contact["anonymousIds"].append(key)
            return
        if self._by_identity.setdefault(key, cid) == cid:
            path, value = key
            contact["identities"].setdefault(path, value)
            if not path.startswith("channels."):
                contact["attributes"].setdefault(path, value)

    # -- actions --------------------------------------------------------------------------

    def upsert_contact(self, body: Body) -> dict[str, object]:
        attributes = body.get("attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        known = self.known_attributes
        unknown = (
            []
            if known is None
            else [n for n in attributes if n not in known and not n.startswith("channels.")]
        )
        if unknown and self.reject_unknown_attributes and not self._ignores_missing_attributes():
            raise UnknownAttributes(unknown)
        contact = self.find_or_create(body)
        skip = set(unknown)
        for name, value in attributes.items():
            if name not in skip:
                contact["attributes"][name] = value
        return {"success": True, "cID": contact["cID"], "ignoredAttributes": unknown}

    def _ignores_missing_attributes(self) -> bool:
        integration = self.integrations.get("segment")
        return integration is not None and (
            integration.get("contactsErrorHandling") == "ignoreMissingAttributes"
        )

    def create_activity(self, body: Body) -> dict[str, object]:
        contact = self.find_or_create(body)
        contact["activities"] += 1
        self.activities.append(
            {
                "cID": contact["cID"],
                "action": body.get("action"),
                "time": body.get("time"),
                "properties": body.get("properties"),
                "context": body.get("context"),
            }
        )
        return {"success": True, "cID": contact["cID"]}

    def add_to_list(self, body: Body) -> dict[str, object]:
        contact = self.find_or_create(body)
        group_id = _s(body["groupId"])
        lst = self.lists.get(group_id)
        if lst is None:
            name = body.get("listName")
            lst = {
                "groupId": group_id,
                "name": name if isinstance(name, str) and name else f"segment_{group_id}",
                "members": [],
            }
            self.lists[group_id] = lst
        if contact["cID"] not in lst["members"]:
            lst["members"].append(contact["cID"])
            contact["lists"].append(group_id)
        return {"success": True, "cID": contact["cID"], "list": lst["name"]}

    def remove_from_list(self, body: Body) -> dict[str, object]:
        contact = self.find(body)
        group_id = _s(body["groupId"])
        lst = self.lists.get(group_id)
        removed = False
        if contact is not None and lst is not None and contact["cID"] in lst["members"]:
            lst["members"].remove(contact["cID"])
            contact["lists"].remove(group_id)
            removed = True
        return {"success": True, "cID": contact["cID"] if contact else None, "removed": removed}

    def add_to_cart(self, body: Body) -> dict[str, object]:
        contact = self.find_or_create(body)
        cart: dict[str, dict[str, Any]] = contact.setdefault("cart", {})
        product_id = _s(body["productID"])
        item = cart.get(product_id)
        qty = int(str(body["qty"]))
        fields = {k: v for k, v in body.items() if k not in _IDENTITY_AND_QTY and v is not None}
        if item is None:
            cart[product_id] = {**fields, "productID": product_id, "qty": qty}
        else:
            item.update(fields)
            item["productID"] = product_id
            item["qty"] += qty
        return {"success": True, "cID": contact["cID"], "qty": cart[product_id]["qty"]}

    def remove_from_cart(self, body: Body) -> dict[str, object]:
        contact = self.find(body)
        product_id = _s(body["productID"])
        cart: dict[str, dict[str, Any]] = contact.get("cart", {}) if contact else {}
        item = cart.get(product_id)
        left = 0
        if item is not None:
            item["qty"] -= int(str(body["qty"]))
            left = max(item["qty"], 0)
            if item["qty"] <= 0:
                del cart[product_id]
        return {"success": True, "cID": contact["cID"] if contact else None, "qty": left}

    def upsert_order(self, body: Body) -> dict[str, object]:
        contact = self.find_or_create(body)
        order_id = _s(body["orderID"])
        fields = {k: v for k, v in body.items() if k not in _IDENTITY_FIELDS}
        existing = self.orders.get(order_id)
        if existing is None:
            self.orders[order_id] = {**fields, "orderID": order_id, "cID": contact["cID"], "updates": 0}
            created = True
        else:
            existing.update(fields)
            existing["orderID"] = order_id
            existing["cID"] = contact["cID"]
            existing["updates"] += 1
            created = False
        return {"success": True, "cID": contact["cID"], "orderID": order_id, "created": created}

    def merge(self, body: Body) -> dict[str, object]:
        """alias: the contact known by previousId joins the one known by segmentId/anonymousId."""
        key = self._segment_key(body)
        previous = _s(body["previousId"])
        target_body = {k: body.get(k) for k in ("segmentIdKey", "segmentId", "anonymousId")}
        # The user id names the surviving contact; the anonymousId does only when no user id is sent.
        if body.get("segmentId") not in (None, ""):
            target = self.find({"segmentIdKey": key, "segmentId": body["segmentId"]})
        else:
            target = self.find({"anonymousId": body.get("anonymousId")})
        source = self.find({"segmentIdKey": key, "segmentId": previous}) or self.find(
            {"anonymousId": previous}
        )
        if target is None and source is None:
            target = self.find_or_create(target_body)
            self._attach(target, previous)
            result = "created"
        elif target is None:
            assert source is not None
            target = source
            for lookup in self._lookups(target_body):
                self._attach(target, lookup)
            result = "relabelled"
        elif source is None or source is target:
            self._attach(target, previous)
            result = "already_merged" if source is target else "attached"
        else:
            self._absorb(target, source)
            result = "merged"
        for lookup in self._lookups(target_body):
            self._attach(target, lookup)
        record = {
            "segmentIdKey": key,
            "segmentId": body.get("segmentId"),
            "anonymousId": body.get("anonymousId"),
            "previousId": previous,
            "into": target["cID"],
            "from": source["cID"] if source is not None else None,
            "result": result,
        }
        self.merges.append(record)
        return {"success": True, "cID": target["cID"], "result": result}

    def _absorb(self, target: Contact, source: Contact) -> None:
        """Move everything of `source` onto `target` (target wins on conflicts); drop source."""
        tid, sid = target["cID"], source["cID"]
        del self.contacts[sid]
        for k, owner in list(self._by_identity.items()):
            if owner == sid:
                self._by_identity[k] = tid
                target["identities"].setdefault(k[0], k[1])
        for anon in source["anonymousIds"]:
            self._by_anonymous[anon] = tid
            if anon not in target["anonymousIds"]:
                target["anonymousIds"].append(anon)
        for name, value in source["attributes"].items():
            target["attributes"].setdefault(name, value)
        for group_id in source["lists"]:
            members = self.lists[group_id]["members"]
            members.remove(sid)
            if tid not in members:
                members.append(tid)
                target["lists"].append(group_id)
        target_cart: dict[str, dict[str, Any]] = target.setdefault("cart", {})
        for product_id, item in source.get("cart", {}).items():
            if product_id in target_cart:
                target_cart[product_id]["qty"] += item["qty"]
            else:
                target_cart[product_id] = item
        target["activities"] += source["activities"]
        for order in self.orders.values():
            if order["cID"] == sid:
                order["cID"] = tid
        for activity in self.activities:
            if activity["cID"] == sid:
                activity["cID"] = tid

    # -- inspection -----------------------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        return {
            "contacts": list(self.contacts.values()),
            "lists": list(self.lists.values()),
            "carts": {cid: list(c.get("cart", {}).values()) for cid, c in self.contacts.items()},
            "orders": list(self.orders.values()),
            "merges": self.merges,
            "activities": list(self.activities),
            "integrations": list(self.integrations.values()),
        }


_IDENTITY_FIELDS = frozenset(("segmentIdKey", "segmentId", "anonymousId", "userIdentities"))
_IDENTITY_AND_QTY = _IDENTITY_FIELDS | {"qty", "productID"}
