"""Command line: `python -m app migrate | seed-demo | create-merchant | api-keys | billing run | webhooks | emails`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence

from app import billing_cli, import_cli
from app.clock import system_clock
from app.config import load_settings
from app.db import Database, ensure_migrated, migrate
from app.enums import EventSource
from app.errors import NotFound, ValidationFailed
from app.formatting import format_datetime
from app.services.accounts import create_merchant
from app.services.api_keys import create_api_key_for_login
from app.services.customers import find_customer
from app.services.demo_data import DEMO_OWNER_EMAIL, has_any_merchant, load_demo_data
from app.services.events import Actor
from app.services.merchants import get_account_details
from app.services.portal_links import issue_link


def _migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()
    database = Database(settings.effective_database_url)
    migrate(database.engine)
    print(f"Database is up to date: {settings.effective_database_url}")
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    settings = load_settings()
    database = Database(settings.effective_database_url)
    with database.transaction() as session:
        if has_any_merchant(session):
            print("The database already has merchants; demo data was not loaded.")
            return 0
        load_demo_data(session=session, password=settings.demo_password, now=system_clock())
    print(f"Demo data loaded. Sign in as {DEMO_OWNER_EMAIL} with the DEMO_PASSWORD.")
    return 0


def _create_merchant(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = Database(settings.effective_database_url)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    try:
        with database.transaction() as session:
            user = create_merchant(session=session, business_name=args.name, email=args.email, password=password)
    except ValidationFailed as error:
        for field, message in error.field_errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"Created merchant {user.merchant_id}; sign in as {user.email}.")
    return 0


def _portal_link(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = Database(settings.effective_database_url)
    ensure_migrated(database.engine)
    with database.transaction() as session:
        matches = find_customer(session=session, key=args.customer, merchant_id=args.merchant)
        if len(matches) != 1:
            if not matches:
                print(f"No customer matches {args.customer!r}.", file=sys.stderr)
                return 1
            print("Customers of several merchants match; choose one with --merchant:", file=sys.stderr)
            for merchant_id, customer_id in matches:
                print(f"  --merchant {merchant_id}   ({customer_id})", file=sys.stderr)
            return 2
        merchant_id, customer_id = matches[0]
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=merchant_id,
            customer_id=customer_id,
            created_by="cli",
            actor=Actor(source=EventSource.MERCHANT),
        )
        time_zone = get_account_details(session=session, merchant_id=merchant_id).time_zone
    if args.json:
        print(
            json.dumps(
                {"id": link.id, "url": link.url, "expires_at": link.expires_at.isoformat(), "customer": customer_id}
            )
        )
    else:
        print(link.url)
        print(f"Valid until {format_datetime(link.expires_at, time_zone=time_zone)} ({link.expires_at.isoformat()})")
    return 0


def _api_keys_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = Database(settings.effective_database_url)
    ensure_migrated(database.engine)
    try:
        with database.transaction() as session:
            merchant_id, created = create_api_key_for_login(session=session, email=args.email, name=args.name)
    except NotFound:
        print(f"No merchant login is {args.email!r}.", file=sys.stderr)
        return 1
    except ValidationFailed as error:
        for field, message in error.field_errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"Created API key {created.key.id} for merchant {merchant_id}; it is shown only now:")
    print(created.secret)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Subscription customer portal tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)
    commands.add_parser("seed-demo", help="load demo merchants into an empty database").set_defaults(handler=_seed_demo)
    create = commands.add_parser("create-merchant", help="create a merchant and its owner login")
    create.add_argument("--name", required=True, help="public business name")
    create.add_argument("--email", required=True, help="owner's login email")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=_create_merchant)
    link = commands.add_parser("portal-link", help="print a new portal link for a customer (URL, then its expiry)")
    link.add_argument("customer", metavar="EMAIL_OR_CUS_ID", help="the customer's email or cus_… id")
    link.add_argument("--merchant", metavar="ID", help="the merchant (acct_…) when several have this email")
    link.add_argument("--json", action="store_true", help="print id, url, expires_at and customer as JSON")
    link.set_defaults(handler=_portal_link)
    keys = commands.add_parser("api-keys", help="secret keys of the REST API").add_subparsers(
        dest="keys", required=True
    )
    create_key = keys.add_parser("create", help="create a secret key; prints it as the last line (shown only once)")
    create_key.add_argument("--email", required=True, help="a login of the merchant the key is for")
    create_key.add_argument("--name", default="", help="what the key is for (shown on Account details)")
    create_key.set_defaults(handler=_api_keys_create)
    billing_cli.add_commands(commands)
    import_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
