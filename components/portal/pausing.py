"""Pausing in the portal: what a chosen pause means in dates, the Pause dialog, and Resume / Don't pause."""

from __future__ import annotations

from nicegui import ui

from app.enums import PauseDuration, SubscriptionStatus
from app.periods import add_interval
from app.views import SubscriptionView
from components.portal.base import Portal
from components.portal.text import PortalText


def pause_lines(t: PortalText, subscription: SubscriptionView) -> list[str]:
    """When the pause begins (or began) and when billing resumes, in the customer's words."""
    if subscription.pause_starts_at is None:
        return []
    resumes = subscription.pause_resumes_at
    if subscription.status == SubscriptionStatus.PAUSED:
        if resumes is None:
            return [t("Paused until you resume it. You won't be charged while it is paused.")]
        return [t("Paused until {date}. Billing resumes then with a new period.", date=t.date(resumes))]
    starts = t.date(subscription.pause_starts_at)
    if resumes is None:
        return [t("Pauses on {date} until you resume it.", date=starts)]
    return [t("Pauses on {date}. Billing resumes on {resume_date}.", date=starts, resume_date=t.date(resumes))]


def pause_badge_text(t: PortalText, subscription: SubscriptionView) -> str | None:
    """The badge of a pause that has not begun yet ("Pauses Dec 24"); None otherwise."""
    if not subscription.pause_scheduled or subscription.pause_starts_at is None:
        return None
    return t("Pauses {date}", date=t.date(subscription.pause_starts_at))


def can_pause(portal: Portal, subscription: SubscriptionView) -> bool:
    settings = portal.view.settings
    return (
        settings.pause_subscriptions
        and bool(settings.pause_durations)
        and subscription.status == SubscriptionStatus.ACTIVE
        and not subscription.cancel_at_period_end
        and subscription.pause_starts_at is None
    )


def resume_button(portal: Portal, subscription: SubscriptionView) -> None:
    """ "Resume" for a paused subscription, "Don't pause" for a pause that has not begun."""
    t = portal.text
    paused = subscription.status == SubscriptionStatus.PAUSED
    button = portal.primary_button(t("Resume subscription") if paused else t("Don't pause"))

    async def resume() -> None:
        done, _ = await portal.act(lambda: portal.actions.resume_subscription(subscription.id), buttons=(button,))
        if done:
            portal.notify(
                t("Your subscription is active again. Its new period starts today.")
                if paused
                else t("Your subscription will not be paused.")
            )
            portal.changed()

    button.on_click(resume)


def _option_label(t: PortalText, subscription: SubscriptionView, duration: PauseDuration) -> str:
    periods = duration.periods
    if periods is None:
        return t("Until I resume it")
    price = subscription.price
    resumes = add_interval(subscription.current_period_end, price.interval, price.interval_count * periods)
    text = t("For 1 billing period") if periods == 1 else t("For {count} billing periods", count=periods)
    return t("{duration}: billing resumes on {date}", duration=text, date=t.date(resumes))


def pause_dialog(portal: Portal, subscription: SubscriptionView) -> None:
    t = portal.text
    durations = portal.view.settings.pause_durations
    with portal.dialog(t("Pause {product}?", product=subscription.price.product_name)) as dialog:
        ui.label(
            t(
                "You keep access until {date}, the end of the period you paid for. From then on you won't be charged "
                "until billing resumes.",
                date=t.date(subscription.current_period_end),
            )
        ).classes("text-body1")
        question = t("How long do you want to pause?")
        ui.label(question).classes("text-subtitle2")
        choice = ui.radio(
            {duration.value: _option_label(t, subscription, duration) for duration in durations},
            value=durations[0].value,
        ).props("dense")
        choice.props["aria-label"] = question
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Go back"), on_click=dialog.close).props("flat no-caps color=primary")
            confirm = portal.primary_button(t("Pause subscription")).mark("confirm-pause")

    async def pause() -> None:
        done, _ = await portal.act(
            lambda: portal.actions.pause_subscription(subscription.id, str(choice.value)), buttons=(confirm,)
        )
        if done:
            confirm.disable()
            dialog.close()
            portal.notify(t("Your subscription will pause on {date}.", date=t.date(subscription.current_period_end)))
            portal.changed()

    confirm.on_click(pause)
