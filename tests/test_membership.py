"""Roles, invitations and their record: the rules (SQLite and PostgreSQL), the members page,
following a link with and without an account, the command line and the demo's owner."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from deliberation.documents import jobs
from deliberation.extensions import db
from deliberation.models import (
    Invitation,
    LiveSession,
    Membership,
    MembershipEvent,
    Organizer,
    Process,
    Territory,
    utcnow,
)
from deliberation.services.authoring import authoring
from deliberation.services.authoring.process_file import dump_process
from deliberation.services.demo.demo import DEMO_SLUG, ensure_demo
from deliberation.services.live import sessions
from deliberation.services.people import access, membership
from deliberation.services.people.access import ROLE_CAPABILITIES, Capability, Decision, Role
from deliberation.services.people.membership import MembershipError
from tests.access_world import PASSWORD, build_world, client_as
from tests.live_fixtures import make_member, make_process

CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def organizer(email: str, admin: bool = False) -> Organizer:
    account = Organizer(email=email, password_hash=CHEAP_HASH, is_admin=admin)
    db.session.add(account)
    db.session.commit()
    return account


def events(process: Process) -> list[tuple[str, str, str, str]]:
    return [
        (e.actor, e.action, e.subject, e.role)
        for e in db.session.scalars(
            db.select(MembershipEvent).filter_by(process_id=process.id).order_by(MembershipEvent.id)
        )
    ]


# -- who may do what ----------------------------------------------------------------------


def test_each_role_may_do_exactly_its_part(any_db_app):
    with any_db_app.app_context():
        process = make_process()
        liege = process.territories[0]
        namur = Territory(process_id=process.id, name="Namur")
        db.session.add(namur)
        db.session.commit()
        in_liege = sessions.create_session(process, "workshop", "Liège", territory_id=liege.id)
        nowhere = sessions.create_session(process, "assembly", "AG")
        people = {}
        for role in ("owner", "co_organizer", "facilitator"):
            people[role] = organizer(f"{role}@example.org")
            make_member(process.id, people[role].id, role)
        narrow = organizer("namur@example.org")
        make_member(process.id, narrow.id, "facilitator", namur.id)
        outsider = organizer("outsider@example.org")
        admin = organizer("admin@example.org", admin=True)

        for role, account in people.items():
            for capability in Capability:
                expected = capability in ROLE_CAPABILITIES[Role(role)]
                decision = access.decide(account, process, capability)
                assert decision is (Decision.ALLOWED if expected else Decision.FORBIDDEN)
        assert ROLE_CAPABILITIES[Role.CO_ORGANIZER] == set(Capability) - {
            Capability.MANAGE_MEMBERS,
            Capability.DELETE,
        }
        assert ROLE_CAPABILITIES[Role.FACILITATOR] == {Capability.FACILITATE}
        for capability in Capability:
            assert access.decide(outsider, process, capability) is Decision.HIDDEN
            assert access.decide(admin, process, capability) is Decision.ALLOWED
        # A facilitator of Namur runs no session of Liège, nor one without a territory.
        assert access.can_facilitate(people["facilitator"], in_liege)
        assert not access.can_facilitate(narrow, in_liege)
        assert not access.can_facilitate(narrow, nowhere)
        assert access.decide(narrow, process, Capability.FACILITATE) is Decision.ALLOWED
        assert access.sessions_to_run(narrow, process, [in_liege, nowhere]) == []
        assert access.sessions_to_run(outsider, process, [in_liege]) == []
        assert access.sessions_to_run(admin, process, [in_liege]) == [in_liege]
        # The organiser's index: members see their processes, admins every one.
        other = make_process(slug="other")
        assert access.visible_processes(outsider) == []
        assert access.visible_processes(narrow) == [(process, "facilitator")]
        assert {p.slug for p, _role in access.visible_processes(admin)} == {"assises", "other"}
        assert membership.ownerless([process, other]) == {other.id}


def test_whoever_creates_a_process_owns_it(any_db_app):
    with any_db_app.app_context():
        creator = organizer("creator@example.org")
        process = authoring.create_process(
            creator.email, owner=creator, title="Assises", slug="assises"
        )
        assert access.membership_of(creator, process).role == "owner"
        assert events(process) == [("creator@example.org", "added", "creator@example.org", "owner")]


# -- invitations --------------------------------------------------------------------------


def test_an_invitation_works_once_and_is_recorded(any_db_app):
    with any_db_app.app_context():
        process = make_process()
        owner = organizer("owner@example.org")
        make_member(process.id, owner.id, "owner")
        liege = process.territories[0]
        created = membership.invite(process, owner.email, "facilitator", liege.id, "Ana")
        stored = db.session.get(Invitation, created.invitation.id)
        assert created.token not in stored.token_hash  # only a hash is kept
        assert stored.expires_at - utcnow() > timedelta(days=6, hours=23)
        assert membership.pending_invitations(process) == [stored]

        ana = organizer("ana@example.org")
        joined = membership.accept(created.token, ana)
        assert (joined.role, joined.territory_id) == ("facilitator", liege.id)
        ben = organizer("ben@example.org")
        with pytest.raises(MembershipError) as refused:
            membership.accept(created.token, ben)
        assert refused.value.code == "invalid_invitation"
        assert access.membership_of(ben, process) is None
        assert membership.pending_invitations(process) == []
        assert events(process)[-2:] == [
            ("owner@example.org", "invited", "Ana", "facilitator"),
            ("ana@example.org", "joined", "ana@example.org", "facilitator"),
        ]


def test_expired_withdrawn_and_already_member(any_db_app):
    with any_db_app.app_context():
        process = make_process()
        owner = organizer("owner@example.org")
        make_member(process.id, owner.id, "owner")
        expired = membership.invite(process, owner.email, "co_organizer")
        db.session.get(Invitation, expired.invitation.id).expires_at = utcnow() - timedelta(
            seconds=1
        )
        db.session.commit()
        ana = organizer("ana@example.org")
        with pytest.raises(MembershipError):
            membership.accept(expired.token, ana)
        withdrawn = membership.invite(process, owner.email, "co_organizer")
        membership.withdraw_invitation(process, owner.email, withdrawn.invitation.id)
        with pytest.raises(MembershipError):
            membership.accept(withdrawn.token, ana)
        with pytest.raises(MembershipError):  # once withdrawn, it cannot be withdrawn again
            membership.withdraw_invitation(process, owner.email, withdrawn.invitation.id)
        # An owner following a facilitator's link keeps their role, and the link stays usable.
        for_someone_else = membership.invite(process, owner.email, "facilitator")
        with pytest.raises(MembershipError) as refused:
            membership.accept(for_someone_else.token, owner)
        assert refused.value.code == "already_member"
        assert access.membership_of(owner, process).role == "owner"
        assert membership.valid_invitation(for_someone_else.token) is not None
        assert membership.valid_invitation("x" * 43) is None
        assert membership.valid_invitation(None) is None


def test_the_invitation_lifetime_is_configurable(tmp_path):
    from conftest import make_app

    app = make_app(tmp_path, INVITATION_DAYS=2)
    with app.app_context():
        process = make_process()
        created = membership.invite(process, "", "co_organizer")
        lifetime = created.invitation.expires_at - created.invitation.created_at
        assert timedelta(days=1, hours=23) < lifetime <= timedelta(days=2)


def test_a_link_followed_twice_at_once_makes_one_member(any_db_app):
    app = any_db_app
    with app.app_context():
        process = make_process()
        token = membership.invite(process, "", "co_organizer").token
        ids = [organizer(f"p{i}@example.org").id for i in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def follow(organizer_id: int) -> None:
        with app.app_context():
            account = db.session.get(Organizer, organizer_id)
            barrier.wait(timeout=10)
            try:
                membership.accept(token, account)
                outcomes.append("joined")
            except MembershipError as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=follow, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["invalid_invitation", "joined"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Membership.id))) == 1


def test_roles_territories_and_the_last_owner(any_db_app):
    with any_db_app.app_context():
        process = make_process()
        other = make_process(slug="other")
        owner = organizer("owner@example.org")
        make_member(process.id, owner.id, "owner")
        ana = organizer("ana@example.org")
        ana_membership = make_member(process.id, ana.id, "co_organizer")
        only_owner = access.membership_of(owner, process).id
        for role, territory, code in (
            ("king", None, "bad_role"),
            ("co_organizer", process.territories[0].id, "territory_for_facilitators"),
            ("facilitator", other.territories[0].id, "unknown_territory"),
        ):
            with pytest.raises(MembershipError) as refused:
                membership.change_role(process, owner.email, ana_membership.id, role, territory)
            assert refused.value.code == code
        with pytest.raises(MembershipError) as refused:
            membership.change_role(process, owner.email, only_owner, "co_organizer")
        assert refused.value.code == "last_owner"
        with pytest.raises(MembershipError):
            membership.remove_member(process, owner.email, only_owner)
        with pytest.raises(MembershipError):  # a member of another process is not found here
            membership.remove_member(other, owner.email, ana_membership.id)
        # Ownership handed over: Ana becomes owner, then the first owner may step down.
        membership.change_role(process, owner.email, ana_membership.id, "owner")
        membership.change_role(process, ana.email, only_owner, "facilitator")
        removed = membership.remove_member(process, ana.email, only_owner)
        assert removed.email == "owner@example.org"
        assert [m.organizer.email for m in membership.members(process)] == ["ana@example.org"]
        assert [e[1] for e in events(process)][-3:] == ["role_changed", "role_changed", "removed"]


def test_deleting_a_territory_removes_the_members_limited_to_it(any_db_app):
    """Never widened: a facilitator of a deleted territory does not get every session."""
    with any_db_app.app_context():
        process = make_process()
        territory = process.territories[0]
        ana = organizer("ana@example.org")
        make_member(process.id, ana.id, "facilitator", territory.id)
        membership.invite(process, "", "facilitator", territory.id)
        authoring.delete_territory(territory, confirm=True)
        db.session.expire_all()
        assert access.membership_of(ana, process) is None
        assert membership.pending_invitations(process) == []


# -- the members page and the link --------------------------------------------------------


def test_owner_invites_and_the_link_is_shown_once(app):
    world = build_world(app)
    owner = client_as(app, world.people["owner"])
    page = owner.get("/organize/assises/members").get_data(as_text=True)
    for email in ("owner@", "co_organizer@", "facilitator@", "namur_facilitator@"):
        assert email in page
    assert "outsider@" not in page
    response = owner.post(
        "/organize/assises/members/invitations",
        data={"role": "co_organizer", "territory_id": "", "label": "Ben"},
    )
    assert response.status_code == 302
    page = owner.get("/organize/assises/members").get_data(as_text=True)
    link = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', page).group(1)
    assert "/invite/" in link and "Ben" in page
    again = owner.get("/organize/assises/members").get_data(as_text=True)
    assert link not in again and 'id="invitation-link"' not in again

    # A co-organiser reads the list but has no form to change it.
    co = client_as(app, world.people["co_organizer"]).get("/organize/assises/members")
    assert co.status_code == 200
    assert "members/invitations" not in co.get_data(as_text=True)

    # Refusals are said in words, and nothing changes.
    bad = owner.post("/organize/assises/members/invitations", data={"role": "king", "label": ""})
    assert bad.status_code == 302
    assert "Choose a role" in owner.get("/organize/assises/members").get_data(as_text=True)
    with app.app_context():
        owner_membership = db.session.scalar(
            db.select(Membership).filter_by(organizer_id=world.people["owner"])
        )
    owner.post(f"/organize/assises/members/{owner_membership.id}/remove")
    page = owner.get("/organize/assises/members").get_data(as_text=True)
    assert "keeps at least one owner" in page


def test_following_the_link_without_an_account(app):
    world = build_world(app)
    with app.app_context():
        process = db.session.get(Process, world.ids["process_id"])
        token = membership.invite(process, "owner@example.org", "co_organizer", label="Ben").token
    visitor = client_as(app, None)
    page = visitor.get(f"/invite/{token}").get_data(as_text=True)
    assert "Assises" in page and "Create your account" in page
    refused = visitor.post(
        f"/invite/{token}/register",
        data={"email": "ben@example.org", "password": "short", "confirm": "short"},
    )
    assert refused.status_code == 400 and "at least 10 characters" in refused.get_data(as_text=True)
    taken = visitor.post(
        f"/invite/{token}/register",
        data={"email": "owner@example.org", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
    with app.app_context():
        untouched = db.session.get(Organizer, world.people["owner"])
        assert untouched.password_hash.startswith("pbkdf2:sha256:1000")  # not overwritten
        assert db.session.scalar(db.select(Organizer).filter_by(email="ben@example.org")) is None

    joined = visitor.post(
        f"/invite/{token}/register",
        data={"email": "Ben@Example.org", "name": "Ben", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert joined.status_code == 302 and joined.location.endswith("/organize/assises")
    assert visitor.get("/organize/assises").status_code == 200  # logged in, a co-organiser
    gone = client_as(app, None).get(f"/invite/{token}")
    assert gone.status_code == 404 and "Assises" not in gone.get_data(as_text=True)
    with app.app_context():
        ben = db.session.scalar(db.select(Organizer).filter_by(email="ben@example.org"))
        assert ben.check_password(PASSWORD)
        assert access.membership_of(ben, db.session.get(Process, world.ids["process_id"])).role


def test_following_the_link_logged_in_lands_where_the_role_works(app):
    world = build_world(app)
    with app.app_context():
        process = db.session.get(Process, world.ids["process_id"])
        token = membership.invite(process, "owner@example.org", "facilitator").token
    outsider = client_as(app, world.people["outsider"])
    assert outsider.get("/organize/assises").status_code == 404
    page = outsider.get(f"/invite/{token}").get_data(as_text=True)
    assert "Accept the invitation" in page
    accepted = outsider.post(f"/invite/{token}")
    assert accepted.location.endswith("/facilitate/assises/sessions")
    assert outsider.get("/facilitate/assises/sessions").status_code == 200
    assert outsider.get("/organize/assises").status_code == 403
    # Logged out, accepting leads to the log-in page, which comes back to the link.
    anonymous = client_as(app, None).post(f"/invite/{token}")
    assert anonymous.status_code == 302 and "/login" in anonymous.location


def test_a_member_without_the_capability_gets_a_clear_page_in_their_language(app):
    world = build_world(app)
    facilitator = client_as(app, world.people["facilitator"])
    response = facilitator.get("/organize/assises/settings")
    assert response.status_code == 403
    assert "Ask one of its owners" in response.get_data(as_text=True)
    with facilitator.session_transaction() as cookie:
        cookie["lang"] = "fr"
    french = facilitator.get("/organize/assises/settings").get_data(as_text=True)
    assert "Demandez à l’un de ses propriétaires" in french
    narrow = client_as(app, world.people["namur_facilitator"])
    response = narrow.get(f"/facilitate/session/{world.ids['session_id']}")
    assert response.status_code == 403 and "sessions of your territory" in response.get_data(
        as_text=True
    )
    listed = narrow.get("/facilitate/assises/sessions").get_data(as_text=True)
    assert "Atelier Liège" not in listed  # only the sessions they may run are listed


def test_admins_see_every_process_and_the_index_lists_only_ones_own(app):
    world = build_world(app)
    with app.app_context():
        make_process(slug="orphan")
        admin = organizer("admin@example.org", admin=True)
        admin_id = admin.id
    index = client_as(app, admin_id).get("/organize/").get_data(as_text=True)
    assert "/organize/assises" in index and "/organize/orphan" in index
    assert "no owner yet" in index
    assert client_as(app, admin_id).get("/organize/orphan/members").status_code == 200
    owner_index = client_as(app, world.people["owner"]).get("/organize/").get_data(as_text=True)
    assert "/organize/assises" in owner_index and "orphan" not in owner_index


# -- the command line and the demo --------------------------------------------------------


def test_command_line_admin_members_and_import_owner(app, runner, tmp_path):
    def run(*args: str):
        with app.app_context():
            return runner.invoke(args=list(args))

    with app.app_context():
        organizer("ana@example.org")
        organizer("ben@example.org")
        process = make_process()
        db.session.add(Territory(process_id=process.id, name="Namur"))
        db.session.commit()
    assert "an instance administrator" in run("grant-admin", "ana@example.org").output
    result = run("grant-admin", "nobody@example.org")
    assert result.exit_code != 0 and "No organiser account" in result.output
    ben_in_namur = ("add-member", "assises", "ben@example.org", "--role", "facilitator")
    result = run(*ben_in_namur, "--territory", "Namur")
    assert result.exit_code == 0, result.output
    result = run(*ben_in_namur, "--territory", "Mons")
    assert result.exit_code != 0 and "No territory 'Mons'" in result.output
    exported = tmp_path / "assises.yaml"
    with app.app_context():
        ben = db.session.scalar(db.select(Organizer).filter_by(email="ben@example.org"))
        ana = db.session.scalar(db.select(Organizer).filter_by(email="ana@example.org"))
        ana_id = ana.id
        assert ana.is_admin and not ben.is_admin
        found = access.membership_of(ben, db.session.scalar(db.select(Process)))
        assert found.role == "facilitator" and found.territory.name == "Namur"
        exported.write_text(dump_process(db.session.scalar(db.select(Process))), encoding="utf-8")
    assert run("grant-admin", "ana@example.org", "--revoke").exit_code == 0

    # Replacing the process keeps its members (by territory name); --owner adds one.
    result = run("import-process", str(exported), "--replace", "--owner", "ana@example.org")
    assert result.exit_code == 0, result.output
    assert "Kept 1 of its 1 member(s)" in result.output
    assert "Owner: ana@example.org" in result.output
    with app.app_context():
        replaced = db.session.scalar(db.select(Process))
        roles = {m.organizer.email: m.role for m in membership.members(replaced)}
        assert roles == {"ana@example.org": "owner", "ben@example.org": "facilitator"}
        assert membership.members(replaced)[1].territory.name == "Namur"
        assert not db.session.get(Organizer, ana_id).is_admin
    orphan = tmp_path / "nobody.yaml"
    orphan.write_text(
        exported.read_text(encoding="utf-8").replace("slug: assises", "slug: nobody"),
        encoding="utf-8",
    )
    result = run("import-process", str(orphan))
    assert result.exit_code == 0 and "only instance administrators see it" in result.output
    result = run("import-process", str(orphan), "--owner", "zed@example.org")
    assert result.exit_code != 0 and "create it first" in result.output


def test_the_demo_organiser_owns_the_demo(any_db_app):
    with any_db_app.app_context():
        lines = ensure_demo("organisateur@example.org")
        demo = db.session.scalar(db.select(Process).filter_by(slug=DEMO_SLUG))
        owner = db.session.scalar(db.select(Organizer).filter_by(email="organisateur@example.org"))
        assert access.membership_of(owner, demo).role == "owner"
        assert any("owns the demo process" in line for line in lines)
        # Idempotent; and a database loaded before memberships existed gets its owner.
        assert not any("owns" in line for line in ensure_demo("organisateur@example.org"))
        db.session.execute(db.delete(Membership))
        db.session.commit()
        ensure_demo("organisateur@example.org")
        assert [m.role for m in membership.members(demo)] == ["owner"]
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) > 0


def test_a_deleted_process_takes_its_documents_with_it(app):
    """Someone creating a process later at the same address must not find the old files."""
    world = build_world(app)
    exports = Path(app.config["EXPORTS_DIR"])
    folder = jobs.process_dir(str(exports), world.ids["process_id"])
    assert (folder / world.file_name).exists()
    owner = client_as(app, world.people["owner"])
    assert owner.post("/organize/assises/delete", data={"confirm": "yes"}).status_code == 302
    assert not folder.exists()
    assert list(exports.glob("jobs/*.json")) == []
    outsider = client_as(app, world.people["outsider"])
    created = outsider.post(
        "/organize/new", data={"title": "Mine", "slug": "assises", "language": "en"}
    )
    assert created.status_code == 302
    page = outsider.get("/organize/assises/exports").get_data(as_text=True)
    assert world.file_name not in page


def test_a_facilitator_runs_admission_but_does_not_choose_who_may_vote(app):
    world = build_world(app)
    page_url = f"/facilitate/session/{world.ids['session_id']}/tickets"
    facilitator = client_as(app, world.people["facilitator"]).get(page_url)
    assert facilitator.status_code == 200
    text = facilitator.get_data(as_text=True)
    assert "/expected" in text  # the head count is theirs to set
    assert 'id="btn-admission"' not in text and 'id="btn-issue"' not in text
    co_organizer = client_as(app, world.people["co_organizer"]).get(page_url).get_data(as_text=True)
    assert 'id="btn-admission"' in co_organizer and 'id="btn-issue"' in co_organizer
