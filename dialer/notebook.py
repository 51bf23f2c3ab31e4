"""For people who work in notebooks: a campaign's outcome table as a pandas DataFrame.

    >>> from dialer.notebook import load_outcomes
    >>> from campaigns.report.analysis import answer_rates
    >>> table = load_outcomes("reminders-2026-11-23")
    >>> answer_rates(table, "local_hour")

The columns are `campaigns.report.analysis.OUTCOME_COLUMNS`'s. It reads the store `dialer` uses: the
same DIALER_HOME or REDIS_URL as the runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from dialer.settings import Settings


def load_outcomes(campaign_id: str, settings: Settings | None = None) -> pd.DataFrame:
    """The outcome table of `campaign_id` as a DataFrame, read from the store `dialer` uses
    (settings from the environment unless given). Raises CampaignNotFound for an unknown id."""
    from campaigns.backends import open_services
    from campaigns.report.analysis import outcome_frame
    from campaigns.report.rows import report_rows
    from dialer.clock import SystemClock
    from dialer.errors import CampaignNotFound
    from dialer.settings import Settings

    services = open_services(settings or Settings.from_env(), SystemClock())
    try:
        meta = services.store.get_campaign(campaign_id)
        if meta is None:
            raise CampaignNotFound(f"No campaign {campaign_id!r} in the store: check the id.")
        return outcome_frame(report_rows(services.store.iter_rows(campaign_id), meta.state))
    finally:
        services.close()
