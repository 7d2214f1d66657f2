"""`/login` and the `/logout` page for merchant users (signing out itself is `POST /logout`, in `auth.py`)."""

from __future__ import annotations

from fastapi import Request
from nicegui import app, ui

from app.context import AppContext
from app.errors import LoginLocked
from app.services.accounts import authenticate, sign_in_delay
from components.theme import sign_out_form
from pages.actors import client_address
from pages.merchant.auth import (
    HOME,
    USER_KEY,
    new_sign_in_key,
    register_sign_out,
    sign_in,
    sign_out_token,
    site_path,
)
from pages.merchant.scaffold import MerchantPage, merchant_page

INCORRECT = "Email or password is incorrect."


def register(context: AppContext) -> None:
    @ui.page("/login", title="Sign in")
    def login_page(request: Request, redirect_to: str = HOME) -> None:
        target = site_path(redirect_to)
        if app.storage.user.get(USER_KEY):
            ui.navigate.to(target)
            return
        browser_key = new_sign_in_key()
        address = client_address(request)

        def try_login() -> None:
            if not sign_in_button.enabled:  # Enter pressed while a slowed sign-in waits
                return
            error.set_visibility(False)
            if not email.value.strip() or not password.value:
                show_error("Enter your email and password.")
                return
            with context.database.transaction() as session:
                delay = sign_in_delay(session=session, email=email.value, clock=context.clock)
            if delay:  # the account is under attack: every sign-in to it waits (the same for unknown emails)
                sign_in_button.disable()
                ui.timer(delay, check_password, once=True)
                return
            check_password()

        def check_password() -> None:
            sign_in_button.enable()
            try:
                with context.database.transaction() as session:
                    user = authenticate(
                        session=session,
                        email=email.value,
                        password=password.value,
                        client_address=address,
                        clock=context.clock,
                    )
            except LoginLocked as locked:
                show_error(str(locked))
                return
            if user is None:
                password.set_value("")
                show_error(INCORRECT)
                return
            sign_in(context, user, target, browser_key)

        def show_error(message: str) -> None:
            error.set_text(message)
            error.set_visibility(True)

        with (
            ui.element("div").classes("w-full min-h-screen flex items-center justify-center bg-grey-2 q-pa-md"),
            ui.card().classes("w-full max-w-sm q-pa-lg"),
        ):
            ui.label("Sign in to your dashboard").classes("text-h6").props('role="heading" aria-level="1"')
            with ui.column().classes("w-full gap-3"):
                email = ui.input("Email").props("type=email autocomplete=username autofocus outlined").classes("w-full")
                password = (
                    ui.input("Password", password=True, password_toggle_button=True)
                    .props("autocomplete=current-password outlined")
                    .classes("w-full")
                )
                password.on("keydown.enter", try_login)
                error = ui.label().classes("text-negative").props('role="alert"')
                error.set_visibility(False)
                sign_in_button = ui.button("Sign in", on_click=try_login).props("unelevated no-caps").classes("w-full")

    @merchant_page(context, "/logout", title="Sign out")
    def sign_out_page(_page: MerchantPage) -> None:
        """Where a link to `/logout`, or a Sign out from a page of an older session, lands: signing out is a click."""
        ui.label("Sign out of your dashboard in this browser?").classes("text-body1")
        with ui.row().classes("items-center gap-4 q-mt-md"):
            sign_out_form(sign_out_token(context)).props("unelevated no-caps")
            ui.link("Stay signed in", HOME)

    register_sign_out(context)
