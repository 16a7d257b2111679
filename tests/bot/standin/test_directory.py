"""The stand-in's people: registered with add_user, read back through users.* like Slack."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.standin import FakeSlack


def test_a_registered_person_reads_back_through_users_info(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """real_name, display name and email as given; Slack's accent-free *_normalized fields."""
    given = fake_slack.add_user(
        "U0ZOE",
        "zoe",
        real_name="Zoë Brontë",
        display_name="Zoë B",
        email="zoe@branch.example.org",
        tz="Europe/Dublin",
    )
    user = slack_web_client.users_info(user="U0ZOE")["user"]
    assert user == given
    assert (user["id"], user["name"], user["real_name"], user["tz"]) == (
        "U0ZOE",
        "zoe",
        "Zoë Brontë",
        "Europe/Dublin",
    )
    assert user["is_bot"] is False
    assert user["profile"] == {
        "real_name": "Zoë Brontë",
        "display_name": "Zoë B",
        "real_name_normalized": "Zoe Bronte",
        "display_name_normalized": "Zoe B",
        "email": "zoe@branch.example.org",
        "team": "T0001",
    }


def test_defaults_and_an_empty_display_name(fake_slack: FakeSlack) -> None:
    """Without details a person gets a handle-based name and email; "" display name is kept."""
    plain = fake_slack.add_user("U0ADA")
    assert (plain["name"], plain["real_name"]) == ("u0ada", "U0Ada")
    assert plain["profile"]["display_name"] == "u0ada"
    assert plain["profile"]["email"] == "u0ada@example.com"
    unnamed = fake_slack.add_user("U0BEN", "ben", real_name="Ben Okri", display_name="")
    assert unnamed["profile"]["display_name"] == ""
    assert unnamed["profile"]["display_name_normalized"] == ""


def test_registering_again_replaces_the_person(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """add_user for a known id replaces its details (a rehearsal renaming someone)."""
    fake_slack.add_user("U0ADA", "ada", real_name="Ada Byron")
    fake_slack.add_user("U0ADA", "ada", real_name="Ada Lovelace")
    assert slack_web_client.users_info(user="U0ADA")["user"]["real_name"] == "Ada Lovelace"
    assert [m["id"] for m in slack_web_client.users_list()["members"]] == ["U0ADA"]


def test_user_query_gives_copies_of_registered_people_only(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """user() is None for an id nobody registered, and its answer cannot change the store."""
    assert fake_slack.user("U0NOBODY") is None
    fake_slack.add_user("U0ADA", "ada", real_name="Ada Lovelace")
    found = fake_slack.user("U0ADA")
    assert found is not None
    found["profile"]["real_name"] = "changed"
    again = fake_slack.user("U0ADA")
    assert again is not None
    assert again["profile"]["real_name"] == "Ada Lovelace"
    # users.info makes up a person for an unknown id, as the tests rely on; user() then has it.
    assert slack_web_client.users_info(user="U0MADEUP")["user"]["name"] == "u0madeup"
    assert fake_slack.user("U0MADEUP") is not None


def test_lookup_by_email_finds_registered_people_only(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """users.lookupByEmail matches case-blind and never makes a person up."""
    fake_slack.add_user("U0ADA", "ada", email="Ada@Example.org")
    found = slack_web_client.users_lookupByEmail(email="ada@example.ORG")["user"]
    assert found["id"] == "U0ADA"
    with pytest.raises(SlackApiError) as info:
        slack_web_client.users_lookupByEmail(email="nobody@example.org")
    assert info.value.response["error"] == "users_not_found"
    assert fake_slack.user("U0NOBODY") is None
    with pytest.raises(SlackApiError) as info:
        slack_web_client.users_lookupByEmail(email="")
    assert info.value.response["error"] == "invalid_arguments"


def test_users_list_pages_through_registered_people(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """users.list: registered people in registration order, by cursor pages."""
    for n in range(5):
        fake_slack.add_user(f"U0P{n}", f"person{n}", real_name=f"Person {n}")
    # A SlackResponse pages in place: read each page as it comes.
    pages = [[m["id"] for m in page["members"]] for page in slack_web_client.users_list(limit=2)]
    assert pages == [
        ["U0P0", "U0P1"],
        ["U0P2", "U0P3"],
        ["U0P4"],
    ]
    everyone = slack_web_client.users_list()
    assert len(everyone["members"]) == 5
    assert everyone["response_metadata"]["next_cursor"] == ""


def test_users_profile_get(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """users.profile.get answers the person's profile."""
    fake_slack.add_user("U0ADA", "ada", real_name="Ada Lovelace", email="ada@example.org")
    profile = slack_web_client.users_profile_get(user="U0ADA")["profile"]
    assert (profile["real_name"], profile["email"]) == ("Ada Lovelace", "ada@example.org")


def test_people_keep_through_reset(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """reset() forgets calls and messages, not the people a rehearsal registered."""
    fake_slack.add_user("U0ADA", "ada", real_name="Ada Lovelace")
    fake_slack.reset()
    assert slack_web_client.users_info(user="U0ADA")["user"]["real_name"] == "Ada Lovelace"
