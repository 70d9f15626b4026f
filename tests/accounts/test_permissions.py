"""tandem.accounts.permissions, called directly: the one place object permissions are decided."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tandem.accounts import permissions
from tandem.accounts.services import create_user
from tandem.crm.models import Company, Contact

ALL_CONTACTS = {"ann@acme.com", "bob@acme.com", "cy@globex.com", "dee@initech.com", "eve@hooli.com"}


def _emails(queryset) -> set[str]:
    return set(queryset.values_list("email", flat=True))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", ALL_CONTACTS),
        ("marketing", ALL_CONTACTS),
        ("manager", {"ann@acme.com", "bob@acme.com", "dee@initech.com"}),
        ("rep1", {"ann@acme.com", "dee@initech.com"}),
        ("rep2", {"bob@acme.com", "dee@initech.com"}),
        ("rep3", {"cy@globex.com"}),
    ],
)
def test_visible_and_editable_contacts_per_role(world, name, expected):
    """Given the world, when each role's contacts are narrowed, then each sees exactly its share."""
    user = world.users()[name]
    assert _emails(permissions.visible(user, Contact.objects.all())) == expected
    assert _emails(permissions.editable(user, Contact.objects.all())) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", {"Acme Corp", "Globex"}),
        ("marketing", {"Acme Corp", "Globex"}),
        ("manager", {"Acme Corp"}),
        ("rep1", {"Acme Corp"}),
        ("rep2", set()),
        ("rep3", {"Globex"}),
    ],
)
def test_visible_companies_per_role(world, name, expected):
    """Given Acme (rep1, East) and Globex (rep3, West), then each role sees its share."""
    user = world.users()[name]
    assert (
        set(permissions.visible(user, Company.objects.all()).values_list("name", flat=True))
        == expected
    )


def test_can_view_and_can_edit_follow_visibility(world):
    """Given rep1, then rep1 may view and edit its own and its team's unassigned contact, nothing else."""
    assert permissions.can_view(world.rep1, world.rep1_contact) is True
    assert permissions.can_edit(world.rep1, world.rep1_contact) is True
    assert permissions.can_view(world.rep1, world.east_unassigned) is True
    assert permissions.can_edit(world.rep1, world.east_unassigned) is True
    assert permissions.can_view(world.rep1, world.rep2_contact) is False
    assert permissions.can_edit(world.rep1, world.rep2_contact) is False
    assert permissions.can_view(world.rep1, world.nobody_contact) is False
    assert permissions.can_view(world.manager, world.rep2_contact) is True
    assert permissions.can_view(world.manager, world.rep3_contact) is False
    assert permissions.can_edit(world.marketer, world.rep3_contact) is True


def test_manager_sees_records_of_every_team_they_manage(world):
    """Given the manager also manages Sales West, then West's records become visible too."""
    world.west.manager = world.manager
    world.west.save()
    assert _emails(permissions.visible(world.manager, Contact.objects.all())) == ALL_CONTACTS - {
        "eve@hooli.com"
    }


def test_marketing_may_not_edit_deal_like_records(world, monkeypatch):
    """Given a model marked PERMISSION_KIND = "deal", then marketing sees its rows but may edit none."""
    monkeypatch.setattr(Contact, "PERMISSION_KIND", "deal", raising=False)
    assert _emails(permissions.visible(world.marketer, Contact.objects.all())) == ALL_CONTACTS
    assert _emails(permissions.editable(world.marketer, Contact.objects.all())) == set()
    assert permissions.can_view(world.marketer, world.rep1_contact) is True
    assert permissions.can_edit(world.marketer, world.rep1_contact) is False
    assert permissions.can_edit(world.admin, world.rep1_contact) is True
    assert permissions.can_edit(world.rep1, world.rep1_contact) is True


def test_inactive_and_anonymous_users_see_nothing(world):
    """Given a deactivated admin and an anonymous visitor, then both see no records at all."""
    world.admin.is_active = False
    world.admin.save()
    assert permissions.visible(world.admin, Contact.objects.all()).count() == 0
    assert permissions.visible(AnonymousUser(), Contact.objects.all()).count() == 0
    assert permissions.can_import(AnonymousUser()) is False
    assert permissions.can_merge(AnonymousUser()) is False


def test_rep_without_team_sees_only_own_records(world):
    """Given a rep with no team, then unassigned records without a team stay invisible to them."""
    loner = create_user(username="loner", password=None, role="sales_rep")
    world.nobody_contact.owner = loner
    world.nobody_contact.save()
    assert _emails(permissions.visible(loner, Contact.objects.all())) == {"eve@hooli.com"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", {"admin", "marketing", "manager", "rep1", "rep2", "rep3"}),
        ("marketing", {"admin", "marketing", "manager", "rep1", "rep2", "rep3"}),
        ("manager", {"manager", "rep1", "rep2"}),
        ("rep1", {"rep1"}),
        ("rep3", {"rep3"}),
    ],
)
def test_assignable_owners(world, name, expected):
    """Then admin and marketing may assign anyone, a manager their team, a rep only themselves."""
    users = permissions.assignable_owners(world.users()[name])
    assert set(users.values_list("username", flat=True)) == expected


def test_deactivated_users_cannot_be_assigned(world):
    """Given rep2 is deactivated, then nobody may make rep2 an owner."""
    world.rep2.is_active = False
    world.rep2.save()
    assert not permissions.assignable_owners(world.admin).filter(pk=world.rep2.pk).exists()
    assert set(permissions.assignable_owners(world.manager).values_list("username", flat=True)) == {
        "manager",
        "rep1",
    }


@pytest.mark.parametrize(
    ("name", "can_import", "can_merge"),
    [
        ("admin", True, True),
        ("marketing", True, True),
        ("manager", False, True),
        ("rep1", False, False),
    ],
)
def test_can_import_and_can_merge(world, name, can_import, can_merge):
    """Then import is for admin and marketing; merging also for managers; never for reps."""
    user = world.users()[name]
    assert permissions.can_import(user) is can_import
    assert permissions.can_merge(user) is can_merge
