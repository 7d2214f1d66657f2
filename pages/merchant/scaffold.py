"""What every merchant page shares: its opening (sign-in, account details, frame) and the one way it runs actions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar
from urllib.parse import urlencode

from nicegui import run, ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.errors import Conflict, NotFound, Unavailable, ValidationFailed
from app.services.merchants import get_account_details
from app.views import AccountDetails, SignedInUser
from components.theme import merchant_frame
from pages.merchant.auth import require_user, sign_out_token, still_signed_in

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class MerchantPage:
    """One request's signed-in user and the merchant's account details (loaded once), with the app context."""

    context: AppContext
    user: SignedInUser
    account: AccountDetails

    @property
    def merchant_id(self) -> str:
        return self.user.merchant_id

    @property
    def time_zone(self) -> str:
        return self.account.time_zone

    @contextmanager
    def frame(self, title: str) -> Iterator[None]:
        """The dashboard around the page's content, with `title` as its heading."""
        with merchant_frame(
            title,
            business_name=self.account.public_business_name,
            user_email=self.user.email,
            sign_out_token=sign_out_token(self.context),
        ):
            yield

    def not_found(self, title: str, explanation: str, back: tuple[str, str]) -> None:
        """A 404 page in the dashboard frame: what is missing, and a link (text, target) back to where it was."""
        ui.status_code(404)
        with self.frame(title):
            ui.label(explanation).classes("text-body1")
            ui.link(*back)

    async def act(
        self,
        work: Callable[[Session], T],
        *,
        then: Callable[[T], None] | None = None,
        done: str = "",
        not_found: str = "This no longer exists.",
        on_invalid: Callable[[Mapping[str, str]], None] | None = None,
        on_conflict: Callable[[], object] | None = None,
        buttons: tuple[ui.button, ...] = (),
    ) -> None:
        """Run `work` in one transaction off the event loop, then hand its result to `then` and say `done`.

        `buttons` are disabled meanwhile, so a double click acts once. Domain errors become messages: field errors
        go to `on_invalid` when given (else they are notified), a missing object is `not_found`, a conflict goes to
        `on_conflict` when given, and an unavailable database says nothing was saved.

        Nothing runs once the page's session is no longer signed in as its user (signed out in another tab): the
        browser is sent to sign in, and back to this page afterwards.
        """
        if any(not button.enabled for button in buttons):
            return
        if not still_signed_in(self.user):
            ui.notify("You have signed out. Sign in again to continue.", type="warning")
            ui.navigate.to(f"/login?{urlencode({'redirect_to': _page_address()})}")
            return
        for button in buttons:
            button.disable()
        failure: ValidationFailed | NotFound | Conflict | Unavailable | None = None
        try:
            outcome = await run.io_bound(self._in_transaction, work)
        except (ValidationFailed, NotFound, Conflict, Unavailable) as error:
            failure = error
        finally:
            for button in buttons:
                if not button.is_deleted:
                    button.enable()
        if failure is not None:  # explained after the buttons are back, so a handler may switch them off again
            _explain(failure, not_found=not_found, on_invalid=on_invalid, on_conflict=on_conflict)
            return
        if outcome is None:  # NiceGUI did not run the work: the app is shutting down
            return
        if then is not None:
            then(outcome[0])
        if done:
            ui.notify(done, type="positive")

    def _in_transaction(self, work: Callable[[Session], T]) -> tuple[T]:
        with self.context.database.transaction() as session:
            return (work(session),)


def _explain(
    failure: ValidationFailed | NotFound | Conflict | Unavailable,
    *,
    not_found: str,
    on_invalid: Callable[[Mapping[str, str]], None] | None,
    on_conflict: Callable[[], object] | None,
) -> None:
    if isinstance(failure, ValidationFailed):
        if on_invalid is None:
            ui.notify(" ".join(failure.field_errors.values()), type="warning")
        else:
            on_invalid(failure.field_errors)
            ui.notify("Check the highlighted fields.", type="warning")
    elif isinstance(failure, NotFound):
        ui.notify(not_found, type="warning")
    elif isinstance(failure, Conflict) and on_conflict is not None:
        on_conflict()
    else:  # a conflict nobody resolves, or an unavailable database (rolled back: the page keeps its input)
        ui.notify(str(failure), type="negative" if isinstance(failure, Unavailable) else "warning")


PageBody = Callable[Concatenate[MerchantPage, P], None]


def merchant_page(
    context: AppContext, path: str, *, title: str, framed: bool = True
) -> Callable[[PageBody[P]], PageBody[P]]:
    """`@ui.page(path)` for a dashboard page whose body gets the `MerchantPage` first, then the route's parameters.

    A visitor whose session names no user is sent to sign in. The body runs inside the frame with `title` as its
    heading; with `framed=False` it opens `page.frame(...)` itself (a heading that depends on what it loads, a 404
    page) or shows no frame at all.
    """

    def decorate(body: PageBody[P]) -> PageBody[P]:
        signature = inspect.signature(body, eval_str=True)
        route_parameters = list(signature.parameters.values())[1:]

        @functools.wraps(body)
        def page(*args: P.args, **kwargs: P.kwargs) -> None:
            user = require_user(context)
            if user is None:
                return
            with context.database.transaction() as session:
                account = get_account_details(session=session, merchant_id=user.merchant_id)
            ui.on_exception(_explain_unavailable)
            merchant = MerchantPage(context, user, account)
            with merchant.frame(title) if framed else nullcontext():
                body(merchant, *args, **kwargs)

        # NiceGUI and FastAPI read the route's parameters from the signature: the body's, without the page.
        page.__signature__ = signature.replace(parameters=route_parameters)  # type: ignore[attr-defined]
        ui.page(path, title=title)(page)
        return body

    return decorate


def _page_address() -> str:
    """The path and query this page was opened with."""
    request = ui.context.client.request
    return request.url.path + (f"?{request.url.query}" if request.url.query else "") if request else "/"


def _explain_unavailable(exception: Exception) -> None:
    """Any dashboard action that hit an unavailable database says so (its transaction was rolled back)."""
    if isinstance(exception, Unavailable):
        ui.notify(str(exception), type="negative")
