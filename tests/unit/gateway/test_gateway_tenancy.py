"""Who sees which live event: every tenant an event names must be one of the caller's."""

from services.gateway.stream.rules import Tags, TenantFilter, is_visible
from shared.auth import Principal


def viewer(**tenants: set[str]) -> Principal:
    return Principal(
        client_id="v",
        role="dashboard",
        scopes=frozenset({"dashboard:read"}),
        tenants={k: frozenset(v) for k, v in tenants.items()},
    )


def test_a_territory_bound_viewer_sees_its_territory_only():
    who = viewer(territories={"38185"}, currencies={"*"})
    assert is_visible(who, Tags(territory="38185", currency="MESURE"))
    assert not is_visible(who, Tags(territory="69123", currency="MESURE"))


def test_every_named_tenant_must_be_allowed():
    who = viewer(territories={"38185"}, currencies={"MESURE"})
    assert not is_visible(who, Tags(territory="38185", currency="ECO"))


def test_an_unbound_kind_hides_events_that_name_it():
    who = viewer(territories={"*"})
    assert not is_visible(who, Tags(territory="38185", currency="MESURE"))
    assert is_visible(who, Tags(territory="38185"))


def test_a_programme_event_needs_the_programme_binding():
    who = viewer(territories={"*"}, currencies={"*"}, programmes={"IDECLIC"})
    assert is_visible(who, Tags(territory="1", currency="EUR", programme="IDECLIC"))
    assert not is_visible(who, Tags(territory="1", currency="EUR", programme="CAE"))


def test_an_admin_sees_everything():
    admin = Principal(client_id="admin", role="admin", scopes=frozenset({"admin"}))
    assert is_visible(admin, Tags(territory="x", currency="y", programme="z"))


def test_the_sql_filter_lists_allowed_values_and_none_for_wildcards():
    tenants = TenantFilter.of(viewer(territories={"38185", "38421"}, currencies={"*"}))
    assert tenants.territories == frozenset({"38185", "38421"})
    assert tenants.currencies is None
    assert tenants.programmes == frozenset()
